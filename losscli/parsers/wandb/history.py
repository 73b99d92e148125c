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
- **Names.** Each key maps to its canonical metric, one key per canonical name, by the rule every reader shares
  (`metric_names.name_metrics`: per step before per epoch, then the denser, then the more explicit name). So
  nanoGPT's `train/loss`, logged only at the 21 eval iterations, gives way to its per-iteration
  `train/step_loss` (the curve to judge) and is kept as `train/loss (sparser)`, and the HF Trainer's summary
  `train/train_loss` never enters the curve at all.
- **Repeats.** A resumed run's steps logged again replace the earlier ones; a step logged again without going
  back (`trainer.evaluate()` after training) is not a restart (`losscli.restarts`).
- **Wide tables.** Of a table wider than `metric_names.WIDE_TABLE` keys only the columns the analysis and
  outputs need are read, whether it comes from a run folder or an export, so both give the same frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.frame import COLUMNS, EPOCH, empty_frame, make_frame
from losscli.metric_names import canonical_metric, columns_to_read, name_metrics, unread_note
from losscli.restarts import Restarts, resolve_restarts, restart_messages

if TYPE_CHECKING:
    import pandas as pd

STEP_KEYS = ("train/global_step", "trainer/global_step")
RUN_STEP = "_step"
TIMESTAMP = "_timestamp"


@dataclass
class HistoryResult:
    """A W&B history table mapped onto the frame, with what the mapping decided and skipped."""

    frame: pd.DataFrame
    step_key: str  # the column the steps came from, or "" for the row number
    skipped_rows: int = 0  # rows without a step
    restarts: Restarts = field(default_factory=Restarts)  # what the restart rule found
    naming_notes: list[str] = field(default_factory=list)  # the naming rule's decisions
    steps_per_epoch: float | None = None
    unread_columns: int = 0  # columns of a wide table that were not read
    total_columns: int = 0


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
    read = columns_to_read(columns, always=(*STEP_KEYS, RUN_STEP, TIMESTAMP))
    unread, total = len(columns) - len(read), len(columns)
    if unread:
        table, columns = table[read], read
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

    naming = name_metrics([k for k, _, _ in pieces], points=[int(m.sum()) for _, _, m in pieces])
    names = dict(zip([k for k, _, _ in pieces], naming.metrics))
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
        return HistoryResult(empty_frame(), step_key, skipped, unread_columns=unread, total_columns=total)
    joined = pd.concat(parts, ignore_index=True)
    frame = make_frame(*(joined[c].to_numpy() for c in COLUMNS))
    frame, restarts = resolve_restarts(frame)
    result = HistoryResult(frame, step_key, skipped, restarts, naming.notes, unread_columns=unread, total_columns=total)
    dated = has_step & epoch.notna()
    result.steps_per_epoch = _steps_per_epoch(step[dated], epoch[dated])
    return result


def describe(result: HistoryResult, *, where: str) -> tuple[list[str], list[str]]:
    """Warnings and notes for a run read from a history table."""
    warnings: list[str] = []
    notes: list[str] = []
    if result.skipped_rows:
        notes.append(f"{where}: {result.skipped_rows} history rows without `{result.step_key}` were left out")
    more_warnings, more_notes = restart_messages(where, found=result.restarts)
    warnings.extend(more_warnings)
    notes.extend(more_notes)
    if not result.step_key:
        notes.append(f"{where}: no `_step` column; the row number is the step")
    elif result.step_key != RUN_STEP:
        notes.append(f"steps are `{result.step_key}`, not W&B's `_step`")
    notes.extend(result.naming_notes)
    notes.extend(unread_note(result.total_columns, read=result.total_columns - result.unread_columns))
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
