"""Curves thinned for display (sparklines, plots); the analysis always uses every point.

Thinning keeps, in each of `max_points / 2` equal step buckets, the lowest and the highest value, so that drops
and spikes stay visible however long the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.frame import EVAL_LOSS, LEARNING_RATE, TRAIN_LOSS

if TYPE_CHECKING:
    from losscli.frame import Run

DISPLAY_METRICS = (TRAIN_LOSS, EVAL_LOSS, LEARNING_RATE)


def display_curves(run: Run, max_points: int = 2000) -> dict[str, dict[str, list[Any]]]:
    import numpy as np

    curves: dict[str, dict[str, list[Any]]] = {}
    for metric in DISPLAY_METRICS:
        rows = run.series(metric)
        if len(rows) == 0:
            continue
        step, value, epoch = rows.step.astype(np.float64), rows.value, rows.epoch
        ok = np.isfinite(value)
        step, value, epoch = step[ok], value[ok], epoch[ok]
        if len(step) > max_points:
            keep = _min_max_indices(step, value, max_points // 2)
            step, value, epoch = step[keep], value[keep], epoch[keep]
        curves[metric] = {
            "step": step.tolist(),
            "value": value.tolist(),
            "epoch": [None if e != e else e for e in epoch.tolist()],
        }
    return curves


def _min_max_indices(step: Any, value: Any, buckets: int) -> Any:
    import numpy as np

    edges = np.linspace(step[0], step[-1], buckets + 1)
    which = np.clip(np.searchsorted(edges, step, side="right") - 1, 0, buckets - 1)
    order = np.lexsort((value, which))  # by bucket, then by value
    starts = np.searchsorted(which[order], np.arange(buckets), side="left")
    ends = np.searchsorted(which[order], np.arange(buckets), side="right")
    filled = ends > starts
    keep = np.concatenate([order[starts[filled]], order[ends[filled] - 1]])
    return np.unique(keep)


BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_BLOCKS = "_.-~=+*#"  # for a console that cannot print the blocks (an ASCII or Latin-1 terminal)


def sparkline(values: list[float], width: int = 24, *, blocks: str = BLOCKS) -> str:
    """A sparkline of `values`, averaged into `width` cells, drawn with the 8 `blocks` (lowest first)."""
    if not values:
        return ""
    n = len(values)
    cells = []
    for i in range(min(width, n)):
        lo, hi = i * n // min(width, n), (i + 1) * n // min(width, n)
        chunk = values[lo:hi] or [values[lo]]
        cells.append(sum(chunk) / len(chunk))
    low, high = min(cells), max(cells)
    span = high - low
    if span <= 0:
        return blocks[0] * len(cells)
    return "".join(blocks[min(7, int((c - low) / span * 7.999))] for c in cells)
