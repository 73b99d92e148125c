"""The registry of log formats. Adding a format is one new module here and one line in `_MODULES`.

Formats with several modules have a sub-package (`tensorboard/`, `wandb/`, `mlflow/`); what they share lives here:
`base` (what a format provides), `protobuf_wire` (the one protobuf reader), `text_tables` (the one CSV header
sniffer). Which column is which metric (`losscli.metric_names`) and how re-logged steps are resolved
(`losscli.restarts`) are one rule each for every format.

A format module holds what finds its runs (its claims); what reads a run is imported inside `read` (`trainer_logs`,
`console_lines`, `wandb.run_records`, ...), so that a walk loads only the readers of the formats it meets: the
first read in a process does not pay for a dozen readers it does not use. Order matters: folder formats are asked
in this order, and the first claim of an entry wins.
"""

from __future__ import annotations

import importlib
from functools import cache

from losscli.errors import UsageError
from losscli.parsers.base import FolderClaim, Format, ReadOptions, Source

__all__ = ["Format", "FolderClaim", "ReadOptions", "Source", "all_formats", "get_format"]

_MODULES = (
    "losscli.parsers.trainer_output",
    "losscli.parsers.tensorboard.reader",
    "losscli.parsers.lightning_csv",
    "losscli.parsers.swift",
    "losscli.parsers.torchtune",
    "losscli.parsers.mlflow.file_store",
    "losscli.parsers.mlflow.sqlite_store",
    "losscli.parsers.wandb.run_folder",
    "losscli.parsers.wandb.exports",
    "losscli.parsers.tensorboard_csv",
    "losscli.parsers.console",
    "losscli.parsers.loss_table",
)


@cache
def all_formats() -> tuple[Format, ...]:
    found: list[Format] = []
    for module_name in _MODULES:
        found.extend(importlib.import_module(module_name).FORMATS)
    return tuple(found)


def get_format(name: str) -> Format:
    for fmt in all_formats():
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in all_formats())
    raise UsageError(f"unknown format {name!r} (known: {known})")
