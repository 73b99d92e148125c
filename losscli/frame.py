"""The common run frame: the one shape every parser produces and every analysis and reporter reads.

A `Run` holds its scalars as one long pandas DataFrame with fixed columns (`COLUMNS`), so that adding a log format
never touches the analyzer or the reporters. pandas is imported only when a frame is built, to keep start-up short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("metric", "tag", "step", "epoch", "value", "wall_time")

TRAIN_LOSS = "train/loss"
EVAL_LOSS = "eval/loss"
LEARNING_RATE = "train/learning_rate"
GRAD_NORM = "train/grad_norm"
EPOCH = "train/epoch"


@dataclass
class Run:
    """One training run, whatever wrote it.

    `meta` holds what the log knows about the training (`num_train_epochs`, `max_steps`, `steps_per_epoch`,
    `train_batch_size`, `logging_steps`, `checkpoints`, `source_files`, ...). `warnings` are problems found while
    reading that did not stop it (a truncated last record, replaced points after a restart).
    """

    name: str
    path: Path
    format: str
    scalars: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def metric(self, name: str) -> pd.DataFrame:
        """Rows of one canonical metric, sorted by step (a stable sort keeps the logged order of equal steps)."""
        frame = self.scalars
        rows = frame[frame["metric"] == name]
        return rows.sort_values("step", kind="stable").reset_index(drop=True)

    def metrics(self) -> dict[str, int]:
        """Point count of each metric, canonical names first as logged."""
        counts = self.scalars["metric"].value_counts(sort=False)
        return {str(k): int(v) for k, v in counts.items()}


def empty_frame() -> pd.DataFrame:
    """A frame with the fixed columns and no rows."""
    return make_frame([], [], [], [], [], [])


def make_frame(
    metric: Any, tag: Any, step: Any, epoch: Any, value: Any, wall_time: Any
) -> pd.DataFrame:
    """Build a frame from column sequences (lists or numpy arrays) with the contract's dtypes."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame(
        {
            "metric": pd.Series(metric, dtype=object),
            "tag": pd.Series(tag, dtype=object),
            "step": np.asarray(step, dtype=np.int64),
            "epoch": np.asarray(epoch, dtype=np.float64),
            "value": np.asarray(value, dtype=np.float64),
            "wall_time": np.asarray(wall_time, dtype=np.float64),
        },
        columns=list(COLUMNS),
    )


def frame_from_records(records: list[tuple[str, str, int, float, float, float]]) -> pd.DataFrame:
    """Build a frame from `(metric, tag, step, epoch, value, wall_time)` tuples, the form small parsers collect."""
    if not records:
        return empty_frame()
    metric, tag, step, epoch, value, wall_time = zip(*records)
    return make_frame(metric, tag, step, epoch, value, wall_time)
