"""What schedules the looks: find the runs under the paths, give each source's follower a look, judge the sources
that gained points, and turn the judgements into events.

Finding runs walks the whole tree (`losscli.discover`), which costs far more than a look at known files, so it is
done again only when a folder under the paths changed (a new run, checkpoint or event file changes the time of
the folder it appears in: one `stat` per folder per look tells), when a loose file whose first line was not
complete at the last walk grows (a CSV or JSONL log is recognised by its header), and, in case a file system
does not say so, every `rescan_after` seconds. A loose file no format took while it was small (a console log
that has printed only warnings so far) is offered to the formats again, alone, each time it grows, until it is
too large for any format to recognise it later (`RECOGNITION_BYTES`). A look at known sources is one `stat` per
file; only files that grew are read, and only sources that gained points are judged, with the same analysis as
`losscli classify` (`api.judge_source`). Idle watching therefore costs a few `stat` calls per run and look.

Polling, not file-system notifications: inotify and its kin do not see writes made by other machines on network
file systems, where training jobs usually write their logs. What a look sees there is what the client's
attribute cache says (NFS: up to `actimeo` seconds late).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.discover import NOISE_DIRS, Problem, WalkOptions, recognise_file
from losscli.discover import walk as walk_sources
from losscli.parsers.base import HEAD_BYTES, RECOGNITION_BYTES, ReadOptions, Source
from losscli.watch.events import Event, RunHistory, changes
from losscli.watch.followers import Follower, follower_for

if TYPE_CHECKING:
    from losscli.analysis.result import RunResult
    from losscli.analysis.settings import Settings
    from losscli.frame import Run


@dataclass
class Look:
    """What one look found: events, new problems and warnings (each told once), the records judged."""

    time: float  # seconds since the epoch, when the look started
    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # met while finding runs
    warnings: list[str] = field(default_factory=list)  # of runs (a damaged file, NaN left out, ...)
    records: list[dict[str, Any]] = field(default_factory=list)  # every run judged in this look
    changed: bool = False  # a source gained points, or a new one was found
    runs: int = 0  # runs judged so far


@dataclass
class _Tracked:
    """One followed source: its follower, and what has been told about its runs."""

    follower: Follower
    root: Path
    histories: dict[str, RunHistory] = field(default_factory=dict)
    told: set[str] = field(default_factory=set)  # warnings told


class Watcher:
    """Follows every run under `paths` (module docstring): call `look` once per interval, or iterate `follow`."""

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        settings: Settings | None = None,
        walk: WalkOptions | None = None,
        read_options: ReadOptions | None = None,
        rescan_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from losscli.analysis.settings import Settings

        self.paths = [Path(p) for p in paths]
        walk_sources(self.paths)  # a path that does not exist raises UsageError now, not at the first look
        self.settings = settings or Settings()
        self.walk = walk or WalkOptions()
        self.read_options = read_options or ReadOptions()
        self.rescan_after = rescan_after
        self.clock = clock
        self.sources: dict[tuple[str, Path], _Tracked] = {}
        self.folders: dict[Path, int] = {}  # every folder under the paths, by its modification time
        self.unsure: dict[Path, int] = {}  # loose files whose first line is still open, by their size
        self.unclaimed: dict[Path, tuple[int, Path]] = {}  # small loose files no format took: size, root
        self.scanned_at: float | None = None
        self.problems_told: set[str] = set()

    def look(self) -> Look:
        """Find new runs if a folder changed, read what every source gained, judge those that gained points."""
        look = Look(time=time.time())
        if self._should_rescan():
            look.changed |= self._rescan(look)
        else:
            look.changed |= self._recognise_grown()
        for tracked in list(self.sources.values()):
            try:
                gained = tracked.follower.look()
            except Exception as exc:  # a follower's bug must not stop the others
                self._judged(tracked, [self._failure(tracked, exc)], look)
                continue
            look.changed |= gained
            if gained and tracked.follower.ready:
                self._judge(tracked, look)
        look.runs = sum(len(t.histories) for t in self.sources.values())
        return look

    def follow(self, *, interval: float, sleep: Callable[[float], None] = time.sleep) -> Iterator[Look]:
        """A look, then one every `interval` seconds, forever (the caller stops iterating)."""
        while True:
            started = self.clock()
            yield self.look()
            sleep(max(0.0, interval - (self.clock() - started)))

    # --- finding runs ---------------------------------------------------------------------------------------

    def _should_rescan(self) -> bool:
        if self.scanned_at is None or self.clock() - self.scanned_at >= self.rescan_after:
            return True
        if any(_mtime(folder) != mtime for folder, mtime in self.folders.items()):
            return True
        return any(_size(path) != size for path, size in self.unsure.items())

    def _rescan(self, look: Look) -> bool:
        """Walk the paths again: new sources get a follower, known ones their current files; True if any is new."""
        self.scanned_at = self.clock()
        self.folders, small = _folders(self.paths, include_hidden=self.walk.include_hidden)
        found: dict[tuple[str, Path], tuple[Source, Path]] = {}
        for item in walk_sources(self.paths, options=self.walk):
            if isinstance(item, Problem):
                if item.message not in self.problems_told:
                    self.problems_told.add(item.message)
                    look.problems.append(item)
                continue
            source, root = item
            found[(source.format, source.path)] = (source, root)
        # by real path, as the walk dedupes: W&B's `latest-run` link shows the run's files under a second name
        used = {os.path.realpath(path) for source, _ in found.values() for path in source.files}
        loose = {path: size for path, size in small.items() if os.path.realpath(path) not in used}
        self.unsure = {path: size for path, size in loose.items() if size < HEAD_BYTES and _first_line_open(path)}
        self.unclaimed = {path: (size, _root_of(path, self.paths)) for path, size in loose.items()}
        new = False
        for key, (source, root) in found.items():
            tracked = self.sources.get(key)
            if tracked is None:
                self.sources[key] = _Tracked(follower_for(source, self.read_options), root)
                new = True
            elif tracked.follower.source != source:
                tracked.follower.renew(source)
        for key in [k for k in self.sources if k not in found]:
            del self.sources[key]  # the run's folder is gone
        return new

    def _recognise_grown(self) -> bool:
        """Offer each small loose file that grew since the last look to the formats; True if one took it."""
        new = False
        for path, (size, root) in list(self.unclaimed.items()):
            now = _size(path)
            if now == size:
                continue
            source = recognise_file(path, options=self.walk, read=self.read_options) if now is not None else None
            known = {os.path.realpath(p) for tracked in self.sources.values() for p in tracked.follower.source.files}
            if source is not None and os.path.realpath(path) in known:
                source = None  # a file a tracked source already follows, under another name (a link)
            if source is not None and (source.format, source.path) not in self.sources:
                self.sources[(source.format, source.path)] = _Tracked(follower_for(source, self.read_options), root)
                new = True
            if source is not None or now is None or now >= RECOGNITION_BYTES:
                del self.unclaimed[path]
            else:
                self.unclaimed[path] = (now, root)
        return new

    # --- judging --------------------------------------------------------------------------------------------

    def _judge(self, tracked: _Tracked, look: Look) -> None:
        from losscli.api import judge_source

        read: list[Run] = []

        def runs(source: Source, options: ReadOptions) -> list[Run]:
            read.extend(tracked.follower.runs())
            return read

        results = judge_source(
            tracked.follower.source,
            root=tracked.root,
            settings=self.settings,
            read_options=self.read_options,
            display_points=0,
            read=runs,
        )
        self._judged(tracked, results, look)

    def _judged(self, tracked: _Tracked, results: list[RunResult], look: Look) -> None:
        from losscli.report.records import to_record

        for result in results:
            record = to_record(result)
            history = tracked.histories.setdefault(result.run, RunHistory())
            look.events.extend(changes(history, record, when=look.time))
            look.records.append(record)
            problems = ([result.error] if result.error else []) + list(result.warnings)
            for message in problems:
                if message not in tracked.told:
                    tracked.told.add(message)
                    look.warnings.append(message)

    def _failure(self, tracked: _Tracked, exc: Exception) -> RunResult:
        from losscli.analysis.result import RunResult
        from losscli.api import run_label

        source = tracked.follower.source
        message = f"{source.path}: could not be followed ({type(exc).__name__}: {exc})"
        label = run_label(source.path, root=tracked.root)
        return RunResult(label, str(source.path), source.format, None, error=message)


def _folders(roots: list[Path], *, include_hidden: bool) -> tuple[dict[Path, int], dict[Path, int]]:
    """Every folder under `roots` (as the walk would enter them: hidden and dependency folders only with
    `include_hidden`, each folder once), with its modification time; and the files smaller than the head a
    format may look at to recognise a file, with their size."""
    found: dict[Path, int] = {}
    small: dict[Path, int] = {}
    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        found[folder] = info.st_mtime_ns
        names: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir():
                        names.append(entry.name)
                    elif entry.is_file() and (size := entry.stat().st_size) < RECOGNITION_BYTES:
                        small[folder / entry.name] = size
        except OSError:
            continue
        stack.extend(folder / n for n in names if include_hidden or (not n.startswith(".") and n not in NOISE_DIRS))
    return found, small


def _root_of(path: Path, roots: list[Path]) -> Path:
    """The path given by the user that `path` was found under (names runs as the walk does)."""
    return next((root for root in roots if root == path or root in path.parents), path.parent)


def _first_line_open(path: Path) -> bool:
    """A file whose first line is not complete yet (or that is empty): no format can recognise it before it is,
    so its growing is a reason to walk again."""
    try:
        with open(path, "rb") as handle:
            return b"\n" not in handle.read(HEAD_BYTES)
    except OSError:
        return False


def _mtime(folder: Path) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _size(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None
