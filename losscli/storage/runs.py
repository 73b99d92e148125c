"""Runs found under a URL, and each one fetched into a private folder to be read there.

The walk (`walk_url`) lists the tree once, mirrors it locally with every file's first bytes (`mirror`), and runs
`losscli.discover`'s walk over the mirror: runs are found exactly as on a disk. Each run found becomes a
`RemoteSource`: plain data (picklable, for a worker process or a Dask worker) naming the files reading it needs.

Those files are the run's own (its `Source.files`) and everything below its folder, fetched whole; and the files
around it that its configuration is read from (`losscli.config.files`: the Trainer output folder it belongs to, up
to `CLIMB` levels up, with its latest checkpoint, `runs/` and `wandb/`, matched by name: `_around`), whole, except
other runs' event files and `.wandb` logs, of which only the first bytes are read. `fetched` puts them in a
private folder laid out as the tree, reads the run there, names the results by their URLs (`relabel`) and deletes
the folder.
"""

from __future__ import annotations

import atexit
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from losscli.config.files import CLIMB, FROM_CHECKPOINT, MARKERS, TRAINING_FILES
from losscli.discover import Located, Problem, WalkOptions
from losscli.discover import walk as walk_local
from losscli.parsers.base import ReadOptions, Source
from losscli.parsers.trainer_output import checkpoint_step
from losscli.storage.filesystem import open_url
from losscli.storage.listing import Listing, list_tree
from losscli.storage.mirror import place, run_bytes, walk_bytes
from losscli.storage.relabel import relabel, url_path

R = TypeVar("R")
# files beside a run that state its configuration: a Trainer's (and what marks its output folder), Lightning's
# hparams.yaml, an MLflow experiment's meta.yaml
_BESIDE = frozenset(TRAINING_FILES) | MARKERS | {"hparams.yaml", "meta.yaml"}


@dataclass(frozen=True)
class RemoteSource:
    """One run under a URL: what `fetched` needs to read it anywhere. Paths are below `url`."""

    url: str  # the folder the paths are below
    options: tuple[tuple[str, Any], ...]  # file system options
    format: str
    path: str  # the run's path (a folder or a file)
    files: tuple[str, ...]  # its own files
    base: str  # the folder its name is relative to
    needed: tuple[tuple[str, int, int], ...]  # every file to place: path, size, bytes wanted (`mirror.run_bytes`)
    mirror: str | None = None  # the walk's mirror on this machine, to link first bytes from (None on a cluster)

    def shown(self) -> Located:
        """The source as the URLs name it (for messages about a run that was never read)."""
        files = tuple(url_path(_join(self.url, f)) for f in self.files)
        source = Source(self.format, url_path(_join(self.url, self.path)), files)
        base = self.url.rsplit("/", 1)[0] if self.base == ".." else _join(self.url, self.base)
        return source, url_path(base)


def _join(url: str, rel: str) -> str:
    return f"{url}/{rel}" if rel else url


