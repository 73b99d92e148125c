"""Helpers for the tests of `losscli watch`: look until something shows (never forever), append a real writer's
bytes in pieces, and compare a followed run with the same files read whole."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from losscli.frame import Run
from losscli.parsers import get_format
from losscli.parsers.base import ReadOptions
from losscli.watch import Event, Watcher

DEADLINE = 30.0  # seconds a test waits for something to show before it fails


@dataclass
class Seen:
    """Everything the looks so far told."""

    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # of runs
    problems: list[str] = field(default_factory=list)  # met while finding runs
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last record of each run
    looks: int = 0

    def kinds(self, run: str | None = None) -> list[str]:
        return [e.event for e in self.events if run is None or e.run == run]

    def first(self, kind: str, run: str | None = None) -> Event:
        return next(e for e in self.events if e.event == kind and (run is None or e.run == run))


def look(watcher: Watcher, seen: Seen | None = None) -> Seen:
    """One look, added to `seen`."""
    seen = seen or Seen()
    found = watcher.look()
    seen.events.extend(found.events)
    seen.warnings.extend(found.warnings)
    seen.problems.extend(p.message for p in found.problems)
    seen.records.update((r["run"], r) for r in found.records)
    seen.looks += 1
    return seen


def look_until(
    watcher: Watcher,
    done: Callable[[Seen], bool],
    *,
    seen: Seen | None = None,
    timeout: float = DEADLINE,
    pause: float = 0.05,
) -> Seen:
    """Look until `done(seen)`; fail (never hang) after `timeout` seconds."""
    seen = seen or Seen()
    end = time.monotonic() + timeout
    while True:
        look(watcher, seen)
        if done(seen):
            return seen
        if time.monotonic() > end:
            raise AssertionError(f"not seen within {timeout} s; events: {[(e.run, e.event) for e in seen.events]}")
        time.sleep(pause)


def append(path: Path, data: bytes) -> None:
    """What a writer does: append bytes and flush them to the file."""
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()


def followed(watcher: Watcher, fmt: str, path: Path) -> list[Run]:
    """The runs the watcher's follower of a source holds now."""
    return watcher.sources[(fmt, path)].follower.runs()


def read_whole(watcher: Watcher, fmt: str, path: Path) -> list[Run]:
    """The same source read whole by its format, as `losscli classify` reads it."""
    source = watcher.sources[(fmt, path)].follower.source
    return get_format(fmt).read(source, ReadOptions())


def assert_same_runs(followed_runs: list[Run], whole: list[Run]) -> None:
    """A followed run and the run read whole: the same points, meta, warnings and notes."""
    assert len(followed_runs) == len(whole)
    for a, b in zip(followed_runs, whole):
        ca, cb = a.columns(), b.columns()
        assert list(ca.metric) == list(cb.metric)
        assert list(ca.tag) == list(cb.tag)
        assert np.array_equal(ca.step, cb.step)
        assert np.array_equal(ca.value, cb.value, equal_nan=True)
        assert np.array_equal(ca.epoch, cb.epoch, equal_nan=True)
        assert np.array_equal(ca.wall_time, cb.wall_time, equal_nan=True)
        assert a.meta == b.meta
        assert a.warnings == b.warnings
        assert a.notes == b.notes
        assert a.name == b.name and a.format == b.format


def staircase(*, epochs: int = 3, per_epoch: int = 20, drop: float = 0.4, seed: int = 0) -> list[tuple[int, float]]:
    """(step, loss) of a memorizing run: flat inside epochs, a drop at each boundary (noise 0.02)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, epochs * per_epoch + 1)
    level = 2.0 - drop * np.floor((steps - 1) / per_epoch)
    return [(int(s), float(v)) for s, v in zip(steps, level + rng.normal(0, 0.02, len(steps)))]
