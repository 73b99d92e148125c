"""What every log format provides: how to recognise its runs in a folder tree, and how to read one into `Run`s.

A format recognises runs in two ways. `claim_folder` sees one folder's listing and may claim runs that are whole
folders (a TensorBoard log dir, a Trainer output folder with its checkpoints, a wandb run folder), together with the
entries that belong to them so that the walk does not find them again. `claim_file` looks at a single loose file's
name and first bytes (a CSV export, a JSONL log). Both must be cheap: no heavy imports, at most one small read.
Reading happens later, possibly in another process, so a `Source` holds only paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

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
