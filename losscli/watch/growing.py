"""What changed in one file since the last look: nothing, more bytes at its end, or a new file in its place.

Logs grow by appending, so a follower keeps how far it has read (`offset`) and reads only what lies beyond. But a
file can also be written again from the start (Lightning's CSVLogger rewrites `metrics.csv` when a metric is
added; a copy replaces a file; a log is truncated and restarted): then what was read is gone and the file must
be read from the start. That shows as another inode, a size below the offset, or different bytes just before the
offset (`_MARK` bytes, compared at each look that finds the file grown or touched).

Everything here is `stat` and, when the file changed, one small read: polling works the same on every file
system, network ones included, where change notifications (inotify) do not see other machines' writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

_MARK = 64  # bytes before the offset compared at each look


@dataclass(frozen=True)
class Signature:
    """What `stat` says about a file that tells one version of it from the next."""

    device: int
    inode: int
    size: int
    mtime_ns: int


def signature(path: Path) -> Signature | None:
    """The file's signature, or None when it is not there (or cannot be reached)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return Signature(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class Change(Enum):
    SAME = "same"  # nothing new since the last look
    GROWN = "grown"  # bytes were appended beyond the offset
    REPLACED = "replaced"  # the file was written again from the start: read it all again
    GONE = "gone"  # the file is not there (deleted, or not yet created)


class AppendedFile:
    """A file read as it grows: where the next read starts, and whether what was read is still there.

    The follower reads from `offset` (after `look` says GROWN or REPLACED) and then calls `advance` with where it
    stopped: the end of the last complete record or line, so that a record still being written is read again,
    whole, at the next look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.read_as: Signature | None = None  # the signature when the file was last read
        self.now: Signature | None = None  # the signature at the last look
        self._mark = b""

    def look(self) -> Change:
        now = self.now = signature(self.path)
        if now is None:
            return Change.GONE
        before = self.read_as
        if before is not None and (now.device, now.inode) != (before.device, before.inode):
            return self._restart()
        if now.size < self.offset:
            return self._restart()
        if now == before:
            return Change.SAME
        if self.offset and self._read_mark() != self._mark:
            return self._restart()
        if now.size == self.offset:  # touched, not grown
            self.read_as = now
            return Change.SAME
        return Change.GROWN

    def advance(self, offset: int) -> None:
        """What was read (after the last look) ends at `offset`: the next read starts there."""
        self.offset = offset
        self.read_as = self.now
        self._mark = self._read_mark()

    def _restart(self) -> Change:
        self.offset, self.read_as, self._mark = 0, None, b""
        return Change.REPLACED

    def _read_mark(self) -> bytes:
        start = max(0, self.offset - _MARK)
        try:
            with open(self.path, "rb") as handle:
                handle.seek(start)
                return handle.read(self.offset - start)
        except OSError:
            return b""


class WholeFile:
    """A file that is written whole each time (a `trainer_state.json`): read again when its signature changes.

    A file caught while it is being written reads as cut off or invalid; `settled` tells whether it has kept the
    same signature since the look before, so that the follower can wait one more look before reporting it as
    damaged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_as: Signature | None = None  # the signature of the version last read
        self.seen: Signature | None = None  # the signature at the last look
        self.settled = False

    def look(self) -> Change:
        now = signature(self.path)
        self.settled = now is not None and now == self.seen
        self.seen = now
        if now is None:
            return Change.GONE
        if self.read_as is None:
            return Change.REPLACED
        return Change.SAME if now == self.read_as else Change.REPLACED

    def done(self) -> None:
        """The version seen at the last look has been read."""
        self.read_as = self.seen
