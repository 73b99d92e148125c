"""The one rule for steps a run logged more than once: a resumed run replaces, a repeated log does not.

Every reader applies it to its points in logged order, metric by metric. Each time a metric's step falls back,
the fall is one of four kinds, told apart by what the points after it hold:

- **Resumed.** A run restarted from a checkpoint logs steps it had logged already (some step after the fall was
  logged before it), with the epoch it had then. What was logged before at that step or later is replaced by
  what is logged after: the resumed run is the one whose checkpoints and model are kept. Points replaced by a
  different value are counted and warned about; an identical value replaces nothing.
- **Started over.** The same, falling to the first step the metric logged or below: a second run from the start
  logged into the same file. The later run replaces the earlier one, as a resume does.
- **Step count restarted.** The step falls back while the epoch logged with the points goes on (a step counter
  that counts batches within the epoch, say). The later points replace the earlier ones as for a resume: on a
  step axis they cannot be told apart.
- **Out of order.** No step after the fall repeats one logged before (a writer that flushed two points in the
  wrong order): nothing is logged again, so nothing is replaced; the points are kept in step order.

Only a resume is what a restart is meant to be. Every fall is handed over as data (`Restarts.falls`, and in the
run's meta as `restart_meta` gives it), so that the analysis can report steps that go backwards without reading
a message, and tell a resume at an epoch boundary.

A point logged again at the same step without the step falling back is **repeated**, not a restart: the HF
Trainer logs `epoch` with the train loss and again with each evaluation, and `trainer.evaluate()` after
`trainer.train()` evaluates once more at the final step (the best checkpoint, with `load_best_model_at_end`).
The first value at a step is kept (it is the model as it was at that step) and a different later one is only
noted.

The result comes grouped by metric (numbered in first-seen order), each metric in strictly increasing step order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from losscli.frame import EPOCH, Columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Table = TypeVar("Table", "pd.DataFrame", Columns)

RESUMED = "resumed"
STARTED_OVER = "started over"
COUNT_RESTARTED = "step count restarted"
OUT_OF_ORDER = "out of order"
_EPOCH_TOLERANCE = 1e-6  # numerical: epochs are often stored as float32; "goes on" must beat their rounding


@dataclass(frozen=True)
class Fall:
    """One time a metric's step fell back: from `before` to `after`, of which kind (the module docstring)."""

    kind: str
    before: int
    after: int
    metric: str = ""
    epoch_before: float = math.nan  # the epoch logged with the points on either side, when known
    epoch_after: float = math.nan


@dataclass(frozen=True)
class Restarts:
    """What the rule found in one run's points."""

    replaced: int = 0  # points replaced by a different value (or by nothing) after the step fell back
    repeated: int = 0  # points logged again at the same step with a different value; the first was kept
    fallbacks: int = 0  # times a metric's step fell back
    # (step before, step after) of the first fall in logged order that replaced points (not out of order)
    first_fallback: tuple[int, int] | None = None
    falls: tuple[Fall, ...] = ()  # every fall, in logged order within each metric
    out_of_order: int = 0  # falls out of order (their points are all kept)


@dataclass(frozen=True)
class Resolved:
    """`resolve_codes`' answer: the rows kept, in output order, and what was found."""

    order: np.ndarray | None  # row numbers kept, in output order; None: every row, as it is
    step: np.ndarray  # the kept rows' steps
    counts: np.ndarray  # kept rows per code
    restarts: Restarts


