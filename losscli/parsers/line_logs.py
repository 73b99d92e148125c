"""Logs written one line at a time, read by a parser that is fed lines and asked for the run so far.

Console captures, torchtune's DiskLogger files, ms-swift's `logging.jsonl` and CSV, TSV and JSONL loss tables grow
a line at a time while a run trains. Each is read by a `LineLog`: `feed(lines)` reads more complete lines,
`records()` returns every point read so far, and `run()` the run they make, which may be asked for again after
more lines were fed. `Format.read` is the same parser fed the whole file (`feed_file`), so a file read at once and
a file followed as it grows (`losscli watch`: `LineBuffer` splits what was appended into complete lines and keeps
a cut-off last line until its end arrives) give the same run.

Lines are decoded as UTF-8, a bad byte becoming U+FFFD rather than failing the file: a log with a stray byte in
one line is still a log. A last line without its end (a run still writing, or one that stopped) is fed with
`feed_cut`: if it cannot be read it is reported as cut off, not as damage.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from losscli.errors import ParseError
from losscli.frame import ConfigSource, Run
from losscli.parsers.records import Record, build_run, name_records

_BATCH = 4096  # lines per feed when a whole file is read


class LineLog(ABC):
    """Reads one line-based log incrementally (module docstring). Subclasses implement `_line`."""

    format: str = ""
    empty: str = "no points"  # the error when the lines hold no point at all

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0  # complete lines fed
        self.bad_lines = 0  # lines that should have held points but could not be read
        self.cut = False  # the last line fed was cut off and could not be read
        self.meta: dict[str, Any] = {"source_files": [str(path)]}
        self.notes: list[str] = []
        self.configs: list[ConfigSource] = []
        self._records: list[Record] = []

    def feed(self, lines: Iterable[str]) -> None:
        """Read more complete lines (without their line ends)."""
        for line in lines:
            self.lines += 1
            self.cut = False
            self._line((line.lstrip("\ufeff") if self.lines == 1 else line).rstrip("\r\n"), cut=False)

    def feed_cut(self, line: str) -> None:
        """Read a last line that has no line end yet (the file ends in it)."""
        if line:
            self._line(line.lstrip("\ufeff") if not self.lines else line, cut=True)

    @abstractmethod
    def _line(self, line: str, *, cut: bool) -> None:
        """Read one line (`cut`: the file ends in it, without a line end)."""

    def unreadable(self, *, cut: bool) -> None:
        """Count a line that should have held points but could not be read (a cut-off last line apart)."""
        if cut:
            self.cut = True
        else:
            self.bad_lines += 1

    def points(self) -> list[Record]:
        """Every point the lines fed so far hold, in logged order, as read (not yet named)."""
        return list(self._records)

    def records(self) -> list[Record]:
        """Every point the lines fed so far hold, in logged order, named by the one naming rule."""
        return self.named_records()[0]

    def named_records(self) -> tuple[list[Record], list[str]]:
        """The points so far with their metric decided, and the naming rule's notes."""
        return name_records(self._records)

    def warnings(self) -> list[str]:
        """What went wrong in the lines fed so far, each naming the file."""
        found = []
        if self.bad_lines:
            lines = "line" if self.bad_lines == 1 else "lines"
            found.append(f"{self.path}: {self.bad_lines} {lines} that could not be read were skipped")
        if self.cut:
            found.append(f"{self.path}: the last line is cut off (a run still writing, or one that stopped); skipped")
        return found

    def runs(self) -> list[Run]:
        """The run of every line fed so far, as the format's `read` gives it: what `losscli watch` asks for (the
        `LineParser` protocol of `losscli.parsers.base`)."""
        return [self.run()]

    def run(self, *, name: str | None = None, path: Path | None = None) -> Run:
        """The run the lines fed so far make (a ParseError naming the file if they hold no point)."""
        records, naming_notes = self.named_records()
        if not records:
            raise ParseError(self.path, self.empty)
        return build_run(
            records,
            path=path or self.path,
            name=name or (path or self.path).name,
            format=self.format,
            where=self.path,
            meta=self.meta,
            warnings=self.warnings(),
            notes=[*self.notes, *naming_notes],
            configs=self.configs,
            named=True,
        )


P = TypeVar("P", bound=LineLog)


def feed_file(parser: P, path: Path | None = None) -> P:
    """Feed a whole file to `parser` (its own path unless another is given), line by line, without holding the
    file in memory; a last line without its end goes to `feed_cut`."""
    path = path or parser.path
    try:
        with path.open("rb") as handle:
            batch: list[str] = []
            last = b""
            for raw in handle:
                if not raw.endswith(b"\n"):
                    last = raw
                    break
                batch.append(raw.decode("utf-8", errors="replace"))
                if len(batch) >= _BATCH:
                    parser.feed(batch)
                    batch = []
            parser.feed(batch)
            parser.feed_cut(last.decode("utf-8", errors="replace"))
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None
    return parser


class LineBuffer:
    """Bytes appended to a log, split into complete lines; a last line without its end waits for the rest."""

    def __init__(self) -> None:
        self._tail = b""

    def add(self, data: bytes) -> list[str]:
        """The complete lines `data` ends (with what was pending before it), decoded, without their ends."""
        *complete, self._tail = (self._tail + data).split(b"\n")
        return [line.decode("utf-8", errors="replace") for line in complete]

    @property
    def pending(self) -> str:
        """The last line so far, not yet ended."""
        return self._tail.decode("utf-8", errors="replace")
