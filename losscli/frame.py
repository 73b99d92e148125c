"""The common run frame: the one shape every parser produces and every analysis and reporter reads.

A `Run` holds its scalars in long form with fixed columns (`COLUMNS`): `metric`, `tag` (the name as logged), `step`
(int64), `epoch` (float64, NaN where unknown), `value` (float64), `wall_time` (float64, NaN where unknown).
`Run.scalars` is that table as a pandas DataFrame, for users and reporters. Readers may hand over either a
DataFrame or plain numpy `Columns`; the analysis works on numpy columns, so judging a run whose reader builds
`Columns` never imports pandas (its import alone costs a shell loop more than the rest of the work).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

COLUMNS = ("metric", "tag", "step", "epoch", "value", "wall_time")

TRAIN_LOSS = "train/loss"
EVAL_LOSS = "eval/loss"
LEARNING_RATE = "train/learning_rate"
GRAD_NORM = "train/grad_norm"
EPOCH = "train/epoch"


@dataclass(frozen=True)
class Columns:
    """The frame's columns as numpy arrays of equal length (metric and tag as object arrays of str)."""

    metric: np.ndarray
    tag: np.ndarray
    step: np.ndarray
    epoch: np.ndarray
    value: np.ndarray
    wall_time: np.ndarray

    def __len__(self) -> int:
        return len(self.step)

    def take(self, index: Any) -> Columns:
        return Columns(*(getattr(self, c)[index] for c in COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        return make_frame(*(getattr(self, c) for c in COLUMNS))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Columns:
        import numpy as np

        return cls(
            frame["metric"].to_numpy(dtype=object),
            frame["tag"].to_numpy(dtype=object),
            frame["step"].to_numpy(dtype=np.int64),
            frame["epoch"].to_numpy(dtype=np.float64),
            frame["value"].to_numpy(dtype=np.float64),
            frame["wall_time"].to_numpy(dtype=np.float64),
        )


@dataclass(frozen=True)
class ConfigSource:
    """Configuration a reader found with a run's scalars, as its file states it: raw keys and values, and where.

    Readers hand over what they meet anyway while reading (a TensorBoard `args` text summary, the config records of
    a `.wandb` file, MLflow params); `losscli.config` adds the files around the run and turns them all into the
    run's configuration. `kind` says what wrote the values, so that they can be interpreted: `hf_training_args`
    (the Trainer's TrainingArguments), `hf_model_config` (a model's config.json), `wandb_config`, `mlflow_params`
    (every value a string, as MLflow stores params), `lightning_hparams`, `hparams` (TensorBoard's hparams
    plugin), ... `where` names the file (and the record in it) the values came from.
    """

    kind: str
    where: str
    values: dict[str, Any]


class Run:
    """One training run, whatever wrote it.

    `meta` holds what the log knows about the training (`num_train_epochs`, `max_steps`, `steps_per_epoch`,
    `train_batch_size`, `logging_steps`, `checkpoints`, `source_files`, ...). `warnings` are problems found while
    reading that did not stop it (a truncated last record, replaced points after a restart); `notes` are facts a
    user should know to read the result (e.g. an export's rows are bucketed). `configs` is the configuration the
    reader found with the scalars (`ConfigSource`), as stated, not yet interpreted.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        format: str,
        scalars: pd.DataFrame | Columns,
        meta: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
        notes: list[str] | None = None,
        configs: list[ConfigSource] | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.format = format
        self.meta: dict[str, Any] = meta if meta is not None else {}
        self.warnings: list[str] = warnings if warnings is not None else []
        self.notes: list[str] = notes if notes is not None else []
        self.configs: list[ConfigSource] = configs if configs is not None else []
        self._columns: Columns | None = scalars if isinstance(scalars, Columns) else None
        self._frame: pd.DataFrame | None = None if isinstance(scalars, Columns) else scalars

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, format={self.format!r}, points={len(self.columns())})"

    @property
    def scalars(self) -> pd.DataFrame:
        """All scalars as one long DataFrame with the fixed columns."""
        if self._frame is None:
            assert self._columns is not None
            self._frame = self._columns.to_frame()
        return self._frame

    def columns(self) -> Columns:
        """All scalars as numpy columns (no pandas needed when the reader built them)."""
        if self._columns is None:
            assert self._frame is not None
            self._columns = Columns.from_frame(self._frame)
        return self._columns

    def replace_epochs(self, epoch: np.ndarray) -> None:
        """Give every row a new epoch value (`losscli.log_checks` continues a count that started again)."""
        cols = self.columns()
        self._columns = Columns(cols.metric, cols.tag, cols.step, epoch, cols.value, cols.wall_time)
        self._frame = None

    def series(self, name: str) -> Columns:
        """One metric's points as numpy columns, sorted by step (stable: equal steps keep their logged order)."""
        import numpy as np

        cols = self.columns()
        index = np.flatnonzero(cols.metric == name)
        order = np.argsort(cols.step[index], kind="stable")
        return cols.take(index[order])

    def metric(self, name: str) -> pd.DataFrame:
        """One metric's rows as a DataFrame, sorted by step."""
        return self.series(name).to_frame()

    def metrics(self) -> dict[str, int]:
        """Point count of each metric, in first-logged order."""
        counts: dict[str, int] = {}
        for name in self.columns().metric:
            counts[name] = counts.get(name, 0) + 1
        return counts


def make_frame(metric: Any, tag: Any, step: Any, epoch: Any, value: Any, wall_time: Any) -> pd.DataFrame:
    """Build a DataFrame from column sequences (lists or numpy arrays) with the contract's dtypes.

    The DataFrame holds the arrays themselves, one block each: copying them into pandas' consolidated blocks
    took about a tenth of reading a 200k-point event file."""
    import pandas as pd

    cols = make_columns(metric, tag, step, epoch, value, wall_time)
    return pd.DataFrame(
        {
            "metric": pd.Series(cols.metric, dtype=object, copy=False),
            "tag": pd.Series(cols.tag, dtype=object, copy=False),
            "step": cols.step,
            "epoch": cols.epoch,
            "value": cols.value,
            "wall_time": cols.wall_time,
        },
        columns=list(COLUMNS),
        copy=False,
    )


def make_columns(metric: Any, tag: Any, step: Any, epoch: Any, value: Any, wall_time: Any) -> Columns:
    import numpy as np

    return Columns(
        np.asarray(metric, dtype=object),
        np.asarray(tag, dtype=object),
        np.asarray(step, dtype=np.int64),
        np.asarray(epoch, dtype=np.float64),
        np.asarray(value, dtype=np.float64),
        np.asarray(wall_time, dtype=np.float64),
    )


def empty_frame() -> pd.DataFrame:
    """A DataFrame with the fixed columns and no rows."""
    return make_frame([], [], [], [], [], [])


def columns_from_records(records: list[tuple[str, str, int, float, float, float]]) -> Columns:
    """Columns from `(metric, tag, step, epoch, value, wall_time)` tuples, the form small parsers collect."""
    if not records:
        return make_columns([], [], [], [], [], [])
    return make_columns(*zip(*records))
