"""Resolve steps a run logged more than once: a resumed run's later values replace the earlier ones.

When a run restarts from a checkpoint it logs steps it had already logged. The rule every format shares: within one
metric, in the order the points were logged, a point is kept only if every later point has a larger step. So when
the step falls back to `s`, everything logged earlier at `s` or later is replaced by what was logged after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from losscli.frame import Columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Table = TypeVar("Table", "pd.DataFrame", Columns)


def resolve_restarts(table: Table) -> tuple[Table, int]:
    """Drop points replaced by a later log of the same step; return the table and how many were replaced.

    `table` (a DataFrame or `Columns`) must be in logged order. The result is grouped by metric (in first-seen
    order), each metric in logged order.
    """
    if isinstance(table, Columns):
        keep = kept_rows(table.metric, table.step)
        return table.take(keep), _replaced(table.metric, table.step, table.value, keep)
    if table.empty:
        return table, 0
    metric, step = table["metric"].to_numpy(dtype=object), table["step"].to_numpy()
    keep = kept_rows(metric, step)
    return table.iloc[keep].reset_index(drop=True), _replaced(metric, step, table["value"].to_numpy(), keep)


def _replaced(metric: np.ndarray, step: np.ndarray, value: np.ndarray, keep: np.ndarray) -> int:
    """Dropped points whose value differs from the one kept for their step: an exact repeat (the Trainer logs
    the epoch again with each evaluation) replaces nothing."""
    import numpy as np

    dropped = np.setdiff1d(np.arange(len(step)), keep, assume_unique=True)
    if len(dropped) == 0:
        return 0
    kept = {(m, s): v for m, s, v in zip(metric[keep], step[keep], value[keep])}
    return sum(1 for i in dropped if kept.get((metric[i], step[i])) != value[i])


def restart_warning(where: object, replaced: int) -> str:
    """The one-line warning every reader gives for points a restart replaced."""
    points = "point" if replaced == 1 else "points"
    return f"{where}: {replaced} {points} logged again after a restart; the later values are kept"


def kept_rows(metric: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Row positions to keep, grouped by metric in first-seen order, each group in logged order."""
    import numpy as np

    if len(steps) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, codes = np.unique(metric, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))  # metric codes renumbered by first appearance
    codes = rank[codes.reshape(-1)]
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    steps_sorted = steps[order]
    keep_sorted = np.ones(len(order), dtype=bool)
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends):
        block = steps_sorted[start:end]
        if len(block) < 2 or bool(np.all(block[1:] > block[:-1])):
            continue
        later_min = np.minimum.accumulate(block[::-1])[::-1]
        next_min = np.r_[later_min[1:], np.iinfo(np.int64).max]
        keep_sorted[start:end] = block < next_min
    return order[keep_sorted]
