"""Local stand-ins for remote files: a file's whole content, its first bytes only, or nothing.

A stand-in has the remote file's size (the rest of a file whose first bytes only were fetched is a hole: sparse,
it takes no disk), so that what looks at sizes sees the remote ones. Pickles and model weights
(`discover.NEVER_OPENED`) are never fetched, not even their first bytes: their stand-in is a hole of their size,
there because a name such as `training_args.bin` says something about a folder.

The walk's mirror holds what the walk may look at; a run's folder what reading the run and its configuration
reads (`walk_bytes`, `run_bytes`). Fetches go in batches through the file system's own concurrency
(`cat_ranges`: one ranged GET per file, many in flight for object stores); a file that cannot be fetched is
reported by its URL, never retried here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.discover import NEVER_OPENED
from losscli.parsers.base import HEAD_BYTES, RECOGNITION_BYTES

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

HEAD = RECOGNITION_BYTES  # the first bytes any claim or configuration reader looks at (a console log's, at most)
LOOK = HEAD_BYTES  # what the walk looks at of a log it knows by its name (a folder's first event tag)
NAMED_LOGS = ("tfevents", ".wandb")  # binary logs known by name: their configuration is in their first bytes
BATCH = 256  # files per batch of concurrent requests: memory stays bounded by BATCH * HEAD


def walk_bytes(name: str, size: int) -> int:
    """How much of a file the walk's mirror holds: nothing of pickles and weights, `LOOK` of a log known by its
    name, else `HEAD` (a small file whole)."""
    if name.lower().endswith(NEVER_OPENED):
        return 0
    return min(size, LOOK if _named_log(name) else HEAD)


def run_bytes(name: str, size: int, *, own: bool) -> int:
    """How much of a file a run's private folder holds: nothing of pickles and weights; its own files and every
    other file whole, except other runs' logs known by name, of which `HEAD` (what configuration readers look
    at)."""
    if name.lower().endswith(NEVER_OPENED):
        return 0
    return size if own or not _named_log(name) else min(size, HEAD)


def _named_log(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return "tfevents" in base or base.endswith(".wandb")


Wanted = tuple[str, Path, int, int, "Path | None"]  # remote path, local path, size, bytes wanted, a mirror's copy


def place(fs: AbstractFileSystem, wanted: Iterable[Wanted]) -> dict[str, str]:
    """Write stand-ins, each holding its first `bytes wanted`. A copy made before on this machine (the walk's
    mirror, given only where it holds the bytes wanted) is linked instead of fetched again. Returns the remote
    paths that could not be fetched, with why."""
    failed: dict[str, str] = {}
    fetch: list[tuple[str, Path, int, int]] = []
    for remote, local, size, end, before in wanted:
        local.parent.mkdir(parents=True, exist_ok=True)
        if end == 0:
            _hole(local, size)
        elif before is None or not _linked(before, local, size):
            fetch.append((remote, local, size, end))
    for start in range(0, len(fetch), BATCH):
        batch = fetch[start : start + BATCH]
        ends = [end for _, _, _, end in batch]
        try:
            datas = fs.cat_ranges([b[0] for b in batch], [0] * len(batch), ends, on_error="return")
        except Exception as exc:  # the whole batch: each file is named
            datas = [exc] * len(batch)
        for (remote, local, size, _), data in zip(batch, datas):
            if isinstance(data, BaseException):
                failed[remote] = _why(data)
                continue
            try:
                with open(local, "wb") as handle:
                    handle.write(data)
                    if len(data) < size:
                        handle.truncate(size)
            except OSError as exc:  # the private folder is full, or the name is not one this disk takes
                failed[remote] = f"cannot be copied here ({exc.strerror or exc})"
    return failed


def _hole(local: Path, size: int) -> None:
    with open(local, "wb") as handle:
        handle.truncate(size)


def _linked(before: Path, local: Path, size: int) -> bool:
    """Link a stand-in made before, unless it is one that could not be fetched (empty)."""
    try:
        if before.stat().st_size != size:
            return False
        os.link(before, local)
    except OSError:
        return False
    return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no longer there"
    if isinstance(exc, PermissionError):
        return "access denied"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
