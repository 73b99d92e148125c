"""W&B local run folders (`wandb/run-*/`, `wandb/offline-run-*/`), read from their `run-<id>.wandb` file.

The `.wandb` transaction log holds everything the run logged, whether it was synced or not; it is read natively
(`wandb_log`), without the wandb package and without network. From its records come the history rows (the curve,
mapped by `wandb_history`), the run's display name, its config (epochs, batch size, ...) and its summary.

Folder claims: a `wandb/` folder's run sub-folders, each with its `files/`, `logs/` and `tmp/` inside; the
`latest-run` link (and the `debug*.log` links) point into one of those and are used up without being read again. A
run folder given directly is claimed by itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import FolderClaim, Format, ReadOptions, Source

_RUN_DIR = re.compile(r"^(offline-)?run-[\w.-]+$")
_LOG_FILE = re.compile(r"^run-[\w.-]*\.wandb$")
_RUN_PARTS = ("files", "logs", "tmp")
# config keys, in order of preference, for the meta fields the analysis reads
_CONFIG_META = {
    "num_train_epochs": ("num_train_epochs", "epochs", "num_epochs", "max_epochs", "n_epochs"),
    "train_batch_size": ("per_device_train_batch_size", "train_batch_size", "batch_size"),
    "max_steps": ("max_steps", "max_iters", "total_steps"),
    "logging_steps": ("logging_steps", "log_every_n_steps", "log_interval"),
    "gradient_accumulation_steps": ("gradient_accumulation_steps",),
}


def _log_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if _LOG_FILE.match(p.name) and p.is_file())
    except OSError:
        return []


class WandbRunFormat(Format):
    name = "wandb_run"
    label = "W&B run"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        own = sorted(f for f in files if _LOG_FILE.match(f))
        if own:  # the run folder itself
            source = Source(self.name, folder, tuple(folder / f for f in own))
            return FolderClaim([source], used_files=set(own), used_dirs={d for d in dirs if d in _RUN_PARTS})
        sources: list[Source] = []
        used: set[str] = set()
        for name in sorted(dirs):
            path = folder / name
            if not _RUN_DIR.match(name) or path.is_symlink():
                continue
            logs = _log_files(path)
            if logs:
                sources.append(Source(self.name, path, tuple(logs)))
                used.add(name)
        if not sources:
            return None
        claimed = {os.path.realpath(s.path) for s in sources}
        for name in dirs:  # `latest-run` and other links to a run already claimed
            path = folder / name
            if path.is_symlink() and os.path.realpath(path) in claimed:
                used.add(name)
        used_files = set()
        for name in files:  # `debug.log`, `debug-internal.log`: links into a run's logs/
            path = folder / name
            if path.is_symlink() and any(os.path.realpath(path).startswith(c + os.sep) for c in claimed):
                used_files.add(name)
        return FolderClaim(sources, used_files=used_files, used_dirs=used)

    def claim_file(self, path: Path, head: bytes) -> bool:
        from losscli.parsers.wandb_log import check_header

        return path.name.endswith(".wandb") and check_header(head)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        files = [p for p in source.files if p.name.endswith(".wandb")] or [source.path]
        return [read_wandb_file(files[0], source.path, options)]


def read_wandb_file(path: Path, run_path: Path, options: ReadOptions = ReadOptions()) -> Run:  # noqa: B008
    """Read one `.wandb` file into a run; damage becomes warnings, only an unreadable file raises ParseError."""
    import pandas as pd

    from losscli.parsers import wandb_log as log
    from losscli.parsers.wandb_history import describe, history_frame, steps_per_epoch

    scan = log.scan_log(path, verify_checksums=options.verify_checksums)
    warnings = log.log_warnings(path, scan)
    rows: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    config: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    undecodable = 0
    exited = False
    for payload in scan.records:
        try:
            exited |= _take_record(payload, rows, info, config, summary)
        except (ValueError, UnicodeDecodeError):
            undecodable += 1
    if undecodable:
        warnings.append(f"{path}: {undecodable} records could not be decoded and were skipped")
    if not scan.records:
        problem = "no complete record" + (" (the file is damaged)" if scan.bad_chunks or scan.truncated else "")
        raise ParseError(path, problem)
    if undecodable == len(scan.records):
        raise ParseError(path, "no record could be decoded: not a W&B run log")

    result = history_frame(pd.DataFrame(rows))
    more_warnings, notes = describe(result, str(path))
    warnings.extend(more_warnings)
    if not rows:
        notes.append("the run logged no history rows")
    if not exited:
        notes.append("no exit record: the run crashed, was killed, or is still running")

    folder = run_path if run_path.is_dir() else path.parent
    meta: dict[str, Any] = {"source_files": [str(path)], "step_key": result.step_key or "row"}
    meta.update({k: v for k, v in info.items() if k in ("run_id", "project", "group", "display_name", "resumed")})
    meta.update(_config_meta(config))
    spe = steps_per_epoch(result)
    if spe:
        meta["steps_per_epoch"] = spe
    numbers = {k: v for k, v in summary.items() if _is_number(v) and not k.startswith("_")}
    if numbers:
        meta["summary"] = numbers
    name = info.get("display_name") or folder.name
    return Run(name=name, path=run_path, format="wandb_run", scalars=result.frame, meta=meta,
               warnings=warnings, notes=notes)


def _take_record(payload: bytes, rows: list[dict[str, Any]], info: dict[str, Any], config: dict[str, Any],
                 summary: dict[str, Any]) -> bool:
    """Fold one Record into what is collected; return True for the run's exit record."""
    from losscli.parsers import wandb_log as log

    for number, wire, value in log.fields(payload):
        if wire != 2:
            continue
        if number == log.RECORD_HISTORY:
            row = log.decode_items(value)
            if row:
                step_num = _history_step(value)
                if step_num is not None and "_step" not in row:
                    row["_step"] = step_num
                rows.append(row)
        elif number == log.RECORD_SUMMARY:
            summary.update(log.decode_items(value))
            for key in log.decode_items(value, wanted=2):
                summary.pop(key, None)
        elif number == log.RECORD_CONFIG:
            config.update(log.decode_items(value))
        elif number == log.RECORD_RUN:
            run = log.decode_run(value)
            config.update(run.pop("config", {}))
            summary.update(run.pop("summary", {}))
            info.update({k: v for k, v in run.items() if v not in ("", None)})
        elif number == log.RECORD_EXIT:
            return True
    return False


def _history_step(history: bytes) -> int | None:
    """HistoryRecord.step.num (field 2, a HistoryStep whose field 1 is the step), 0 when present but empty."""
    from losscli.parsers import wandb_log as log

    for number, wire, value in log.fields(history):
        if number == 2 and wire == 2:
            return next((v for n, w, v in log.fields(value) if n == 1 and w == 0), 0)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _config_value(value: Any) -> Any:
    """Config items are plain JSON values; `config.yaml`-style `{"value": ...}` wrappers are unwrapped."""
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
        return value["value"]
    return value


def _config_meta(config: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    flat = {k: _config_value(v) for k, v in config.items()}
    for field, keys in _CONFIG_META.items():
        for key in keys:
            value = flat.get(key)
            if _is_number(value) and value > 0:
                meta[field] = int(value) if float(value).is_integer() else value
                break
    return meta


FORMATS = [WandbRunFormat()]
