"""Turn a W&B history table (one row per `wandb.log` call) into the run frame, for run folders and exports.

The same rules apply whether the rows come from a `.wandb` transaction log or from a `run.history()` export,
so one run read both ways gives the same frame:

- **Step.** `train/global_step` (the HF Trainer's step, which it tells W&B to plot against) or Lightning's
  `trainer/global_step` when the run logged one, else `_step` (W&B's own counter of `log` calls), else the row
  number. Rows without that step are left out.
- **Epoch.** `train/epoch` (or `epoch`) on a row fills the row's epoch column, and is also the `train/epoch`
  metric; the Trainer repeats it on the eval row right after the train row of the same step, so a point at
  the same step as the one before it is dropped.
- **Values.** Numeric cells only: empty cells, text, booleans, media and other objects are not points. Keys
  that start with `_` (`_runtime`, `_timestamp`, `_wandb`) are bookkeeping; `_timestamp` fills the wall time.
- **Names.** Each key maps to its canonical metric (`metric_names.canonical_metric`). When several keys of one
  table map to the same canonical metric, the canonical name goes to the **densest** of them (the most points;
  on a tie, the key already spelled canonically, then the first logged); the others keep their own name, and a
  key spelled exactly like the canonical name that lost gets the suffix ` (sparser)`. So nanoGPT's
  `train/loss`, logged only at the 21 eval iterations, gives way to its per-iteration `train/step_loss` (the
  curve to judge), and the HF Trainer's summary `train/train_loss` never enters the curve at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.frame import COLUMNS, EPOCH, empty_frame, make_frame
from losscli.metric_names import canonical_metric
from losscli.restarts import resolve_restarts, restart_warning

if TYPE_CHECKING:
    import pandas as pd

STEP_KEYS = ("train/global_step", "trainer/global_step")
RUN_STEP = "_step"
TIMESTAMP = "_timestamp"
SPARSER = " (sparser)"


@dataclass
class HistoryResult:
    frame: pd.DataFrame
    step_key: str  # the column the steps came from, or "" for the row number
    skipped_rows: int = 0  # rows without a step
    replaced: int = 0  # points replaced by a later log of the same step (a resumed run)
    renamed: dict[str, str] = field(default_factory=dict)  # logged key -> metric, where density decided
    steps_per_epoch: float | None = None


def numeric_column(values: pd.Series) -> pd.Series:
    """The column as float64 with NaN wherever the cell is not a real number (bool, text, dict, empty)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(np.nan, index=values.index, dtype=np.float64)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(np.float64)

    def convert(cell: Any) -> float:
        if isinstance(cell, bool) or not isinstance(cell, (int, float)):
            return math.nan
        return float(cell)

    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").astype(np.float64)
    return pd.Series([convert(c) for c in values], index=values.index, dtype=np.float64)


def choose_step_key(columns: list[str], table: pd.DataFrame) -> str:
    for key in (*STEP_KEYS, RUN_STEP):
        if key in columns and numeric_column(table[key]).notna().any():
            return key
    return ""


