"""Hugging Face Trainer output folders as they are written: each `trainer_state.json` read when it changes, a
LLaMA-Factory `trainer_log.jsonl` by appended lines.

The Trainer writes `trainer_state.json` whole, into each new `checkpoint-*/` folder (found by the walk) and, at
the end, into the output folder; such a file is small, so it is read again when its size or time changes, and
only then. The run is chosen and made by `read_trainer_output`, as from files read whole. A state file caught
while being written (cut off, or not JSON yet) is read again at the next look; only one that stays so across two
looks is reported, as the reader reports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.parsers.base import ReadOptions, Source
from losscli.watch.followers.base import Follower, MidWrite
from losscli.watch.followers.lines import AppendedLines
from losscli.watch.growing import Change, Signature, WholeFile

if TYPE_CHECKING:
    from losscli.frame import Run
    from losscli.parsers.trainer_history import History
    from losscli.parsers.trainer_logs import TrainerLogLines

Parsed = tuple["History", dict[str, Any]]


class TrainerOutput(Follower):
    def __init__(self, source: Source, options: ReadOptions) -> None:
        super().__init__(source, options)
        self.states: dict[Path, WholeFile] = {}
        self.parsed: dict[Path, tuple[Signature | None, Parsed | ParseError]] = {}  # by the version read
        self.logs: dict[Path, AppendedLines[TrainerLogLines]] = {}
        self.present: list[Path] = []
        self.run: Run | ParseError | None = None
        self.retry = False

    def look(self) -> bool:
        changed = self.retry
        self.present = []
        for path in self.source.files:
            if path.name.endswith(".jsonl"):
                lines = self.logs.get(path) or self.logs.setdefault(path, _log_lines(path))
                changed |= lines.look()
                if lines.fed or lines.error is not None:
                    self.present.append(path)
                continue
            state = self.states.setdefault(path, WholeFile(path))
            change = state.look()
            if change is Change.GONE:  # a checkpoint rotated away (save_total_limit)
                self.parsed.pop(path, None)
                changed |= state.read_as is not None
                state.read_as = None
                continue
            self.present.append(path)
            changed |= change is Change.REPLACED
        if not changed:
            return False
        from losscli.parsers.trainer_logs import read_trainer_output

        source = Source(self.source.format, self.source.path, tuple(self.present))
        try:
            self.run = read_trainer_output(source, parse=self._parse) if self.present else None
        except MidWrite:
            self.retry = True
            return False
        except ParseError as exc:
            self.run = exc
        self.retry = False
        for path in self.present:
            if path in self.states:
                self.states[path].done()
        return True

    def _parse(self, path: Path) -> Parsed:
        from losscli.parsers.trainer_logs import parse_trainer_state

        if path.name.endswith(".jsonl"):
            lines = self.logs[path]
            if lines.error is not None:
                raise lines.error
            return lines.parser.result()
        state = self.states[path]
        version, known = self.parsed.get(path, (None, None))
        if known is None or version != state.seen:
            try:
                known = parse_trainer_state(path)
            except ParseError as exc:
                known = exc
            troubled = isinstance(known, ParseError) or "cut_off" in known[1]
            if troubled and not state.settled:
                raise MidWrite(path)
            self.parsed[path] = (state.seen, known)
        if isinstance(known, ParseError):
            raise known
        return known[0].copy(), known[1]  # making the run uses a history up; this one is kept for the next look

    @property
    def ready(self) -> bool:
        return self.run is not None

    def runs(self) -> list[Run]:
        if isinstance(self.run, ParseError):
            raise self.run
        return [self.run] if self.run is not None else []


def _log_lines(path: Path) -> AppendedLines[TrainerLogLines]:
    from losscli.parsers.trainer_logs import TrainerLogLines

    return AppendedLines(path, lambda: TrainerLogLines(path), TrainerLogLines.feed)
