"""Reading a Hugging Face Trainer's logs into a run: `trainer_state.json` (the most complete among a folder's
checkpoints), LLaMA-Factory's `trainer_log.jsonl`, and a live Trainer's state.

`trainer_output` finds these files (which folder is a run, which files are its own); this module reads them, so
that finding runs does not load it. See `trainer_output` for what is read when several files hold a history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import Source, read_text
from losscli.parsers.checkpoints import checkpoint_step
from losscli.parsers.json_pieces import NotInPieces, load_in_pieces
from losscli.parsers.partial_json import Cut, load_json
from losscli.parsers.records import number as _number
from losscli.parsers.records import usable_step as _step
from losscli.parsers.trainer_history import History
from losscli.restarts import restart_messages, restart_meta

_META_KEYS = (
    "global_step",
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "train_batch_size",
    "epoch",
    "best_metric",
    "best_model_checkpoint",
    "best_global_step",
)
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
_BOM = b"\xef\xbb\xbf"


Parse = Callable[[Path], tuple[History, dict[str, Any]]]


def parse_file(path: Path) -> tuple[History, dict[str, Any]]:
    """The points of one file of a Trainer output folder, and what it says about the training."""
    return parse_trainer_log(path) if path.name.endswith(".jsonl") else parse_trainer_state(path)


def _saved_beside(folder: Path) -> list[int]:
    """The steps of the checkpoint folders beside a `trainer_state.json` (names only: nothing in them is read)."""
    try:
        names = [entry.name for entry in os.scandir(folder) if entry.is_dir()]
    except OSError:
        return []
    return sorted(s for name in names if (s := checkpoint_step(name)) is not None)


def read_trainer_output(source: Source, *, parse: Parse = parse_file) -> Run:
    """Read the most complete history among the source's files; fall back past unreadable ones with a warning.

    `parse` reads one file (`parse_file`; `losscli watch` gives one that reads only files that changed). The
    history chosen is used up by making the run (`History.frame`): a `parse` that keeps histories gives copies."""
    states = [p for p in source.files if p.name.endswith(".json")]
    logs = [p for p in source.files if p.name.endswith(".jsonl")]
    own = [p for p in states if p == source.path or p.parent == source.path]
    saved = sorted((p for p in states if p not in own), key=lambda p: -(checkpoint_step(p.parent.name) or 0))
    checkpoints = sorted(s for p in states if (s := checkpoint_step(p.parent.name)) is not None)
    if not checkpoints and own:
        checkpoints = _saved_beside(own[0].parent)  # the file given alone: its folder's checkpoints, by name

    warnings: list[str] = []
    failures: list[ParseError] = []
    best: tuple[Path, History, dict[str, Any]] | None = None
    cut_off: dict[Path, str] = {}
    for path in own + saved:
        try:
            history, meta = parse(path)
        except ParseError as exc:
            failures.append(exc)
            continue
        if meta.get("cut_off"):
            cut_off[path] = meta["cut_off"]
        if best is None or history.last_step > best[1].last_step:
            best = (path, history, meta)
        if path in saved and "cut_off" not in meta:
            break  # the latest readable checkpoint holds everything the earlier ones hold
    for path in logs:
        try:
            history, meta = parse(path)
        except ParseError as exc:
            failures.append(exc)
            continue
        if best is None or history.last_step > best[1].last_step:
            best = (path, history, meta)
    if best is None:
        if len(failures) == 1:
            raise failures[0]
        raise ParseError(source.path, "no readable history: " + "; ".join(str(f) for f in failures))
    warnings.extend(f"skipped {f}" for f in failures)
    path, history, meta = best
    del best, failures  # only the chosen history is kept while the run is made
    warnings.extend(f"{p}: {message}" for p, message in cut_off.items() if p != path)
    name_path = source.path if source.path.is_dir() else source.path.parent
    fmt = "trainer_log" if path.name.endswith(".jsonl") else "trainer_state"
    run = trainer_run(history, meta, name=name_path.name, path=source.path, read_from=path, fmt=fmt, warnings=warnings)
    if checkpoints:
        run.meta["checkpoints"] = checkpoints
    return run


def trainer_run(
    history: History,
    meta: dict[str, Any],
    *,
    name: str,
    path: Path,
    read_from: Path | None,
    fmt: str = "trainer_state",
    warnings: list[str] | None = None,
) -> Run:
    """The run of a Trainer history (`parse_trainer_state`, `state_history`), which it uses up: metrics named by
    the one naming rule, restarts resolved, what was lost said. `read_from` is the file it came from (None:
    memory)."""
    warnings = list(warnings or [])
    where = read_from if read_from is not None else path
    if meta.get("cut_off"):
        warnings.append(f"{where}: {meta['cut_off']}")
    if meta.get("skipped_entries"):
        warnings.append(f"{where}: {meta['skipped_entries']} log entries without a usable step or value were skipped")
    frame, restarts, notes = history.frame()
    more_warnings, more_notes = restart_messages(where, found=restarts)
    warnings.extend(more_warnings)
    notes.extend(more_notes)
    meta = {**meta, **restart_meta(restarts)}
    if read_from is not None:
        meta["source_files"] = [str(read_from)]
    return Run(name=name, path=path, format=fmt, scalars=frame, meta=meta, warnings=warnings, notes=notes)


def _read_state(path: Path) -> tuple[Any, Cut | None, History]:
    """The state's fields (its `log_history` emptied), where it was cut off if it was, and its log: read in pieces
    (`json_pieces`), or whole when it cannot be (see `partial_json`), with the errors that say why it cannot be
    read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None
    history = History()
    try:
        body = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
        return load_in_pieces(body, member="log_history", take=history.add), None, history
    except NotInPieces:
        pass
    state, cut = _load_json(path, raw)
    history = History()
    if isinstance(state, dict) and isinstance(state.get("log_history"), list):
        history.add(state["log_history"])
        state = {**state, "log_history": []}
    return state, cut, history


