"""A W&B run's `.wandb` file read into a run: its records folded one at a time into the history rows, the run's
name, config and summary (see `run_folder` for which folders are runs and `transaction_log` for the file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import ConfigSource, Run
from losscli.parsers.base import ReadOptions

_INFO_META = ("run_id", "project", "group", "display_name", "resumed")
# config keys, in order of preference, for the meta fields the analysis reads
_CONFIG_META = {
    "num_train_epochs": ("num_train_epochs", "epochs", "num_epochs", "max_epochs", "n_epochs"),
    "train_batch_size": ("per_device_train_batch_size", "train_batch_size", "batch_size"),
    "max_steps": ("max_steps", "max_iters", "total_steps"),
    "logging_steps": ("logging_steps", "log_every_n_steps", "log_interval"),
    "gradient_accumulation_steps": ("gradient_accumulation_steps",),
}
HEAD_BYTES = 1 << 20  # the run record and the Trainer's config come before the history
_NOT_THE_KIND = (16, 19, 200)  # Record.control, uuid, _info: beside the record's kind, in any order


def read_wandb_file(path: Path, *, run_path: Path | None = None, options: ReadOptions | None = None) -> Run:
    """Read one `.wandb` file into a run; damage becomes warnings, only an unreadable file is a ParseError."""
    from losscli.parsers.wandb import transaction_log as log

    scan = log.scan_log(path, verify_checksums=(options or ReadOptions()).verify_checksums)
    folded = Folded(damaged=bool(scan.bad_chunks or scan.truncated))
    for payload in scan.records:
        folded.fold(payload)
    return wandb_run(path, folded, run_path=run_path, warnings=log.log_warnings(path, scan=scan))


@dataclass
class Folded:
    """What the records of a `.wandb` file say, folded one record at a time (a file that grows is folded as its
    records come: `losscli watch`)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    records: int = 0
    undecodable: int = 0
    exited: bool = False
    damaged: bool = False  # a chunk of the file failed its check, or the file ends inside a record

    def fold(self, payload: bytes) -> None:
        self.records += 1
        try:
            self.exited |= _fold_record(payload, self.rows, self.info, self.config, self.summary)
        except (ValueError, UnicodeDecodeError):
            self.undecodable += 1


def wandb_run(path: Path, folded: Folded, *, run_path: Path | None = None, warnings: list[str]) -> Run:
    """The run the folded records of `path` make; ParseError when they make none."""
    import pandas as pd

    from losscli.parsers.wandb import transaction_log as log
    from losscli.parsers.wandb.history import describe, history_frame
    from losscli.restarts import restart_meta

    run_path = run_path or path.parent
    warnings = list(warnings)
    damaged = folded.damaged
    if folded.undecodable:
        warnings.append(f"{path}: {folded.undecodable} records could not be decoded and were skipped")
    if not folded.records:
        raise ParseError(path, "no complete record" + (" (the file is damaged)" if damaged else ""))
    if folded.undecodable == folded.records:
        raise ParseError(path, "no record could be decoded: not a W&B run log")
    rows, info, config = folded.rows, folded.info, folded.config
    if not rows and not info and not config:
        damage = "; the file is damaged" if damaged else ""
        raise ParseError(path, f"no run record and no history in the complete records{damage}")

    result = history_frame(pd.DataFrame(rows))
    more_warnings, notes = describe(result, where=str(path))
    warnings.extend(more_warnings)
    if not rows:
        notes.append("the run logged no history rows")
    if not folded.exited:
        notes.append("no exit record: the run crashed, was killed, or is still running")

    folder = run_path if run_path.is_dir() else path.parent
    meta: dict[str, Any] = {"source_files": [str(path)], "step_key": result.step_key or "row"}
    meta.update({k: v for k, v in info.items() if k in _INFO_META})
    meta.update(_config_meta(config))
    meta.update(restart_meta(result.restarts))
    if result.steps_per_epoch:
        meta["steps_per_epoch"] = result.steps_per_epoch
    summary = {k: log.json_value(v) if isinstance(v, log.RawJson) else v for k, v in folded.summary.items()}
    numbers = {k: v for k, v in summary.items() if _is_number(v) and not k.startswith("_")}
    if numbers:
        meta["summary"] = numbers
    name = info.get("display_name") or folder.name
    return Run(
        name=name,
        path=run_path,
        format="wandb_run",
        scalars=result.frame,
        meta=meta,
        warnings=warnings,
        notes=notes,
        configs=_configs(path, config, info),
    )


def head_config(path: Path) -> list[ConfigSource]:
    """The config and start time stated in the first `HEAD_BYTES` of a `.wandb` file; damage is skipped silently
    (the file's own run reports it), a file that is not a W&B log states nothing."""
    from losscli.parsers.wandb import transaction_log as log

    try:
        scan = log.scan_log(path, head=HEAD_BYTES)
    except ParseError:
        return []
    from losscli.parsers.protobuf_wire import fields

    info: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for payload in scan.records:
        try:
            for number, wire, value in fields(payload):
                if wire != 2 or number in _NOT_THE_KIND:
                    continue
                if number == log.RECORD_CONFIG:
                    _apply_update(config, value)
                elif number == log.RECORD_RUN:
                    run = log.decode_run(value)
                    config.update(run.pop("config", {}))
                    info.update({k: v for k, v in run.items() if v not in ("", None) and k != "summary"})
                break  # history, summary, output, ...: not decoded
        except (ValueError, UnicodeDecodeError):
            continue
    return _configs(path, config, info)


def _configs(path: Path, config: dict[str, Any], info: dict[str, Any]) -> list[ConfigSource]:
    found = [ConfigSource("wandb_config", str(path), config)] if config else []
    if isinstance(info.get("start_time"), float):
        found.append(ConfigSource("wandb_run", str(path), {"start_time": info["start_time"]}))
    return found


def _fold_record(
    payload: bytes,
    rows: list[dict[str, Any]],
    info: dict[str, Any],
    config: dict[str, Any],
    summary: dict[str, Any],
) -> bool:
    from losscli.parsers.protobuf_wire import fields
    from losscli.parsers.wandb import transaction_log as log

    for number, wire, value in fields(payload):
        if wire != 2:
            continue
        if number == log.RECORD_HISTORY:
            row = log.decode_history(value)
            if row:
                rows.append(row)
        elif number == log.RECORD_SUMMARY:  # one per `log` call: values are parsed only at the end
            _apply_update(summary, value, parse=False)
        elif number == log.RECORD_CONFIG:
            _apply_update(config, value)
        elif number == log.RECORD_RUN:
            run = log.decode_run(value)
            config.update(run.pop("config", {}))
            summary.update(run.pop("summary", {}))
            info.update({k: v for k, v in run.items() if v not in ("", None)})
        elif number == log.RECORD_EXIT:
            return True
    return False


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
    for name, keys in _CONFIG_META.items():
        for key in keys:
            value = flat.get(key)
            if isinstance(value, (int, float)) and _is_number(value) and value > 0:
                meta[name] = int(value) if float(value).is_integer() else value
                break
    return meta


def _apply_update(target: dict[str, Any], value: bytes, *, parse: bool = True) -> None:
    """Apply one config or summary record: its keys set, its removed keys dropped (wandb logs changes, not states)."""
    from losscli.parsers.wandb import transaction_log as log

    updates, removed = log.decode_update(value, parse=parse)
    target.update(updates)
    for key in removed:
        target.pop(key, None)
