"""TensorBoard runs as they are written: each event file read from the end of its last complete record.

Each look reads, for every event file of the run (a new one, from a resumed run or the final `evaluate()`, is
added when the walk finds it), the records completed since the last look
(`parsers.tensorboard.reader.read_event_file_from`); a record still being written is read whole at a later look.
The pieces of a file are joined as if it had been read whole, and the run is made of the files as
`read_tensorboard` makes it, so that following a run and reading it afterwards give the same run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.parsers.base import ReadOptions, Source
from losscli.watch.followers.base import Follower
from losscli.watch.growing import AppendedFile, Change

if TYPE_CHECKING:
    from losscli.frame import Run
    from losscli.parsers.tensorboard.collect import FileScalars


@dataclass
class _EventFile:
    """One event file being followed: the scalars read from it so far and what went wrong."""

    file: AppendedFile
    parts: list[FileScalars] = field(default_factory=list)
    plugins: dict[str, str] = field(default_factory=dict)
    lost_bytes: int = 0
    error: str | None = None


class EventFiles(Follower):
    def __init__(self, source: Source, options: ReadOptions) -> None:
        super().__init__(source, options)
        self.files: dict[Path, _EventFile] = {}

    def look(self) -> bool:
        from losscli.parsers.tensorboard.reader import read_event_file_from

        changed = False
        for path in self.source.files:
            state = self.files.get(path)
            if state is None:
                state = self.files[path] = _EventFile(AppendedFile(path))
            change = state.file.look()
            if change is Change.REPLACED:
                state.parts, state.plugins, state.lost_bytes, state.error = [], {}, 0, None
                changed = True
            if change not in (Change.GROWN, Change.REPLACED):
                continue
            try:
                tail = read_event_file_from(
                    path, offset=state.file.offset, verify=self.options.verify_checksums, known_plugins=state.plugins
                )
            except OSError as exc:
                state.error = f"{path}: cannot read: {exc.strerror or exc}"
                changed = True
                continue
            state.error = None
            if tail.scalars.records:
                state.parts.append(tail.scalars)
                state.plugins.update(tail.scalars.plugins)
                changed = True
            state.lost_bytes += tail.lost_bytes
            state.file.advance(tail.end)
        return changed

    @property
    def ready(self) -> bool:
        """A point was read (a file holding only the writer's first record has nothing to judge yet)."""
        return any(s.error or any(len(p.step) for p in s.parts) for s in self.files.values())

    def runs(self) -> list[Run]:
        from losscli.parsers.tensorboard.collect import join_scalars
        from losscli.parsers.tensorboard.reader import EventFile, tensorboard_run

        files = []
        for path in self.source.files:
            state = self.files.get(path)
            if state is None:
                continue
            if state.error is not None:
                files.append(EventFile(path, None, [state.error]))
                continue
            if not state.parts:
                continue  # nothing complete yet: not a failure
            if len(state.parts) > 1:
                state.parts = [join_scalars(state.parts)]
            problems = []
            if state.lost_bytes:
                problems.append(
                    f"{path}: {state.lost_bytes} bytes of damaged records were skipped; reading went on with the "
                    "next intact record"
                )
            files.append(EventFile(path, state.parts[0], problems))
        return [tensorboard_run(self.source, files, verified=self.options.verify_checksums)]