def _load_json(path: Path, raw: bytes) -> tuple[Any, Cut | None]:
    """The document, and where it was cut off if it was (see `partial_json`)."""
    if not raw.strip():
        raise ParseError(path, "empty file")
    if raw.startswith(_LFS_POINTER):
        raise ParseError(path, "a Git LFS pointer, not the file itself (run `git lfs pull`)")
    try:
        return load_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ParseError(path, "not text (binary data where JSON was expected)") from None
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None


def parse_trainer_state(path: Path) -> tuple[History, dict[str, Any]]:
    """The points of a `trainer_state.json` (a `History`, whose tags `History.frame` names), and what it says
    about the training."""
    state, cut, history = _read_state(path)
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        if cut is not None:
            raise ParseError(path, f"truncated after {cut.size} characters, before its `log_history`: nothing to read")
        raise ParseError(path, "no `log_history` list: not a Trainer state file")
    if cut is not None and not history.entries:
        raise ParseError(path, f"truncated after {cut.size} characters, inside its first `log_history` entry")
    meta = _state_meta(state, history)
    if cut is not None:
        meta["cut_off"] = _cut_message(cut, history, state)
    return history, meta


STATE_FIELDS = _META_KEYS  # the fields of a Trainer state that say something about the training


def state_run(state: dict[str, Any], *, name: str, path: Path) -> Run:
    """The run of a Trainer state held in memory: its `log_history` list and the `STATE_FIELDS` it has (a live
    `TrainerState`, `losscli.integrations.transformers`), as from its `trainer_state.json`."""
    history, meta = state_history(state)
    return trainer_run(history, meta, name=name, path=path, read_from=None)


def state_history(state: dict[str, Any]) -> tuple[History, dict[str, Any]]:
    """The history and meta of a Trainer state: a `trainer_state.json` as loaded, or a live `TrainerState`'s
    fields (`losscli.integrations.transformers`), with its `log_history` list."""
    history = History()
    history.add(state["log_history"])
    return history, _state_meta(state, history)


def _state_meta(state: dict[str, Any], history: History) -> dict[str, Any]:
    """What a Trainer state's fields and its history's closing summary say about the training."""
    meta: dict[str, Any] = {k: state[k] for k in _META_KEYS if state.get(k) is not None}
    if history.summary is not None:
        meta["summary"] = history.summary
    _complete_meta(meta)
    if history.skipped:
        meta["skipped_entries"] = history.skipped
    return meta