def history_frame(table: pd.DataFrame) -> HistoryResult:
    """The run frame of one history table, in logged row order, with restarts resolved."""
    import numpy as np
    import pandas as pd

    columns = [str(c) for c in table.columns]
    table = table.set_axis(columns, axis=1).reset_index(drop=True)
    step_key = choose_step_key(columns, table)
    if step_key:
        raw_step = numeric_column(table[step_key])
    else:
        raw_step = pd.Series(np.arange(len(table), dtype=np.float64))
    has_step = raw_step.notna() & np.isfinite(raw_step) & (raw_step.abs() < 2.0**63)
    skipped = int((~has_step).sum())
    step = raw_step.where(has_step, 0).round().astype(np.int64)

    epoch_key: str | None = next((c for c in ("train/epoch", "epoch") if c in columns), None)
    if epoch_key is None:
        epoch_key = next((c for c in columns if canonical_metric(c) == EPOCH), None)
    epoch = numeric_column(table[epoch_key]) if epoch_key else pd.Series(np.nan, index=table.index)
    wall = numeric_column(table[TIMESTAMP]) if TIMESTAMP in columns else pd.Series(np.nan, index=table.index)

    pieces: list[tuple[str, pd.Series, pd.Series]] = []  # (logged key, values, row mask), in column order
    for key in columns:
        if key.startswith("_") or key in STEP_KEYS or key == step_key:
            continue
        values = numeric_column(table[key])
        mask = has_step & values.notna()
        if key == epoch_key:  # the eval row repeats the epoch of the train row before it: one point per step
            logged = step[mask]
            repeat = logged.eq(logged.shift())
            mask &= ~repeat.reindex(mask.index, fill_value=False)
        if mask.any():
            pieces.append((key, values, mask))

    names, renamed = _metric_names([(k, int(m.sum())) for k, _, m in pieces])
    parts = []
    for key, values, mask in pieces:
        rows = mask.to_numpy()
        count = int(rows.sum())
        parts.append(
            pd.DataFrame(
                {
                    "metric": [names[key]] * count,
                    "tag": [key] * count,
                    "step": step.to_numpy()[rows],
                    "epoch": epoch.to_numpy()[rows],
                    "value": values.to_numpy()[rows],
                    "wall_time": wall.to_numpy()[rows],
                }
            )
        )
    if not parts:
        return HistoryResult(empty_frame(), step_key, skipped)
    joined = pd.concat(parts, ignore_index=True)
    frame = make_frame(*(joined[c].to_numpy() for c in COLUMNS))
    frame, replaced = resolve_restarts(frame)
    result = HistoryResult(frame, step_key, skipped, replaced, renamed)
    dated = has_step & epoch.notna()
    result.steps_per_epoch = _steps_per_epoch(step[dated], epoch[dated])
    return result


def _metric_names(keys: list[tuple[str, int]]) -> tuple[dict[str, str], dict[str, str]]:
    """Map each logged key to its metric; return the map and the keys the density rule decided."""
    groups: dict[str, list[tuple[int, str, int]]] = {}
    for order, (key, count) in enumerate(keys):
        groups.setdefault(canonical_metric(key), []).append((order, key, count))
    names: dict[str, str] = {}
    renamed: dict[str, str] = {}
    for canonical, members in groups.items():
        if len(members) == 1:
            names[members[0][1]] = canonical
            continue
        winner = max(members, key=lambda m: (m[2], m[1].strip().lower() == canonical.lower(), -m[0]))
        for _, key, _ in members:
            if key == winner[1]:
                names[key] = canonical
            elif key.strip().lower() == canonical.lower():
                names[key] = key + SPARSER
            else:
                names[key] = key
            renamed[key] = names[key]
    return names, renamed


def describe(result: HistoryResult, where: str) -> tuple[list[str], list[str]]:
    """Warnings and notes for a run read from a history table."""
    warnings: list[str] = []
    notes: list[str] = []
    if result.skipped_rows:
        notes.append(f"{where}: {result.skipped_rows} history rows without `{result.step_key}` were left out")
    if result.replaced:
        warnings.append(restart_warning(where, result.replaced))
    if not result.step_key:
        notes.append(f"{where}: no `_step` column; the row number is the step")
    elif result.step_key != RUN_STEP:
        notes.append(f"steps are `{result.step_key}`, not W&B's `_step`")
    for key, metric in result.renamed.items():
        if metric != canonical_metric(key):
            denser = canonical_metric(key)
            notes.append(f"`{key}` is kept as `{metric}`: a denser series of the same kind is `{denser}`")
    return warnings, notes


def _steps_per_epoch(step: pd.Series, epoch: pd.Series) -> float | None:
    """Steps between the first rows of successive whole epochs; or step / epoch for a fractional epoch.

    The HF Trainer logs a fractional epoch (`step / steps_per_epoch`); hand-written loops often log the epoch
    index (0, 0, ..., 1, 1, ...), for which step / epoch would be wrong.
    """
    import numpy as np

    if step.empty:
        return None
    whole = np.floor(epoch.to_numpy() + 1e-9)
    steps = step.to_numpy()
    starts = steps[np.flatnonzero(np.diff(whole) > 0) + 1]  # first row of each new whole epoch
    if len(starts) >= 2:
        return float(np.median(np.diff(starts)))
    last_epoch = float(epoch.max())
    if last_epoch > 0 and not np.allclose(epoch.to_numpy(), whole):
        return float(steps.max()) / last_epoch
    return None
