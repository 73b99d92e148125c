"""Find the runs under the paths a user gives, in the same order every time, one at a time.

The walk visits folders in sorted name order, depth first. In each folder the formats are asked, in registry
order, whether the folder itself holds runs (a TensorBoard log dir, a Trainer output folder, a wandb run folder);
entries a claim uses are not visited again. Loose files left over are offered to each format by name and first
bytes, except pickles and model weights (`NEVER_OPENED`), which are never opened. Sub-folders are walked next,
except hidden ones and dependency or cache folders (`node_modules`, `__pycache__`, `site-packages`, ...) unless
`include_hidden` is set. Symbolic links to folders are followed once:
a folder already visited (same device and inode) is skipped, so link loops end.

What the walk meets on the way is a `Problem`, in walk order with the runs: an entry it skips on purpose (a link
loop, a broken link, a socket, pipe or device) is a warning; a folder or file it cannot list or read is an error,
because a run may hide there. The walk is a generator, so that the first run is judged (and printed) while the
rest of a large tree is still being walked.

A file named on the command line is the run its folder makes of it when a format claims the folder for that file
(`a/trainer_state.json` is the run `a`, as `classify a/` names it); other files (exports, `metrics.csv`) are named
with their folder (`version_0/metrics.csv`), so that two files of the same name stay two names.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losscli.errors import UsageError
from losscli.parsers import all_formats
from losscli.parsers.base import HEAD_BYTES, Format, ReadOptions, Source

# Pickles and model weights are never opened, not even to look at their first bytes: a pickle runs code when
# loaded, and no log is one (the Trainer's training_args.bin, pytorch_model.bin, checkpoints).
NEVER_OPENED = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".safetensors")
NOISE_DIRS = frozenset(
    {"node_modules", "__pycache__", "site-packages", ".git", "venv", ".venv", ".tox", ".ipynb_checkpoints"}
)


@dataclass(frozen=True)
class Problem:
    """Something met while finding runs: an entry skipped on purpose (a warning), or one that could not be
    listed or read (an error: an input losscli could not read)."""

    message: str
    error: bool = False


Located = tuple[Source, Path]  # a run source and the input root it was found under (its name is relative to it)


@dataclass
class Found:
    """The sources found, each with the input root it was found under, and the problems met on the way."""

    sources: list[Located] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WalkOptions:
    """What a walk takes: name patterns to include and exclude, hidden entries, and the formats asked for."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    formats: tuple[str, ...] = ()


def find_sources(
    paths: Iterable[str | Path], *, options: WalkOptions | None = None, read_options: ReadOptions | None = None
) -> Found:
    """Every run source under `paths`, deduplicated, in a deterministic order, with the problems met."""
    found = Found()
    for item in walk(paths, options=options, read_options=read_options):
        if isinstance(item, Problem):
            (found.errors if item.error else found.warnings).append(item.message)
        else:
            found.sources.append(item)
    return found


def walk(
    paths: Iterable[str | Path], *, options: WalkOptions | None = None, read_options: ReadOptions | None = None
) -> Iterator[Problem | Located]:
    """The run sources under `paths` and the problems met, in walk order, as they are found.

    `read_options` that name table columns (`--step-col`, ...) make tables holding those columns runs too.
    Every path is checked before the walk starts: one that does not exist raises `UsageError` here, not
    half-way through the output."""
    roots = [Path(raw) for raw in paths]
    return _walk_all(roots, [_mode(root) for root in roots], options or WalkOptions(), read_options or ReadOptions())


def _mode(root: Path) -> int:
    try:
        return root.stat().st_mode
    except OSError as exc:
        raise UsageError(f"{root}: {exc.strerror or 'cannot be read'}") from None


def _walk_all(
    roots: list[Path], modes: list[int], options: WalkOptions, read: ReadOptions
) -> Iterator[Problem | Located]:
    seen_dirs = _Seen()
    seen_sources = _Seen()
    formats = [f for f in all_formats() if not options.formats or f.name in options.formats]
    for root, mode in zip(roots, modes):
        if stat.S_ISDIR(mode):
            items = _walk_folder(root, formats, options, seen_dirs, read)
        elif stat.S_ISREG(mode):
            items = _named_file(root, formats, read)
        else:
            items = iter([Problem(f"{root}: not a file or folder; skipped")])
        for item in items:
            if isinstance(item, Problem):
                yield item
                continue
            source, base = item
            if not _selected(source.path, base, options):
                continue
            if seen_sources.add(0, hash(os.path.realpath(source.path)) & _UINT64):  # 64 bits of the real path
                yield item


def _selected(path: Path, root: Path, options: WalkOptions) -> bool:
    if not options.include and not options.exclude:
        return True
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    candidates = (rel, path.as_posix(), path.name)
    if options.include and not any(fnmatch.fnmatch(c, pat) for pat in options.include for c in candidates):
        return False
    return not any(fnmatch.fnmatch(c, pat) for pat in options.exclude for c in candidates)


def _named_file(path: Path, formats: list[Format], read: ReadOptions) -> Iterator[Problem | Located]:
    """A file named on the command line: the run its folder makes of it, else a loose file named with its
    folder (the root is the folder above its own)."""
    folder = path.parent
    base = folder.parent
    for fmt in formats:
        try:
            claim = fmt.claim_folder(folder, [path.name], [])
        except OSError as exc:
            yield Problem(f"{path}: {exc.strerror or 'cannot be read'}", error=True)
            return
        if claim is not None and claim.sources:
            for source in claim.sources:
                yield source, base
            return
    problems: list[Problem] = []
    loose = _claim_loose_file(path, formats, problems, explicit=True, read=read)
    yield from problems
    if loose is not None:
        yield loose, base


