"""Local stand-ins for remote files: a file's whole content, its first bytes only, or nothing.

A stand-in has the remote file's size (the rest of a file whose first bytes only were fetched is a hole: sparse,
it takes no disk), so that what looks at sizes sees the remote ones. Pickles and model weights
(`discover.NEVER_OPENED`) are never fetched, not even their first bytes: their stand-in is a hole of their size,
there because a name such as `training_args.bin` says something about a folder.

Fetches go in batches through the file system's own concurrency (`cat_ranges`: one ranged GET per file, many in
flight for object stores); a file that cannot be fetched is reported by its URL, never retried here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.discover import NEVER_OPENED
from losscli.parsers.base import RECOGNITION_BYTES

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

HEAD = RECOGNITION_BYTES  # the first bytes any claim or configuration reader looks at (a console log's, at most)
BATCH = 256  # files per batch of concurrent requests: memory stays bounded by BATCH * HEAD
WHOLE, FIRST_BYTES, NOTHING = "whole", "head", "none"


def kind_of(name: str, size: int, *, whole: bool) -> str:
    """What a stand-in holds: nothing for pickles and weights; a small file whole; a large one whole when `whole`
    (its run reads it), else its first bytes."""
    if name.lower().endswith(NEVER_OPENED):
        return NOTHING
    return WHOLE if whole or size <= HEAD else FIRST_BYTES


Wanted = tuple[str, Path, int, str, "Path | None"]  # remote path, local path, size, kind, a stand-in made before


def place(fs: AbstractFileSystem, wanted: Iterable[Wanted]) -> dict[str, str]:
    """Write stand-ins. Where a stand-in made before on this machine (the walk's mirror) holds what is wanted (a
    small file whole, or first bytes), it is linked instead of fetched again. Returns the remote paths that could
    not be fetched, with why."""
    failed: dict[str, str] = {}
    fetch: list[tuple[str, Path, int, str]] = []
    for remote, local, size, kind, before in wanted:
        local.parent.mkdir(parents=True, exist_ok=True)
        if kind == NOTHING:
            _hole(local, size)
        elif before is not None and (kind == FIRST_BYTES or size <= HEAD) and _linked(before, local, size):
            continue
        else:
            fetch.append((remote, local, size, kind))
    for start in range(0, len(fetch), BATCH):
        batch = fetch[start : start + BATCH]
        ends = [size if kind == WHOLE else min(size, HEAD) for _, _, size, kind in batch]
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
