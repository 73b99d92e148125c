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

The runs of one training (a Trainer output folder's state file, its TensorBoard log and its W&B run) each need the
others' files to read their configuration: consecutive runs in the walk that would fetch the same file go together
as one `RemoteGroup` (at most `GROUP` runs), fetched once into one private folder and read there one after another.
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
from losscli.parsers.checkpoints import checkpoint_step
from losscli.storage.filesystem import open_url
from losscli.storage.listing import Listing, list_tree
from losscli.storage.mirror import place, run_bytes, walk_bytes
from losscli.storage.relabel import relabel, url_path

R = TypeVar("R")
GROUP = 16  # runs fetched together at most: a group is one task, and tasks are what runs in parallel
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


@dataclass(frozen=True)
class RemoteGroup:
    """Consecutive runs under one URL whose reading fetches the same files (module docstring): plain data too."""

    sources: tuple[RemoteSource, ...]


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
) -> Iterator[Problem | RemoteSource | RemoteGroup]:
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
        group: list[RemoteSource] = []
        shared: set[str] = set()  # the files the group's runs fetch
        for item in walk_local([start], options=walk, read_options=read_options):
            if isinstance(item, Problem):
                yield from _grouped(group)
                yield Problem(relabel(item.message, str(local), listing.url), item.error)
                continue
            source, base = item
            run = _remote(listing, local, source, base, frozen, str(local) if kept else None)
            fetches = _fetched(run)
            if len(group) == GROUP or not fetches & shared:
                yield from _grouped(group)
                shared = set()
            group.append(run)
            shared |= fetches
        yield from _grouped(group)
    finally:
        if not kept:
            MIRRORS.drop(top)


def _fetched(remote: RemoteSource) -> set[str]:
    """The files reading `remote` fetches (more of them than the walk's mirror holds)."""
    return {name for name, size, end in remote.needed if end > walk_bytes(name, size)}


def _grouped(group: list[RemoteSource]) -> Iterator[RemoteSource | RemoteGroup]:
    """The runs gathered so far, as one item (a single run stays a `RemoteSource`); `group` is emptied."""
    if len(group) == 1:
        yield group[0]
    elif group:
        yield RemoteGroup(tuple(group))
    group.clear()


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
    remote: RemoteSource | RemoteGroup,
    work: Callable[[Located], list[R]],
    failed: Callable[[Located, str], list[R]],
) -> list[R]:
    """`work` on each run read from a private folder holding the files they need, the results naming the URLs;
    `failed(shown, message)` stands in for a run one of whose own files cannot be fetched. The folder is deleted
    after."""
    runs = remote.sources if isinstance(remote, RemoteGroup) else (remote,)
    first = runs[0]
    fs, root = open_url(first.url, dict(first.options))
    top = Path(tempfile.mkdtemp(prefix="losscli-run-"))
    try:
        local = top / (posixpath.basename(root) or "root")
        before = Path(first.mirror) if first.mirror else None
        needed: dict[str, tuple[int, int]] = {}
        for run in runs:
            for name, size, end in run.needed:
                needed[name] = (size, max(end, needed.get(name, (0, 0))[1]))
        wanted = [
            (_join(root, name), local / name, size, end, _copy(before, name, size, end))
            for name, (size, end) in sorted(needed.items())
        ]
        lost = place(fs, wanted)
        results: list[R] = []
        for run in runs:
            missing = [r for r in (_join(root, f) for f in run.files) if r in lost]
            if missing:
                url = run.url + missing[0][len(root) :]
                results += failed(run.shown(), f"{url}: cannot be read ({lost[missing[0]]})")
                continue
            files = tuple(local / f for f in run.files)
            source = Source(run.format, local / run.path if run.path else local, files)
            base = local if not run.base else (local.parent if run.base == ".." else local / run.base)
            results += [relabel(r, str(local), run.url) for r in work((source, base))]
        return results
    finally:
        shutil.rmtree(top, ignore_errors=True)
