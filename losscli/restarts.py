"""The one rule for steps a run logged more than once: a resumed run replaces, a repeated log does not.

Every reader applies it to its points in logged order, metric by metric:

- **Resumed.** When a metric's step falls back (a run restarted from a checkpoint logs steps it had logged
  already), what was logged before at that step or later is replaced by what is logged after: the resumed run is
  the one whose checkpoints and model are kept. Points replaced by a different value are counted and warned
  about; an identical value replaces nothing.
- **Repeated.** A point logged again at the same step without the step falling back is not a restart: the HF
  Trainer logs `epoch` with the train loss and again with each evaluation, and `trainer.evaluate()` after
  `trainer.train()` evaluates once more at the final step (the best checkpoint, with `load_best_model_at_end`).
  The first value at a step is kept (it is the model as it was at that step) and a different later one is only
  noted.

The result comes grouped by metric (numbered in first-seen order), each metric in logged order, which after the
rule is also strictly increasing step order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from losscli.frame import Columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Table = TypeVar("Table", "pd.DataFrame", Columns)


@dataclass(frozen=True)
class Restarts:
    """What the rule found in one run's points."""

    replaced: int = 0  # points replaced by a different value (or by nothing) after the step fell back
    repeated: int = 0  # points logged again at the same step with a different value; the first was kept
    fallbacks: int = 0  # times a metric's step fell back
    first_fallback: tuple[int, int] | None = None  # (step before, step after) of the first fallback in logged order


@dataclass(frozen=True)
class Resolved:
    """`resolve_codes`' answer: the rows kept, in output order, and what was found."""

    order: np.ndarray | None  # row numbers kept, in output order; None: every row, as it is
    step: np.ndarray  # the kept rows' steps
    counts: np.ndarray  # kept rows per code
    restarts: Restarts


def resolve_codes(code: np.ndarray, *, step: np.ndarray, value: np.ndarray) -> Resolved:
    """The rule on arrays in logged order whose metric `code`s (small ints) are numbered in first-seen order.

    The common case, every metric's steps strictly rising, costs one stable sort by code and one comparison.
    """
    import numpy as np

    if not len(step):
        return Resolved(None, step, np.zeros(0, dtype=np.int64), Restarts())
    codes = int(code.max()) + 1
    grouped = codes == 1 or bool((code[1:] >= code[:-1]).all())  # a reader that built them grouped already
    order = None if grouped else np.argsort(code, kind="stable")
    steps = step if order is None else step[order]
    counts = np.bincount(code, minlength=codes)
    starts = np.cumsum(counts) - counts
    rising = steps[1:] > steps[:-1]
    rising[starts[1:] - 1] = True  # a new metric may start lower
    if rising.all():
        return Resolved(order, steps, counts, Restarts())
    rows = np.arange(len(step)) if order is None else order
    values = value[rows]
    keep = np.ones(len(rows), dtype=bool)
    replaced = repeated = fallbacks = 0
    first: tuple[int, int, int] | None = None  # (row in logged order, step before, step after)
    for start, end in zip(starts.tolist(), (starts + counts).tolist()):
        if end - start < 2 or rising[start : end - 1].all():
            continue
        block_keep, found = _resolve_block(steps[start:end], values[start:end])
        keep[start:end] = block_keep
        replaced, repeated, fallbacks = replaced + found[0], repeated + found[1], fallbacks + found[2]
        if found[3] is not None:
            at = int(rows[start + found[3]])
            if first is None or at < first[0]:
                first = (at, int(steps[start + found[3] - 1]), int(steps[start + found[3]]))
    kept = rows[keep]
    restarts = Restarts(replaced, repeated, fallbacks, None if first is None else (first[1], first[2]))
    return Resolved(kept, steps[keep], np.bincount(code[kept], minlength=codes), restarts)


def _resolve_block(block: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int | None]]:
    """One metric's points in logged order: which to keep, and (replaced, repeated, fallbacks, first fallback)."""
    import numpy as np

    back = block[1:] < block[:-1]
    segment = np.concatenate(([0], np.cumsum(back)))  # a new segment where the step falls back
    seg_first = np.flatnonzero(np.concatenate(([True], back)))
    later_min = np.minimum.accumulate(block[::-1])[::-1]
    # a point survives the resumes after it when every later segment starts above its step
    limit = np.concatenate((later_min[seg_first[1:]], [np.iinfo(np.int64).max]))
    survives = block < limit[segment]
    # among survivors (a prefix of each segment, steps not falling), a step met again is a repeat
    again = np.concatenate(([False], (block[1:] == block[:-1]) & survives[:-1]))
    keep = survives & ~again
    kept_steps, kept_values = block[keep], values[keep]
    # the value kept at each dropped point's step (the first one logged at it), if any
    where = np.minimum(np.searchsorted(kept_steps, block), max(len(kept_steps) - 1, 0))
    has = kept_steps[where] == block if len(kept_steps) else np.zeros(len(block), dtype=bool)
    differs = ~has | (kept_values[where] != values)
    replaced = int((~survives & differs).sum())
    repeated = int((again & differs).sum())
    falls = np.flatnonzero(back)
    return keep, (replaced, repeated, len(falls), int(falls[0]) + 1 if len(falls) else None)


def resolve_restarts(table: Table) -> tuple[Table, Restarts]:
    """The rule on a table (a DataFrame or `Columns`) in logged order: the rows kept, grouped by metric in
    first-seen order, and what was found."""
    if isinstance(table, Columns):
        resolved = resolve_codes(first_seen_codes(table.metric), step=table.step, value=table.value)
        return (table if resolved.order is None else table.take(resolved.order)), resolved.restarts
    if table.empty:
        return table, Restarts()
    metric = table["metric"].to_numpy(dtype=object)
    resolved = resolve_codes(first_seen_codes(metric), step=table["step"].to_numpy(), value=table["value"].to_numpy())
    if resolved.order is None:
        return table.reset_index(drop=True), resolved.restarts
    return table.iloc[resolved.order].reset_index(drop=True), resolved.restarts


def first_seen_codes(names: np.ndarray) -> np.ndarray:
    """A small-int code per name, numbered in the order the names first appear."""
    import numpy as np

    if not len(names):
        return np.zeros(0, dtype=np.int64)
    numbers: dict[object, int] = {}
    return np.fromiter((numbers.setdefault(n, len(numbers)) for n in names.tolist()), np.int64, len(names))


def restart_messages(where: object, *, found: Restarts) -> tuple[list[str], list[str]]:
    """The warnings and notes every reader gives for what the rule found."""
    warnings: list[str] = []
    notes: list[str] = []
    if found.replaced:
        points = "point" if found.replaced == 1 else "points"
        back = ""
        if found.first_fallback is not None:
            before, after = found.first_fallback
            times = "" if found.fallbacks == 1 else f", {found.fallbacks} times in all"
            back = f" (the step goes back from {before} to {after}{times})"
        warnings.append(
            f"{where}: {found.replaced} {points} logged again after a restart{back}; the later values are kept"
        )
    if found.repeated:
        points = "point was" if found.repeated == 1 else "points were"
        notes.append(
            f"{found.repeated} {points} logged a second time at the same step with another value (an evaluation "
            "run again after training, say); the first value at each step is kept"
        )
    return warnings, notes
