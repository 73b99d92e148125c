"""What every log format provides: how to recognise its runs in a folder tree, and how to read one into `Run`s.

A format recognises runs in two ways. `claim_folder` sees one folder's listing and may claim runs that are whole
folders (a TensorBoard log dir, a Trainer output folder with its checkpoints, a wandb run folder), together with the
entries that belong to them so that the walk does not find them again. `claim_file` looks at a single loose file's
name and first bytes (a CSV export, a JSONL log). Both must be cheap: no heavy imports, at most one small read.
Reading happens later, possibly in another process, so a `Source` holds only paths.

A file no format recognises is offered once more, to `claim_chosen_file`, when the user pointed at it: named on
the command line, or a table whose columns the user named (`--step-col`, ...). Only the loss-table reader takes
such files, so that a table with unusual column names gets one clear error that lists its columns instead of
"not a training log".

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
# How far into a file a claim may look at most: a console log's first Trainer dict may come after pages of
# warnings. A file still smaller than this that no format took may be recognised once it grows (`losscli watch`).
RECOGNITION_BYTES = 1 << 20


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
    """Choices that change how files are read (not how runs are judged).

    `step_col`, `loss_col`, `epoch_col` and `eval_col` name a loss table's columns when they are not named in a
    usual way (`parsers.loss_table`); a table holding the named columns is then found while walking a tree too.
    """

    verify_checksums: bool = True
    step_col: str | None = None
    loss_col: str | None = None
    epoch_col: str | None = None
    eval_col: str | None = None

    def chosen_columns(self) -> dict[str, str]:
        """The table columns the user named, by role (`step`, `loss`, `epoch`, `eval`)."""
        chosen = {"step": self.step_col, "loss": self.loss_col, "epoch": self.epoch_col, "eval": self.eval_col}
        return {role: name for role, name in chosen.items() if name}


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

    def claim_chosen_file(self, path: Path, head: bytes, *, named: bool, options: ReadOptions) -> bool:
        """Take a file that no format claimed, which the user pointed at: `named` on the command line, or (when
        `named` is False) met while walking a tree with `options` that name table columns."""
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        raise NotImplementedError

    def line_parser(self, source: Source, options: ReadOptions) -> LineParser | None:
        """A parser to feed the source's one file line by line as it grows; None when it is not read that way."""
        return None
