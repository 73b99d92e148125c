"""torchtune's DiskLogger files: `<output_dir>/logs/log_<unix seconds>.txt`, one line per logged step.

torchtune's recipes log through a metric logger; with `metric_logger._component_:
torchtune.training.metric_logging.DiskLogger` each `log_dict` call appends `Step <step> | key:value key:value `
(values as Python prints them: `loss:6.27 lr:0.001 tokens_per_second_per_gpu:111.9 grad_norm:1.89`; the recipes
log `loss`, `lr`, `tokens_per_second_per_gpu`, `grad_norm` when clipping, `peak_memory_*` on a GPU). A new file
is started each time the recipe starts, so a resumed run is several files, read in the order of the time in
their names, through the one restart rule.

The lines hold no epoch and no eval loss. What an epoch is comes from `torchtune_config.yaml`, which the recipe
writes to the output folder: `max_steps_per_epoch` when set, else the last logged step over `epochs` (which
holds when the run finished its epochs; a note says so). That goes into the run's `meta`, where the analysis
finds epoch boundaries; the frame's epoch column stays empty, as the log has none. The configuration itself is
one `ConfigSource` (`torchtune_config`), read with PyYAML's `safe_load`.

A run is the output folder holding `torchtune_config.yaml` and `logs/`, or a folder of `log_<N>.txt` files that
start like a DiskLogger's. Each file is read by `DiskLoggerLines`, a `line_logs.LineLog` that can be fed more
lines later.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import ConfigSource, Run
from losscli.parsers.base import HEAD_BYTES, FolderClaim, Format, ReadOptions, Source
from losscli.parsers.line_logs import LineLog, feed_file
from losscli.parsers.records import Record, build_run, name_records, number

CONFIG = "torchtune_config.yaml"
LOGS = "logs"
_LOG_FILE = re.compile(r"^log_(\d+)\.txt$")
_LINE = re.compile(r"^Step (-?\d+) \| (.*)$")
_HEAD = re.compile(rb"^Step \d+ \| \S+:")
_WRAPPED = re.compile(r"^\w+\(\s*([-+0-9.eEinfatyINF]+)")  # `tensor(1.23, device='cuda:0')`


def log_files(names: list[str]) -> list[str]:
    """DiskLogger file names, oldest first (by the time in the name)."""
    found = [(int(m.group(1)), n) for n in names if (m := _LOG_FILE.match(n))]
    return [n for _, n in sorted(found)]


def _starts_like_a_log(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(_HEAD.match(handle.read(HEAD_BYTES)))
    except OSError:
        return False


class Torchtune(Format):
    name = "torchtune"
    label = "torchtune"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        if CONFIG in files and LOGS in dirs:
            try:
                logs = log_files(os.listdir(folder / LOGS))
            except OSError:
                logs = []
            if logs:
                paths = [folder / CONFIG, *(folder / LOGS / n for n in logs)]
                return FolderClaim([Source(self.name, folder, tuple(paths))], {CONFIG}, {LOGS})
        logs = log_files(files)
        if logs and _starts_like_a_log(folder / logs[0]):
            config = folder.parent / CONFIG
            paths = [*(folder / n for n in logs), *([config] if config.is_file() else [])]
            return FolderClaim([Source(self.name, folder, tuple(paths))], set(logs))
        return None

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_torchtune(source)]


class DiskLoggerLines(LineLog):
    """One DiskLogger file, fed line by line (module docstring)."""

    format = "torchtune"
    empty = "no `Step N | key:value` lines: not a torchtune DiskLogger file"

    def _line(self, line: str, *, cut: bool) -> None:
        if not line.strip():
            return
        match = _LINE.match(line)
        if match is None:
            self.unreadable(cut=cut)
            return
        step = int(match.group(1))
        if not -(2**63) <= step < 2**63:
            self.unreadable(cut=cut)
            return
        found = 0
        for item in match.group(2).split():
            key, sep, text = item.partition(":")
            value = _value(text) if sep and key else None
            if value is not None:
                self._records.append((key, key, step, math.nan, value, math.nan))
                found += 1
        if not found:
            self.unreadable(cut=cut)


def _value(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        wrapped = _WRAPPED.match(text)
        if wrapped is None:
            return None
        try:
            return float(wrapped.group(1))
        except ValueError:
            return None


def read_torchtune(source: Source) -> Run:
    """One run: its DiskLogger files in time order, and its configuration (module docstring)."""
    logs = [p for p in source.files if _LOG_FILE.match(p.name)]
    config = next((p for p in source.files if p.name == CONFIG), None)
    parsers = [feed_file(DiskLoggerLines(path)) for path in logs]  # an unreadable file fails the run
    records: list[Record] = [r for p in parsers for r in p.points()]
    if not records:
        if len(logs) == 1:
            raise ParseError(logs[0], DiskLoggerLines.empty)
        raise ParseError(source.path, "no `Step N | key:value` lines in " + ", ".join(p.name for p in logs))
    warnings = [w for p in parsers for w in p.warnings()]
    meta: dict[str, Any] = {"source_files": [str(p) for p in logs]}
    notes: list[str] = []
    configs: list[ConfigSource] = []
    if config is not None:
        _read_config(config, records, meta, notes, configs, warnings)
    named, naming_notes = name_records(records)
    return build_run(
        named,
        path=source.path,
        name=source.path.name,
        format="torchtune",
        where=logs[0] if len(logs) == 1 else source.path,
        meta=meta,
        warnings=warnings,
        notes=notes + naming_notes,
        configs=configs,
        named=True,
    )


def _read_config(
    path: Path,
    records: list[Record],
    meta: dict[str, Any],
    notes: list[str],
    configs: list[ConfigSource],
    warnings: list[str],
) -> None:
    """The configuration, and what it says an epoch is (module docstring)."""
    import yaml

    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        warnings.append(f"{path}: not read ({type(exc).__name__}); epochs are unknown")
        return
    if not isinstance(values, dict):
        warnings.append(f"{path}: not a mapping; epochs are unknown")
        return
    configs.append(ConfigSource("torchtune_config", str(path), values))
    epochs, per_epoch = number(values.get("epochs")), number(values.get("max_steps_per_epoch"))
    every = number(values.get("log_every_n_steps"))
    if every and every > 0:
        meta["logging_steps"] = int(every)
    if not epochs or epochs <= 0:
        return
    meta["num_train_epochs"] = epochs
    last = max(r[2] for r in records)
    if per_epoch and per_epoch > 0:
        meta["steps_per_epoch"] = per_epoch
        meta["max_steps"] = int(per_epoch * epochs)
        return
    if last > 0:
        meta["steps_per_epoch"] = last / epochs
        notes.append(
            f"torchtune logs no epochs: an epoch is taken as {last / epochs:g} steps, the last logged step ({last}) "
            f"over the {epochs:g} epochs of {path.name}, which holds when the run finished them"
        )


FORMATS = [Torchtune()]
