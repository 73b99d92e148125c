"""ms-swift's `logging.jsonl`: the Trainer's log dicts, one JSON object a line, in the run's output folder.

ms-swift replaces the Trainer's progress and printer callbacks with its own, which append every log dict to
`<output_dir>/logging.jsonl` with extras: `global_step/max_steps` (`"5/50"`; swift 2.x wrote an integer
`global_step`, and every line twice), `percentage`, `elapsed_time`, `remaining_time`, `train_speed(s/it)` (3.x:
`train_speed(iter/s)`) and, on a GPU, `memory(GiB)`. Floats are rounded to 8 places; NaN and infinities are
written bare (Python's `json`). The dicts are read like every Trainer log dict (`trainer_dicts`), at the step the
line names; the extras are progress and resources, not metrics of the training, and are left out. `swift sft`
ends the file with one more line holding the whole
`log_history` again (and `last_model_checkpoint`, `best_metric`, ...): it is what the run ended with (its `meta`),
never a second copy of the points. `args.json` beside the log, which ms-swift writes, is the run's configuration.

One run per folder holding a `logging.jsonl` (named after the folder, as a Trainer output folder is). The file is
read by `SwiftLines`, a `line_logs.LineLog` that can be fed more lines later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from losscli.frame import ConfigSource, Run
from losscli.parsers.base import HEAD_BYTES, FolderClaim, Format, ReadOptions, Source
from losscli.parsers.line_logs import LineLog, feed_file
from losscli.parsers.records import Record, number, usable_step
from losscli.parsers.trainer_dicts import entry_records, is_summary, name_trainer_records

LOG_FILE = "logging.jsonl"
ARGS_FILE = "args.json"
_MARKER = b'"global_step'
_PROGRESS = ("global_step/max_steps", "global_step", "percentage", "elapsed_time", "remaining_time")
_EXTRAS = ("train_speed(", "memory(")  # progress and resource figures ms-swift adds, not metrics of the training
_CLOSING = ("log_history", "last_model_checkpoint", "best_model_checkpoint")
_ARGS_META = ("num_train_epochs", "max_steps", "logging_steps", "eval_steps", "save_steps")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""


class Swift(Format):
    name = "swift"
    label = "ms-swift"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        if LOG_FILE not in files or _MARKER not in _head(folder / LOG_FILE):
            return None
        paths = [folder / LOG_FILE] + ([folder / ARGS_FILE] if ARGS_FILE in files else [])
        return FolderClaim([Source(self.name, folder, tuple(paths))], used_files={LOG_FILE})

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        log = next((p for p in source.files if p.name == LOG_FILE), source.path / LOG_FILE)
        parser = feed_file(SwiftLines(log))
        args = next((p for p in source.files if p.name == ARGS_FILE), None)
        if args is not None:
            parser.read_args(args)
        return [parser.run(name=source.path.name, path=source.path)]


class SwiftLines(LineLog):
    """ms-swift's `logging.jsonl`, fed line by line (module docstring)."""

    format = "swift"
    empty = "no log lines with `global_step`: not an ms-swift logging.jsonl"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.closing = 0  # closing lines seen (the log history again)

    def _line(self, line: str, *, cut: bool) -> None:
        if not line.strip():
            return
        try:
            entry = json.loads(line)
        except ValueError:
            self.unreadable(cut=cut)
            return
        if not isinstance(entry, dict):
            self.unreadable(cut=cut)
            return
        if any(key in entry for key in _CLOSING):
            self._closing(entry)
            return
        step, max_steps = _progress(entry)
        if step is None:
            self.unreadable(cut=cut)
            return
        if max_steps:
            self.meta["max_steps"] = max_steps
        if is_summary(entry):
            self.meta["summary"] = {k: v for k, v in entry.items() if number(v) is not None}
            return
        values = {k: v for k, v in entry.items() if k not in _PROGRESS and not k.startswith(_EXTRAS)}
        self.bad_lines += entry_records(values, step, self._records)
        epoch = number(entry.get("epoch"))
        if epoch and epoch > 0 and step > 0:
            self.meta["steps_per_epoch"] = step / epoch
            self.meta["epoch"] = epoch

    def _closing(self, entry: dict[str, Any]) -> None:
        self.closing += 1
        for key in ("global_step", "best_metric", "best_model_checkpoint", "last_model_checkpoint"):
            if isinstance(entry.get(key), (int, float, str)) and not isinstance(entry.get(key), bool):
                self.meta[key] = entry[key]

    def named_records(self) -> tuple[list[Record], list[str]]:
        return name_trainer_records(self._records)

    def run(self, *, name: str | None = None, path: Path | None = None) -> Run:
        run = super().run(name=name, path=path)
        if self.closing:
            run.notes.append(
                f"{self.path}: the closing line (the run's whole log history again) was not read a second time"
            )
        return run

    def read_args(self, path: Path) -> None:
        """`args.json`: the run's configuration as ms-swift saved it."""
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.notes.append(f"{path}: not read ({exc.__class__.__name__})")
            return
        if not isinstance(values, dict):
            return
        self.configs.append(ConfigSource("swift_args", str(path), values))
        for key in _ARGS_META:
            found = number(values.get(key))
            if found is not None and found > 0 and key not in self.meta:
                self.meta[key] = found


def _progress(entry: dict[str, Any]) -> tuple[int | None, int | None]:
    """The step a line was logged at, and the planned steps, from `"global_step/max_steps": "5/50"` (or 2.x's
    integer `global_step`)."""
    text = entry.get("global_step/max_steps")
    if isinstance(text, str):
        step, _, total = text.partition("/")
        try:
            return usable_step(int(step)), usable_step(int(total)) if total else None
        except ValueError:
            return None, None
    return usable_step(entry.get("global_step")), None


FORMATS = [Swift()]
