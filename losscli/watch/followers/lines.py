"""Text logs that grow by lines (JSONL and CSV logs): only the complete lines appended since the last look are
read, and fed to the format's `LineParser` (`losscli.parsers.base`).

A log is judged once it has two complete lines: its first alone (a table's header) is not a run yet.

A new line format plugs in by giving its `Format` a `line_parser(source, options)` that returns an object with
`feed(lines)` and `runs()`; nothing here changes. A last line without its line end is a line still being written:
it is left for the next look. A file written again from the start gets a new parser and is read from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from losscli.errors import ParseError
from losscli.parsers import get_format
from losscli.parsers.base import LineParser, ReadOptions, Source
from losscli.watch.followers.base import Follower
from losscli.watch.growing import AppendedFile, Change

if TYPE_CHECKING:
    from losscli.frame import Run

_BOM = b"\xef\xbb\xbf"
P = TypeVar("P")


class AppendedLines(Generic[P]):
    """One file's complete lines, fed to a parser as they are appended."""

    def __init__(self, path: Path, new_parser: Callable[[], P], feed: Callable[[P, list[str]], None]) -> None:
        self.file = AppendedFile(path)
        self.new_parser, self.feed = new_parser, feed
        self.parser = new_parser()
        self.fed = 0  # complete lines fed to this parser
        self.error: ParseError | None = None

    def look(self) -> bool:
        """Feed the lines appended since the last look; True when there were any (or the file was replaced)."""
        change = self.file.look()
        if change is Change.REPLACED:
            self.parser, self.fed, self.error = self.new_parser(), 0, None
        if change not in (Change.GROWN, Change.REPLACED) or self.error is not None:
            return change is Change.REPLACED
        start = self.file.offset
        try:
            with open(self.file.path, "rb") as handle:
                handle.seek(start)
                data = handle.read()
        except OSError as exc:
            self.error = ParseError(self.file.path, f"cannot read: {exc.strerror or exc}")
            return True
        end = data.rfind(b"\n") + 1  # a last line without its line end is still being written
        if not end:
            return change is Change.REPLACED
        chunk = data[:end]
        if start == 0 and chunk.startswith(_BOM):
            chunk = chunk[len(_BOM) :]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            self.error = ParseError(self.file.path, "cannot read: not text (binary data)")
            return True
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")[:-1]]
        try:
            self.feed(self.parser, lines)
        except ParseError as exc:
            self.error = exc
        self.fed += len(lines)
        self.file.advance(start + end)
        return True


class Lines(Follower):
    """A one-file source whose format reads it line by line (module docstring)."""

    def __init__(self, source: Source, options: ReadOptions) -> None:
        super().__init__(source, options)
        fmt = get_format(source.format)

        def new_parser() -> LineParser:
            parser = fmt.line_parser(source, options)
            assert parser is not None  # `follower_for` chose this follower because there is one
            return parser

        self.lines: AppendedLines[LineParser] = AppendedLines(source.path, new_parser, _feed)

    def look(self) -> bool:
        return self.lines.look()

    @property
    def ready(self) -> bool:
        """A log of one line is not a run yet (a table's header, a first line of warnings): it is judged from its
        second line on, so that a file just begun is never reported as one that holds nothing."""
        return self.lines.fed >= 2 or self.lines.error is not None

    def runs(self) -> list[Run]:
        if self.lines.error is not None:
            raise self.lines.error
        return self.lines.parser.runs()


def _feed(parser: LineParser, lines: list[str]) -> None:
    parser.feed(lines)
