"""What every log format provides: how to recognise its runs in a folder tree, and how to read one into `Run`s.

A format recognises runs in two ways. `claim_folder` sees one folder's listing and may claim runs that are whole
folders (a TensorBoard log dir, a Trainer output folder with its checkpoints, a wandb run folder), together with the
entries that belong to them so that the walk does not find them again. `claim_file` looks at a single loose file's
name and first bytes (a CSV export, a JSONL log). Both must be cheap: no heavy imports, at most one small read.
Reading happens later, possibly in another process, so a `Source` holds only paths.

A text log that grows by lines (a JSONL or CSV log, a console log) can also be read as it is written: its format
gives a `LineParser` (`Format.line_parser`), which `losscli watch` feeds the complete lines appended since its
last look, so that a long run is never read twice. A format without one is read whole again when its files
change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from losscli.frame import Run

HEAD_BYTES = 4096


@dataclass(frozen=True)
class Source:
    """One place that holds one run (or, for export files, several)."""

    format: str
    path: Path
    files: tuple[Path, ...]


@dataclass
class FolderClaim:
    """Runs a format found in one folder, and the entries of that folder they use up."""

    sources: list[Source]
    used_files: set[str] = field(default_factory=set)
    used_dirs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ReadOptions:
    """Choices that change how files are read (not how runs are judged)."""

    verify_checksums: bool = True


def read_text(path: Path) -> str:
    """A text log's content, or a ParseError that says why it cannot be read (a BOM is dropped)."""
    from losscli.errors import ParseError

    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not text (binary data)" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        raise ParseError(path, f"cannot read: {reason}") from None


class LineParser(Protocol):
    """A text log's reader fed its lines as the file grows: one per file, fed in file order, never twice.

    `feed` gets complete lines (up to a line end, without it; the first line of the file without a BOM); the
    watcher holds back a last line that has no line end yet. `runs` gives the run(s) of every line fed so far, as
    the format's `read` gives them from a file holding just those lines, or raises `ParseError` (nothing usable
    yet, or not this format). When the file is replaced (written again from the start, truncated), the watcher
    starts a new parser."""

    def feed(self, lines: list[str]) -> None: ...

    def runs(self) -> list[Run]: ...


class Format:
    """Base for a log format; subclasses override what applies to them."""

    name: str = ""
    label: str = ""

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        return None

    def claim_file(self, path: Path, head: bytes) -> bool:
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        raise NotImplementedError

    def line_parser(self, source: Source) -> LineParser | None:
        """A parser to feed the source's one file line by line as it grows; None when it is not read that way."""
        return None