def _cut_message(cut: Cut, history: History, state: dict[str, Any]) -> str:
    """What a cut-off state file kept and lost."""
    entries = "entry" if cut.elements == 1 else "entries"
    if cut.member == "log_history":
        kept = f"the {cut.elements} complete `log_history` {entries}"
        if len(history):
            reached = state.get("global_step")
            of = f" of {reached}" if isinstance(reached, int) and reached > history.last_step else ""
            kept += f" (up to step {history.last_step}{of})"
        kept += " were kept; later entries and the keys after `log_history` are lost"
    else:
        kept = "every `log_history` entry was kept; the keys after it are lost"
    read = ", ".join(f"{k}={state[k]}" for k in cut.keys if k != "log_history" and _number(state[k]) is not None)
    return (
        f"truncated: the file is cut off after {cut.size} characters (a copy in progress, or a job killed while "
        f"saving): {kept} ({cut.lost} characters after the last complete one)"
        + (f"; read before the cut: {read}" if read else "")
    )


def _complete_meta(meta: dict[str, Any]) -> None:
    epoch, step = meta.get("epoch"), meta.get("global_step")
    if isinstance(epoch, (int, float)) and isinstance(step, (int, float)) and epoch > 0 and step > 0:
        meta["steps_per_epoch"] = step / epoch


def parse_trainer_log(path: Path) -> tuple[History, dict[str, Any]]:
    """LLaMA-Factory's `trainer_log.jsonl`: one JSON object a line with `current_steps`, `loss`, `lr`, `epoch`."""
    text = read_text(path)
    lines = text.splitlines()
    complete = text.endswith("\n")
    log = TrainerLogLines(path)
    log.feed(lines if complete else lines[:-1])
    if not complete and lines:
        log.last_line(lines[-1])
    return log.result()


class TrainerLogLines:
    """A `trainer_log.jsonl` read line by line, as it is written (`losscli watch` feeds the lines appended since
    its last look; `parse_trainer_log` feeds the whole file). The lines of one `feed` are converted together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.history = History()
        self.meta: dict[str, Any] = {}
        self.bad_lines = 0

    def feed(self, lines: list[str]) -> None:
        """Complete lines, without their line ends, in file order."""
        entries: list[dict[str, Any]] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                self.bad_lines += 1
                continue
            self._entry(entry, entries)
        self.history.add(entries)

    def last_line(self, line: str) -> None:
        """The file's last line, which has no line end: cut off when it is not JSON."""
        if not line.strip():
            return
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            self.meta["cut_off"] = (
                "the last line is cut off (a run still writing, or one that stopped) and was skipped; every "
                f"complete line was kept (up to step {self.history.last_step})"
            )
            return
        entries: list[dict[str, Any]] = []
        self._entry(entry, entries)
        self.history.add(entries)

    def _entry(self, entry: Any, entries: list[dict[str, Any]]) -> None:
        """One line's dict, in the Trainer's keys, appended to `entries`."""
        step = _step(entry.get("current_steps")) if isinstance(entry, dict) else None
        if step is None:
            self.bad_lines += 1
            return
        total = _step(entry.get("total_steps"))
        if total:
            self.meta["max_steps"] = total
        converted = {k: v for k, v in entry.items() if k not in ("current_steps", "total_steps")}
        if "lr" in converted:
            converted["learning_rate"] = converted.pop("lr")
        for key in ("percentage", "elapsed_time", "remaining_time"):
            converted.pop(key, None)
        converted["step"] = step
        entries.append(converted)

    def result(self) -> tuple[History, dict[str, Any]]:
        """The history (a copy: lines may still be fed) and meta of every line fed so far; ParseError when none
        has a step."""
        if not len(self.history):
            raise ParseError(self.path, "no log lines with `current_steps`: not a LLaMA-Factory trainer log")
        meta = dict(self.meta)
        if self.bad_lines:
            meta["skipped_entries"] = self.bad_lines
        return self.history.copy(), meta