class Mirrors:
    """The walk's mirrors of this process, deleted when the walk is done (or the process ends)."""

    def __init__(self) -> None:
        self.folders: list[str] = []
        atexit.register(self.clear)

    def new(self) -> Path:
        folder = tempfile.mkdtemp(prefix="losscli-mirror-")
        self.folders.append(folder)
        return Path(folder)

    def drop(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        if str(folder) in self.folders:
            self.folders.remove(str(folder))

    def clear(self) -> None:
        for folder in list(self.folders):
            shutil.rmtree(folder, ignore_errors=True)
        self.folders.clear()


MIRRORS = Mirrors()


def list_url(url: str, options: dict[str, Any]) -> Listing:
    """The tree under `url`, listed now (a URL that names nothing, or a missing extra, is a UsageError here)."""
    fs, path = open_url(url, options)
    return list_tree(fs, url, path)


def walk_url(
    listing: Listing,
    *,
    options: dict[str, Any],
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    keep_mirror: bool = True,
    mirrors: list[Path] | None = None,
) -> Iterator[Problem | RemoteSource]:
    """The runs under a listed URL and the problems met, in walk order (module docstring). `keep_mirror`: the
    sources may link from the walk's mirror (their readers run on this machine); the mirror's folder is then
    added to `mirrors`, for the caller to drop (`MIRRORS.drop`) once the runs are read, else dropped when the
    walk ends."""
    fs, _ = open_url(listing.url, options)
    top = MIRRORS.new()
    local = top / (posixpath.basename(listing.root) or "root")
    kept = keep_mirror and mirrors is not None
    if keep_mirror and mirrors is not None:
        mirrors.append(top)
    try:
        wanted = [
            (_join(listing.root, rel), local / rel, size, walk_bytes(rel, size)) for rel, size in listing.files.items()
        ]
        failed = place(fs, [(*w, None) for w in wanted])
        for remote, where, size, _ in wanted:
            if remote in failed:  # a file that cannot be read is there (its name counts), empty
                where.parent.mkdir(parents=True, exist_ok=True)
                where.touch()
        for rel in listing.unsafe:
            yield Problem(f"{listing.url_of(rel)}: a key that cannot be a file's path; skipped")
        broken = {listing.url + remote[len(listing.root) :]: why for remote, why in failed.items()}
        for shown, why in broken.items():
            yield Problem(f"{shown}: cannot be read ({why}); skipped", error=True)
        start = local / listing.named_file if listing.named_file else local
        frozen = tuple(sorted(options.items()))
        for item in walk_local([start], options=walk, read_options=read_options):
            if isinstance(item, Problem):
                yield Problem(relabel(item.message, str(local), listing.url), item.error)
                continue
            source, base = item
            yield _remote(listing, local, source, base, frozen, str(local) if kept else None)
    finally:
        if not kept:
            MIRRORS.drop(top)


def _remote(
    listing: Listing,
    local: Path,
    source: Source,
    base: Path,
    options: tuple[tuple[str, Any], ...],
    mirror: str | None,
) -> RemoteSource:
    def rel(path: Path) -> str:
        text = path.relative_to(local).as_posix()
        return "" if text == "." else text

    own = {rel(f) for f in source.files}
    path = rel(source.path)
    folder = path if path in listing.children else posixpath.dirname(path)
    needed: dict[str, int] = {}

    def add(name: str) -> None:
        if name in listing.files and name not in needed:
            needed[name] = run_bytes(name, listing.files[name], own=name in own)

    for name in sorted(own):
        add(name)
    if path in listing.children:
        for name in listing.subtree(path):
            add(name)
    _around(listing, folder, add)
    return RemoteSource(
        url=listing.url,
        options=options,
        format=source.format,
        path=path,
        files=tuple(rel(f) for f in source.files),
        base=rel(base) if base != local.parent else "..",
        needed=tuple((name, listing.files[name], end) for name, end in sorted(needed.items())),
        mirror=mirror,
    )


def _around(listing: Listing, folder: str, add: Callable[[str], None]) -> None:
    """The files the configuration of the run in `folder` may be read from (`losscli.config.files`): in the folder
    and each of its `CLIMB` parents, the files a Trainer output folder or a run's own folder states it in, the
    latest checkpoint's where the folder lacks one, the event files in it and in its `runs/*/`, and the `.wandb`
    logs and `files/config.yaml` of its `wandb/` runs. Only their names are matched here: other files beside a
    run (a folder of a thousand exports) are not fetched for it."""
    here: str | None = folder
    for _ in range(CLIMB + 1):
        if here is None:
            break
        files, dirs = listing.children.get(here, ([], []))
        for name in files:
            if name in _BESIDE or "tfevents" in name:
                add(posixpath.join(here, name))
        steps = {d: step for d in dirs if (step := checkpoint_step(d)) is not None}
        checkpoints = sorted(steps, key=steps.__getitem__, reverse=True)
        for name in FROM_CHECKPOINT:
            if name not in files:
                has = (c for c in checkpoints if name in listing.children[posixpath.join(here, c)][0])
                latest = next(has, None)
                if latest is not None:
                    add(posixpath.join(here, latest, name))
        for run in listing.children.get(posixpath.join(here, "runs"), ([], []))[1]:
            inner = posixpath.join(here, "runs", run)
            for name in listing.children[inner][0]:
                if "tfevents" in name:
                    add(posixpath.join(inner, name))
        for run in listing.children.get(posixpath.join(here, "wandb"), ([], []))[1]:
            inner = posixpath.join(here, "wandb", run)
            for name in listing.children[inner][0]:
                if name.endswith(".wandb"):
                    add(posixpath.join(inner, name))
            add(posixpath.join(inner, "files", "config.yaml"))
        here = None if here == "" else posixpath.dirname(here)


def _copy(mirror: Path | None, name: str, size: int, end: int) -> Path | None:
    """The walk's copy of a file, where it holds the bytes wanted."""
    return mirror / name if mirror is not None and walk_bytes(name, size) >= end else None


def fetched(
    remote: RemoteSource, work: Callable[[Located], list[R]], failed: Callable[[Located, str], list[R]]
) -> list[R]:
    """`work` on the run read from a private folder holding the files it needs, its results naming the URLs;
    `failed(shown, message)` stands in when one of its own files cannot be fetched. The folder is deleted after."""
    fs, root = open_url(remote.url, dict(remote.options))
    top = Path(tempfile.mkdtemp(prefix="losscli-run-"))
    try:
        local = top / (posixpath.basename(root) or "root")
        before = Path(remote.mirror) if remote.mirror else None
        wanted = [
            (_join(root, name), local / name, size, end, _copy(before, name, size, end))
            for name, size, end in remote.needed
        ]
        lost = place(fs, wanted)
        own = {_join(root, f) for f in remote.files}
        missing = [r for r in lost if r in own]
        if missing:
            url = remote.url + missing[0][len(root) :]
            return failed(remote.shown(), f"{url}: cannot be read ({lost[missing[0]]})")
        files = tuple(local / f for f in remote.files)
        source = Source(remote.format, local / remote.path if remote.path else local, files)
        base = local if not remote.base else (local.parent if remote.base == ".." else local / remote.base)
        results = work((source, base))
        return [relabel(r, str(local), remote.url) for r in results]
    finally:
        shutil.rmtree(top, ignore_errors=True)