def _walk_folder(
    folder: Path, formats: list[Format], options: WalkOptions, seen_dirs: _Seen, read: ReadOptions
) -> Iterator[Problem | Located]:
    # Depth first, in name order. Each level is the rest of a folder's sub-folders by name, turned into paths one
    # at a time: a folder of 100,000 runs holds 100,000 short names here, not 100,000 Path objects.
    stack: list[Iterator[Path]] = [iter((folder,))]
    while stack:
        current = next(stack[-1], None)
        if current is None:
            stack.pop()
            continue
        problems: list[Problem] = []
        listing = _list(current, seen_dirs, problems)
        yield from problems
        if listing is None:
            continue
        files, dirs = listing
        used_files: set[str] = set()
        used_dirs: set[str] = set()
        for fmt in formats:
            claim = fmt.claim_folder(
                current, [f for f in files if f not in used_files], [d for d in dirs if d not in used_dirs]
            )
            if claim is None:
                continue
            for source in claim.sources:
                yield source, folder
            used_files |= claim.used_files
            used_dirs |= claim.used_dirs
        for name in files:
            if name in used_files or name.lower().endswith(NEVER_OPENED):
                continue
            problems = []
            loose = _claim_loose_file(current / name, formats, problems, explicit=False, read=read)
            yield from problems
            if loose is not None:
                yield loose, folder
        walk_next = [
            d
            for d in dirs
            if d not in used_dirs and (options.include_hidden or (not d.startswith(".") and d not in NOISE_DIRS))
        ]
        stack.append(_below(current, walk_next))


def _below(folder: Path, names: list[str]) -> Iterator[Path]:
    return (folder / name for name in names)


_UINT64 = (1 << 64) - 1
_MERGE = 1 << 14


class _Seen:
    """What the walk has met (folders by device and inode, runs by their real path's 64-bit hash), in about 8
    bytes each, so that memory stays flat over a tree of a million runs: new keys go to a small set, merged into
    a sorted array as it grows. (Two real paths share a hash once in 2**64 pairs; folders are compared exactly.)"""

    def __init__(self) -> None:
        self.recent: dict[int, set[int]] = {}
        self.merged: dict[int, Any] = {}  # device -> sorted uint64 array

    def add(self, device: int, key: int) -> bool:
        """Whether `key` (an unsigned 64-bit int) is new on `device`; it is met from now on."""
        recent = self.recent.setdefault(device, set())
        if key in recent:
            return False
        merged = self.merged.get(device)
        if merged is not None:
            import numpy as np

            at = int(np.searchsorted(merged, np.uint64(key)))
            if at < len(merged) and int(merged[at]) == key:
                return False
        recent.add(key)
        if len(recent) >= _MERGE:
            import numpy as np

            new = np.fromiter(recent, np.uint64, len(recent))
            self.merged[device] = np.union1d(merged, new) if merged is not None else np.sort(new)
            recent.clear()
        return True


def _unreadable(path: Path, exc: OSError, what: str) -> Problem:
    return Problem(f"{path}: {exc.strerror or what}; skipped", error=True)


def _list(folder: Path, seen_dirs: _Seen, problems: list[Problem]) -> tuple[list[str], list[str]] | None:
    """Sorted file and folder names of `folder`, or None if it was seen already or cannot be read."""
    try:
        info = folder.stat()
    except OSError as exc:
        problems.append(_unreadable(folder, exc, "cannot be read"))
        return None
    if not seen_dirs.add(info.st_dev, info.st_ino):
        if folder.is_symlink():
            problems.append(Problem(f"{folder}: link to a folder already visited (a link loop?); skipped"))
        return None
    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    mode = entry.stat().st_mode
                except OSError as exc:
                    if entry.is_symlink() and exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                        problems.append(Problem(f"{folder / entry.name}: broken link; skipped"))
                    else:
                        problems.append(_unreadable(folder / entry.name, exc, "cannot be read"))
                    continue
                if stat.S_ISDIR(mode):
                    dirs.append(entry.name)
                elif stat.S_ISREG(mode):
                    files.append(entry.name)
                else:
                    problems.append(
                        Problem(f"{folder / entry.name}: not a regular file (socket, pipe or device); skipped")
                    )
    except OSError as exc:
        problems.append(_unreadable(folder, exc, "cannot be listed"))
        return None
    return sorted(files), sorted(dirs)


def recognise_file(path: Path, *, options: WalkOptions | None = None, read: ReadOptions | None = None) -> Source | None:
    """The source a format makes of one loose file, as the walk would (None when no format takes it): for
    `losscli watch`, which offers a file again when it grows."""
    options = options or WalkOptions()
    formats = [f for f in all_formats() if not options.formats or f.name in options.formats]
    return _claim_loose_file(path, formats, [], False, read or ReadOptions())


def _claim_loose_file(
    path: Path, formats: list[Format], problems: list[Problem], explicit: bool, read: ReadOptions
) -> Source | None:
    """Offer one file to each format; the first that recognises it gets it. A file the user pointed at (named on
    the command line, or met with table columns named) is then offered to `claim_chosen_file`."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        problems.append(_unreadable(path, exc, "cannot be read"))
        return None
    for fmt in formats:
        try:
            claimed = fmt.claim_file(path, head)
        except Exception as exc:  # a format's sniffing bug must not stop the walk
            problems.append(Problem(f"{path}: could not be recognised ({type(exc).__name__}: {exc})", error=True))
            return None
        if claimed:
            return Source(fmt.name, path, (path,))
    if explicit or read.chosen_columns():
        for fmt in formats:
            if fmt.claim_chosen_file(path, head, named=explicit, options=read):
                return Source(fmt.name, path, (path,))
    if explicit:
        problems.append(Problem(f"{path}: not a training log losscli can read; skipped"))
    return None
