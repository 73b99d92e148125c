"""What a follower is: it keeps one source's runs up to date as its files grow, reading only what is new.

`look` reads what changed since the last look and says whether the runs may have changed; `runs` gives them as
the format's reader would give them from the files as they are now (read whole, the same runs: the tests check
it). The watcher judges a source again only after a look that said so.

`WholeSource` follows any format by reading the source again whenever one of its files changes: right for files
that are written whole (exports), and the fallback for formats that have no follower of their own. A file caught
while being written may read as damaged; such a result is held back until a look finds the files unchanged since
the look before, so that a half-written file is read again rather than reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from losscli.errors import ParseError
from losscli.parsers import get_format
from losscli.parsers.base import ReadOptions, Source
from losscli.watch.growing import Change, WholeFile

if TYPE_CHECKING:
    from losscli.frame import Run


class MidWrite(Exception):
    """A file read while it was being written: read it again at the next look (never shown to users)."""


class Follower:
    """Keeps one source's runs up to date (module docstring)."""

    def __init__(self, source: Source, options: ReadOptions) -> None:
        self.source = source
        self.options = options

    def renew(self, source: Source) -> None:
        """The walk found the source again, perhaps with other files (a new checkpoint, a new event file)."""
        self.source = source

    def look(self) -> bool:
        """Read what is new; True when the runs may have changed and should be judged again."""
        raise NotImplementedError

    @property
    def ready(self) -> bool:
        """Whether anything has been read yet (a file just created holds nothing to judge)."""
        raise NotImplementedError

    def runs(self) -> list[Run]:
        """The runs as read so far; ParseError when they cannot be read."""
        raise NotImplementedError


class WholeSource(Follower):
    """Any format: the source read whole again when one of its files changed (module docstring)."""

    def __init__(self, source: Source, options: ReadOptions) -> None:
        super().__init__(source, options)
        self.files: dict[Path, WholeFile] = {}
        self.read: list[Run] | ParseError | None = None
        self.held = False  # a result with problems held back until the files stay the same for a look

    def look(self) -> bool:
        files = [self.files.setdefault(p, WholeFile(p)) for p in self.source.files]
        changes = [f.look() for f in files]
        if not self.held and all(c is Change.SAME for c in changes):
            return False
        try:
            result: list[Run] | ParseError = get_format(self.source.format).read(self.source, self.options)
        except ParseError as exc:
            result = exc
        except OSError as exc:  # a file deleted between the look and the read
            result = ParseError(self.source.path, f"cannot read: {exc.strerror or exc}")
        troubled = isinstance(result, ParseError) or any(run.warnings for run in result)
        self.held = troubled and not all(f.settled for f in files)
        if self.held:
            return False
        for f in files:
            f.done()
        self.read = result
        return True

    @property
    def ready(self) -> bool:
        return self.read is not None

    def runs(self) -> list[Run]:
        if isinstance(self.read, ParseError):
            raise self.read
        return list(self.read or [])
