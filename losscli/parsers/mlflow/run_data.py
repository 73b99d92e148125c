"""What an MLflow store holds for one run, made into a `Run` the same way whichever store it came from.

- **Points.** Every metric value is a point at the step it was logged with; the timestamp (ms) is its wall time.
  MLflow keeps values in the order they arrived, and the HF Trainer's callback logs asynchronously, so batches can
  arrive out of order: points are taken in the order of their timestamps (then steps), which is the order they
  were logged in, before the one restart rule resolves steps logged again (a resumed run).
- **Epochs.** MLflow has no epoch column; the `epoch` metric many integrations log (the HF Trainer with every log
  call) gives each point its epoch at its step (linearly between two logged epochs; none outside them).
- **Names.** A run the HF Trainer logged (its params hold `transformers_version`) gets the names the Trainer's
  other logs get (`eval_runtime` is `eval/runtime`, `loss` is `train/loss`; `trainer_dicts.trainer_name`), so it
  reads as its `trainer_state.json` does; the tags stay as logged.
- **Summary.** The Trainer's closing totals (`train_runtime`, `train_samples_per_second`, `train_loss`, ...), one
  value each, are the run's `meta["summary"]`, not curves, as in every reader of the Trainer's logs.
- **Configuration.** Params (every value a string, as MLflow stores them) and tags are `ConfigSource`s of kind
  `mlflow_params` and `mlflow_tags`; what says how long an epoch is (`num_train_epochs`, `max_steps`,
  `logging_steps`) also goes into `meta`, as other readers put it.
- **No metrics.** A run that logged no metric value (params only, or one that died before its first log) is a
  run with no points, which the analysis calls inconclusive, rather than an error hiding the store's other runs.
- **Deleted runs** (`lifecycle_stage: deleted`, or in a deleted experiment) are still in the store until `mlflow
  gc`; they are read and marked (`meta["mlflow_lifecycle_stage"]` and a note), since the MLflow UI hides them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losscli.frame import ConfigSource, Run, columns_from_records
from losscli.parsers.records import Record, build_run
from losscli.parsers.trainer_dicts import SUMMARY_KEYS, trainer_name

STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}  # the file store's codes
_EPOCH_KEYS = ("epoch", "train/epoch")
_PARAM_META = {
    "num_train_epochs": "num_train_epochs",
    "epochs": "num_train_epochs",
    "max_epochs": "num_train_epochs",
    "max_steps": "max_steps",
    "logging_steps": "logging_steps",
}

Point = tuple[str, float, int, int]  # (key, value, timestamp in ms, step)


@dataclass
class RunData:
    """One run as a store holds it."""

    run_id: str
    points: list[Point] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # run name, status, lifecycle stage, experiment, times
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        found = self.tags.get("mlflow.runName") or self.info.get("run_name") or self.run_id
        return str(found)


def make_run(data: RunData, *, path: Path, where: str, fmt: str) -> Run:
    """The run of one store's record of it (module docstring). `where` names it in messages."""
    import numpy as np

    points = sorted(data.points, key=lambda p: (p[2], p[3]))
    counts: dict[str, int] = {}
    for key, *_ in points:
        counts[key] = counts.get(key, 0) + 1
    summary_keys = {k for k in SUMMARY_KEYS if counts.get(k) == 1} if "train_runtime" in counts else set()
    summary = {key: value for key, value, _, _ in points if key in summary_keys}
    points = [p for p in points if p[0] not in summary_keys]

    epoch_key = next((k for k in _EPOCH_KEYS if k in counts), None)
    steps = np.fromiter((p[3] for p in points), np.float64, len(points))
    epochs = np.full(len(points), np.nan)
    if epoch_key is not None:
        known: dict[int, float] = {}
        for key, value, _, step in points:
            if key == epoch_key and math.isfinite(value):
                known.setdefault(step, value)
        if known:
            xs = np.asarray(sorted(known), dtype=np.float64)
            epochs = np.interp(steps, xs, [known[int(x)] for x in xs], left=np.nan, right=np.nan)
    name = trainer_name if "transformers_version" in data.params else str  # the HF Trainer's run: its names
    records: list[Record] = [
        (name(key), key, step, float(epoch), value, ts / 1000.0)
        for (key, value, ts, step), epoch in zip(points, epochs)
    ]
    meta, notes = _meta(data, epoch_key, points)
    if summary:
        meta["summary"] = summary
    configs = [ConfigSource("mlflow_params", f"{where} params", dict(data.params))] if data.params else []
    if data.tags:
        configs.append(ConfigSource("mlflow_tags", f"{where} tags", dict(data.tags)))
    if not records:  # a run that logged params only, or died before its first log
        notes.append("no metric values were logged" + (" besides the closing summary" if summary else ""))
        return Run(data.name, path, fmt, columns_from_records([]), meta, list(data.warnings), notes, configs)
    return build_run(
        records,
        path=path,
        name=data.name,
        format=fmt,
        where=Path(where),
        meta=meta,
        warnings=data.warnings,
        notes=notes,
        configs=configs,
    )


def _meta(data: RunData, epoch_key: str | None, points: list[Point]) -> tuple[dict[str, Any], list[str]]:
    meta: dict[str, Any] = {"mlflow_run_id": data.run_id, "mlflow_run_name": data.name}
    for key in ("experiment_id", "experiment_name", "status", "lifecycle_stage", "start_time", "end_time"):
        value = data.info.get(key)
        if value is not None and value != "":
            meta[f"mlflow_{key}"] = value
    for param, key in _PARAM_META.items():
        value = _number(data.params.get(param))
        if value is not None and value > 0 and key not in meta:
            meta[key] = int(value) if value == int(value) and key != "num_train_epochs" else value
    if epoch_key is not None:
        last = max((p for p in points if p[0] == epoch_key and math.isfinite(p[1])), key=lambda p: p[3], default=None)
        if last is not None and last[1] > 0 and last[3] > 0:
            meta["steps_per_epoch"] = last[3] / last[1]
            meta["epoch"] = last[1]
    notes = []
    deleted = data.info.get("lifecycle_stage") == "deleted" or data.info.get("experiment_stage") == "deleted"
    if deleted:
        meta["mlflow_lifecycle_stage"] = "deleted"
        notes.append(
            "deleted in MLflow (its lifecycle stage is `deleted`): the MLflow UI hides it, `mlflow gc` would remove "
            "it; read because its data is still in the store"
        )
    return meta, notes


def _number(text: str | None) -> float | None:
    """A param's value as a number (params are strings: `'5'`, `'3.0'`, `'None'`)."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
