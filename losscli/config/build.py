"""The configuration of a run: what its reader met, the files around it, what its log shows, resolved into one.

This is reading, not judging: `losscli.api` calls it where each run is read, in whatever process reads it, and a
failure here is a warning on the run, never an error. Files are read once per process (`files`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from losscli.config.derive import derive
from losscli.config.files import OWN, Around, around
from losscli.config.record import RunConfig
from losscli.config.resolve import resolve
from losscli.frame import ConfigSource

if TYPE_CHECKING:
    from losscli.frame import Run

_STATE_META = ("num_train_epochs", "max_steps", "train_batch_size")  # what trainer_state.json states (run.meta)


def run_config(run: Run, *, raw: bool = False) -> tuple[RunConfig, list[str]]:
    """The run's configuration and the warnings met reading it (files that could not be read, files that
    disagree). `raw`: keep everything read, by file, in `RunConfig.raw`."""
    own_files = frozenset(str(f) for f in run.meta.get("source_files") or ())
    found = around(Path(run.path), fmt=run.format, own_files=own_files)
    ranked = [(OWN, config) for config in run.configs] + _meta_sources(run) + found.sources
    derived = derive(run, wall_times=found.first_wall_times)
    return _resolved(run.path, found, ranked, derived, raw)


def source_config(
    path: Path, *, fmt: str, files: tuple[Path, ...] = (), raw: bool = False
) -> tuple[RunConfig, list[str]]:
    """The configuration around a run that could not be read: what the files beside it state (its own `files`
    are left out: their reader has said what is wrong with them)."""
    found = around(Path(path), fmt=fmt, own_files=frozenset(str(f) for f in files))
    derived = derive(None, wall_times=found.first_wall_times)
    return _resolved(path, found, found.sources, derived, raw)


def _resolved(
    path: Path, found: Around, ranked: list[tuple[int, ConfigSource]], derived: dict[str, object], raw: bool
) -> tuple[RunConfig, list[str]]:
    training = str(found.training) if found.training is not None else None
    label = training or str(path)
    config, disagreement = resolve(
        ranked, derived=derived, training=training, label=label, raw=raw, adapter_file=found.adapter_file
    )
    return config, [*found.warnings, *([disagreement] if disagreement else [])]


def _meta_sources(run: Run) -> list[tuple[int, ConfigSource]]:
    """What a Trainer's state file (or LLaMA-Factory's log) states, as its reader kept it in `run.meta`."""
    if run.format not in ("trainer_state", "trainer_log"):
        return []
    values = {key: run.meta[key] for key in _STATE_META if key in run.meta}
    where = (run.meta.get("source_files") or [str(run.path)])[0]
    return [(OWN, ConfigSource(run.format, str(where), values))] if values else []
