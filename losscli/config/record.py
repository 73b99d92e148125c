"""The configuration of one run, as every output shows it: the canonical keys, where each came from, what was
derived from the log, and (on request) everything read.

`KEYS` are the same for every run, `None` when nothing states or shows them, so that scripts can rely on them:

| key | meaning |
| --- | --- |
| `model` | the base model's name or path; the architecture when the model was built from a config |
| `adapter` | `lora r=16 alpha=32`, another PEFT method's name, or `none` for a full fine-tune |
| `dataset` | the data set's name(s), comma-separated |
| `learning_rate` | the configured peak, else the highest logged (derived) |
| `scheduler` | the configured scheduler's name (`linear`, `cosine`, `constant`, ...) |
| `warmup` | warm-up steps (a ratio of the planned steps counted in steps) |
| `epochs`, `max_steps` | the planned epochs and optimizer steps |
| `batch_size` | the effective batch: per device x accumulation x devices, where stated |
| `seed` | the training's seed |
| `started` | when the training started, ISO 8601 in UTC |
| `train_samples` | examples in the training set, when the script saved them |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KEYS = (
    "model",
    "adapter",
    "dataset",
    "learning_rate",
    "scheduler",
    "warmup",
    "epochs",
    "max_steps",
    "batch_size",
    "seed",
    "started",
    "train_samples",
)
DERIVED_KEYS = ("peak_learning_rate", "steps_per_epoch", "started")
TIME_KEYS = ("month", "week")  # of `started`, for grouping (`losscli.tally`)
GROUP_KEYS = (*KEYS, *TIME_KEYS)


@dataclass(frozen=True)
class RunConfig:
    """`values` has every key of `KEYS`; `sources` says, for each key with a value, which file and field gave it
    (`derived: ...` for what the log shows); `derived` holds what was derived whether used or not; `training` is
    the Trainer output folder the run belongs to (None for a run outside one: it is a training of its own); `raw`
    maps each file read to what it states, when asked for."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, Any] = field(default_factory=dict)
    training: str | None = None
    raw: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def to_record(self) -> dict[str, Any]:
        """The `config` object of a JSON record (`raw` only when it was read)."""
        record: dict[str, Any] = {key: self.values.get(key) for key in KEYS}
        record["training"] = self.training
        record["sources"] = dict(self.sources)
        record["derived"] = {key: self.derived.get(key) for key in DERIVED_KEYS}
        if self.raw:
            record["raw"] = {where: dict(values) for where, values in self.raw.items()}
        return record


UNKNOWN = RunConfig(values=dict.fromkeys(KEYS))


def flat_config(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's `config` as flat CSV columns: `config.model`, ..., `config.derived.steps_per_epoch`, and
    `config.sources` as `key: where; ...`."""
    config = record or UNKNOWN.to_record()
    row: dict[str, Any] = {f"config.{key}": config.get(key) for key in KEYS}
    row["config.training"] = config.get("training")
    derived = config.get("derived") or {}
    row.update({f"config.derived.{key}": derived.get(key) for key in DERIVED_KEYS})
    sources = config.get("sources") or {}
    row["config.sources"] = "; ".join(f"{key}: {where}" for key, where in sources.items())
    return row
