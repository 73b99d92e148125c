"""Find the runs under the paths a user gives, in the same order every time.

The walk visits folders in sorted name order, depth first. In each folder the formats are asked, in registry
order, whether the folder itself holds runs (a TensorBoard log dir, a Trainer output folder, a wandb run folder);
entries a claim uses are not visited again. Loose files left over are offered to each format by name and first
bytes. Sub-folders are walked next, except hidden ones and dependency or cache folders (`node_modules`,
`__pycache__`, `site-packages`, ...) unless `include_hidden` is set. Symbolic links to folders are followed once:
a folder already visited (same device and inode) is skipped, so link loops end. Entries that cannot be read, and
sockets, pipes and devices, are skipped with a warning.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from losscli.errors import UsageError
from losscli.parsers import all_formats
from losscli.parsers.base import HEAD_BYTES, Source

NOISE_DIRS = frozenset(
    {"node_modules", "__pycache__", "site-packages", ".git", "venv", ".venv", ".tox", ".ipynb_checkpoints"}
)


@dataclass
class Found:
    """The sources found, each with the input root it was found under, and the problems met on the way."""

    sources: list[tuple[Source, Path]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WalkOptions:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_hidden: bool = False
    formats: tuple[str, ...] = ()


def find_sources(paths: Iterable[str | Path], options: WalkOptions | None = None) -> Found:
    """Every run source under `paths`, deduplicated, in a deterministic order."""
    options = options or WalkOptions()
    found = Found()
    seen_dirs: set[tuple[int, int]] = set()
    seen_sources: set[Path] = set()
    formats = [f for f in all_formats() if not options.formats or f.name in options.formats]

    def add(source: Source, root: Path) -> None:
        key = Path(os.path.realpath(source.path))
        if key in seen_sources or not _selected(source.path, root, options):
            return
        seen_sources.add(key)
        found.sources.append((source, root))

    for raw in paths:
        root = Path(raw)
        try:
            info = root.stat()
        except OSError as exc:
            raise UsageError(f"{raw}: {exc.strerror or 'cannot be read'}") from None
        if stat.S_ISDIR(info.st_mode):
            _walk(root, root, formats, options, seen_dirs, found, add)
        elif stat.S_ISREG(info.st_mode):
            source = _claim_loose_file(root, formats, found.warnings, explicit=True)
            if source is not None:
                add(source, root.parent)
        else:
            found.warnings.append(f"{raw}: not a file or folder; skipped")
    return found


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


def _walk(
    folder: Path,
    root: Path,
    formats: list,
    options: WalkOptions,
    seen_dirs: set[tuple[int, int]],
    found: Found,
    add: Callable[[Source, Path], None],
) -> None:
    stack = [folder]
    while stack:
        current = stack.pop()
        listing = _list(current, seen_dirs, found.warnings)
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
                add(source, root)
            used_files |= claim.used_files
            used_dirs |= claim.used_dirs
        for name in files:
            if name in used_files:
                continue
            source = _claim_loose_file(current / name, formats, found.warnings, explicit=False)
            if source is not None:
                add(source, root)
        walk_next = [
            d
            for d in dirs
            if d not in used_dirs and (options.include_hidden or (not d.startswith(".") and d not in NOISE_DIRS))
        ]
        stack.extend(current / d for d in reversed(walk_next))


def _list(folder: Path, seen_dirs: set[tuple[int, int]], warnings: list[str]) -> tuple[list[str], list[str]] | None:
    """Sorted file and folder names of `folder`, or None if it was seen already or cannot be read."""
    try:
        info = folder.stat()
    except OSError as exc:
        warnings.append(f"{folder}: {exc.strerror or 'cannot be read'}; skipped")
        return None
    key = (info.st_dev, info.st_ino)
    if key in seen_dirs:
        if folder.is_symlink():
            warnings.append(f"{folder}: link to a folder already visited (a link loop?); skipped")
        return None
    seen_dirs.add(key)
    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    mode = entry.stat().st_mode
                except OSError as exc:
                    kind = "broken link" if entry.is_symlink() else (exc.strerror or "cannot be read")
                    warnings.append(f"{folder / entry.name}: {kind}; skipped")
                    continue
                if stat.S_ISDIR(mode):
                    dirs.append(entry.name)
                elif stat.S_ISREG(mode):
                    files.append(entry.name)
                else:
                    warnings.append(f"{folder / entry.name}: not a regular file (socket, pipe or device); skipped")
    except OSError as exc:
        warnings.append(f"{folder}: {exc.strerror or 'cannot be listed'}; skipped")
        return None
    return sorted(files), sorted(dirs)


def _claim_loose_file(path: Path, formats: list, warnings: list[str], explicit: bool) -> Source | None:
    """Offer one file to each format; the first that recognises it gets it."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as exc:
        warnings.append(f"{path}: {exc.strerror or 'cannot be read'}; skipped")
        return None
    for fmt in formats:
        try:
            claimed = fmt.claim_file(path, head)
        except Exception as exc:  # a format's sniffing bug must not stop the walk
            warnings.append(f"{path}: could not be recognised ({type(exc).__name__}: {exc}); skipped")
            return None
        if claimed:
            return Source(fmt.name, path, (path,))
    if explicit:
        warnings.append(f"{path}: not a training log losscli can read; skipped")
    return None