def resolve_codes(
    code: np.ndarray,
    *,
    step: np.ndarray,
    value: np.ndarray,
    epoch: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> Resolved:
    """The rule on arrays in logged order whose metric `code`s (small ints) are numbered in first-seen order.

    `epoch` is each row's epoch (NaN where unknown), `names` each code's metric name; both only describe the
    falls. The common case, every metric's steps strictly rising, costs one stable sort by code and one
    comparison.
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
    epochs = None if epoch is None else epoch[rows]
    pieces = []
    replaced = repeated = out_of_order = 0
    falls: list[Fall] = []
    first: tuple[int, int, int] | None = None  # (row in logged order, step before, step after)
    for c, (start, end) in enumerate(zip(starts.tolist(), (starts + counts).tolist())):
        if end - start < 2 or rising[start : end - 1].all():
            pieces.append(np.arange(start, end))
            continue
        block = _resolve_block(steps[start:end], values[start:end], None if epochs is None else epochs[start:end])
        pieces.append(start + block.kept)
        replaced, repeated = replaced + block.replaced, repeated + block.repeated
        out_of_order += block.out_of_order
        name = names[c] if names is not None and c < len(names) else ""
        falls.extend(Fall(f.kind, f.before, f.after, name, f.epoch_before, f.epoch_after) for f in block.falls)
        if block.first_fall is None:
            continue
        at = int(rows[start + block.first_fall])
        if first is None or at < first[0]:
            first = (at, int(steps[start + block.first_fall - 1]), int(steps[start + block.first_fall]))
    kept = rows[np.concatenate(pieces)]
    restarts = Restarts(
        replaced,
        repeated,
        len(falls),
        None if first is None else (first[1], first[2]),
        tuple(falls),
        out_of_order,
    )
    return Resolved(kept, step[kept], np.bincount(code[kept], minlength=codes), restarts)


@dataclass(frozen=True)
class _Block:
    """What the restart rule keeps of one metric's points whose step falls back."""

    kept: np.ndarray  # indices into the block, in output order
    replaced: int
    repeated: int
    out_of_order: int
    falls: tuple[Fall, ...]
    first_fall: int | None  # index in the block of the first point after a fall that replaces (not out of order)


def _resolve_block(block: np.ndarray, values: np.ndarray, epochs: np.ndarray | None) -> _Block:
    """One metric's points in logged order (whose step falls back at least once): which to keep, in what order."""
    import numpy as np

    falls_at = np.flatnonzero(block[1:] < block[:-1]) + 1
    kinds = _kinds(block, falls_at, epochs)
    splits = np.asarray([f for f, k in zip(falls_at.tolist(), kinds) if k != OUT_OF_ORDER], dtype=np.int64)
    back = np.zeros(len(block), dtype=bool)
    back[splits] = True
    segment = np.cumsum(back)  # a new segment at each fall that is not out of order
    seg_first = np.concatenate(([0], splits))
    later_min = np.minimum.accumulate(block[::-1])[::-1]
    # a point survives the falls after it when everything logged in later segments stands above its step
    limit = np.concatenate((later_min[seg_first[1:]], [np.iinfo(np.int64).max]))
    survives = block < limit[segment]
    candidates = np.flatnonzero(survives)
    candidates = candidates[np.argsort(block[candidates], kind="stable")]  # out-of-order points into place
    sorted_steps = block[candidates]
    again = np.concatenate(([False], sorted_steps[1:] == sorted_steps[:-1]))  # the first value at a step stays
    kept = candidates[~again]
    kept_steps, kept_values = block[kept], values[kept]
    # the value kept at each dropped point's step (the first one logged at it), if any
    where = np.minimum(np.searchsorted(kept_steps, block), max(len(kept_steps) - 1, 0))
    has = kept_steps[where] == block if len(kept_steps) else np.zeros(len(block), dtype=bool)
    differs = ~has | (kept_values[where] != values)
    repeat = np.zeros(len(block), dtype=bool)
    repeat[candidates[again]] = True
    falls = tuple(
        Fall(
            kind,
            int(block[f - 1]),
            int(block[f]),
            epoch_before=math.nan if epochs is None else float(epochs[f - 1]),
            epoch_after=math.nan if epochs is None else float(epochs[f]),
        )
        for f, kind in zip(falls_at.tolist(), kinds)
    )
    return _Block(
        kept=kept,
        replaced=int((~survives & differs).sum()),
        repeated=int((repeat & differs).sum()),
        out_of_order=sum(k == OUT_OF_ORDER for k in kinds),
        falls=falls,
        first_fall=int(splits[0]) if len(splits) else None,
    )


def _kinds(block: np.ndarray, falls_at: np.ndarray, epochs: np.ndarray | None) -> list[str]:
    """The kind of each fall (module docstring), from the steps and epochs around it."""
    import numpy as np

    kinds = []
    ends = np.r_[falls_at[1:], len(block)]
    for f, end in zip(falls_at.tolist(), ends.tolist()):
        before = block[:f]
        after = block[f:end]
        if epochs is not None and np.isfinite(epochs[f]) and np.isfinite(epochs[f - 1]):
            tolerance = _EPOCH_TOLERANCE * max(1.0, abs(float(epochs[f - 1])))
            if epochs[f] > epochs[f - 1] + tolerance:
                kinds.append(COUNT_RESTARTED)
                continue
        if not np.isin(after[after <= block[f - 1]], before).any():
            kinds.append(OUT_OF_ORDER)
        elif block[f] <= before.min():
            kinds.append(STARTED_OVER)
        else:
            kinds.append(RESUMED)
    return kinds


def resolve_restarts(table: Table) -> tuple[Table, Restarts]:
    """The rule on a table (a DataFrame or `Columns`) in logged order: the rows kept, grouped by metric in
    first-seen order, and what was found. The epoch of each row, which tells a step count that restarted from
    a resume, is the table's epoch column, else the last `train/epoch` value logged before the row."""
    if isinstance(table, Columns):
        code, names = first_seen(table.metric)
        epoch = logged_epochs(code, value=table.value, epoch=table.epoch, epoch_code=_index(names, EPOCH))
        resolved = resolve_codes(code, step=table.step, value=table.value, epoch=epoch, names=names)
        return (table if resolved.order is None else table.take(resolved.order)), resolved.restarts
    if table.empty:
        return table, Restarts()
    code, names = first_seen(table["metric"].to_numpy(dtype=object))
    value = table["value"].to_numpy()
    epoch = logged_epochs(code, value=value, epoch=table["epoch"].to_numpy(), epoch_code=_index(names, EPOCH))
    resolved = resolve_codes(code, step=table["step"].to_numpy(), value=value, epoch=epoch, names=names)
    if resolved.order is None:
        return table.reset_index(drop=True), resolved.restarts
    return table.iloc[resolved.order].reset_index(drop=True), resolved.restarts


def _index(names: list[str], name: str) -> int | None:
    return names.index(name) if name in names else None


def logged_epochs(
    code: np.ndarray, *, value: np.ndarray, epoch: np.ndarray | None, epoch_code: int | None
) -> np.ndarray | None:
    """Each row's epoch, in logged order: the epoch column where it has values, else the last value of the epoch
    metric (`epoch_code`) logged at or before the row; None when neither is known."""
    import numpy as np

    if epoch is not None and np.isfinite(epoch).any():
        return epoch.astype(np.float64)
    if epoch_code is None:
        return None
    is_epoch = code == epoch_code
    index = np.where(is_epoch, np.arange(len(code)), -1)
    last = np.maximum.accumulate(index)
    out = np.where(last >= 0, value[np.maximum(last, 0)], np.nan).astype(np.float64)
    return out


def first_seen(names: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A small-int code per name, numbered in the order the names first appear, and the names in that order."""
    import numpy as np

    if not len(names):
        return np.zeros(0, dtype=np.int64), []
    numbers: dict[object, int] = {}
    codes = np.fromiter((numbers.setdefault(n, len(numbers)) for n in names.tolist()), np.int64, len(names))
    return codes, [str(n) for n in numbers]


def restart_meta(found: Restarts) -> dict[str, Any]:
    """What the rule found, for a run's `meta`: `step_falls`, every distinct fall as
    `{kind, metric, from_step, to_step, from_epoch, to_epoch}` (empty dict when the steps never fell back)."""
    if not found.falls:
        return {}
    seen: dict[tuple[str, str, int, int, float], dict[str, Any]] = {}
    for f in found.falls:
        # a per-epoch step counter falls from and to the same steps every epoch: the epoch tells those falls apart
        key = (f.kind, f.metric, f.before, f.after, round(f.epoch_before, 6) if math.isfinite(f.epoch_before) else -1.0)
        if key not in seen:
            seen[key] = {
                "kind": f.kind,
                "metric": f.metric,
                "from_step": f.before,
                "to_step": f.after,
                "from_epoch": f.epoch_before if math.isfinite(f.epoch_before) else None,
                "to_epoch": f.epoch_after if math.isfinite(f.epoch_after) else None,
            }
    return {"step_falls": list(seen.values())}


def restart_messages(where: object, *, found: Restarts) -> tuple[list[str], list[str]]:
    """The warnings and notes every reader gives for what the rule found."""
    warnings: list[str] = []
    notes: list[str] = []
    if found.replaced:
        points = "point" if found.replaced == 1 else "points"
        back = ""
        if found.first_fallback is not None:
            before, after = found.first_fallback
            replacing = found.fallbacks - found.out_of_order
            times = "" if replacing <= 1 else f", {replacing} times in all"
            back = f" (the step goes back from {before} to {after}{times})"
        warnings.append(
            f"{where}: {found.replaced} {points} logged again after a restart{back}; the later values are kept"
        )
    if found.out_of_order:
        first = next(f for f in found.falls if f.kind == OUT_OF_ORDER)
        times = "once" if found.out_of_order == 1 else f"{found.out_of_order} times"
        notes.append(
            f"steps logged out of order {times} (step {first.after} after step {first.before}); nothing was "
            "logged again, so every point is kept, in step order"
        )
    if found.repeated:
        points = "point was" if found.repeated == 1 else "points were"
        notes.append(
            f"{found.repeated} {points} logged a second time at the same step with another value (an evaluation "
            "run again after training, say); the first value at each step is kept"
        )
    return warnings, notes
