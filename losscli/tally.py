"""The tally across an archive: how the verdicts split by what the runs were, for people asking what the stepped
runs have in common.

A training logged in several formats (its `trainer_state.json`, its `runs/` event files and its `wandb/` folders)
is one training here, counted once: the verdict of its first format in `FORMAT_ORDER` that could be judged (the
Trainer's own record first); formats that disagree are reported.

`group` counts the trainings by the values of some keys (any key of `losscli.config.KEYS`, or `month` / `week` of
`started`). `splits` takes every key with at least two known values and ranks them by how well they tell stepped
from smooth trainings apart, counting only those two verdicts:

- `separated`: how many of the key's conclusive trainings have the verdict most common for their value (the
  trainings one would tell right knowing only the value);
- `p`: the share of all ways to hand out the same number of stepped verdicts among the same trainings in which
  the key separates at least as many. A key that takes a different value for every training (a seed) separates
  them all, and so does every other way: its p is 1. Small p: the verdicts go with the key's values more than
  chance would make them. It is a correlation in these trainings, not a cause. The p is exact (every way counted)
  when there are few ways (`EXACT_LIMIT`), else estimated from `SHUFFLES` random ones, always with the same seed.

Keys are ranked by p, then by the share separated. The library never prints: the command line and the HTML report
render what these return.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from losscli.analysis.result import RunResult
from losscli.config.record import GROUP_KEYS, KEYS, TIME_KEYS, UNKNOWN, RunConfig
from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED

RANKED_KEYS = (*(k for k in KEYS if k != "started"), "month")  # a start time is one value per training
FORMAT_ORDER = ("trainer_state", "trainer_log", "tensorboard", "wandb_run", "mlflow", "lightning_csv")
EXACT_LIMIT = 20_000
SHUFFLES = 2_000
SEED = 0


@dataclass(frozen=True)
class Training:
    """One training: its name, the verdict it counts with, its configuration, and the runs (formats) it was read
    as."""

    name: str
    verdict: str
    config: RunConfig
    runs: tuple[str, ...]
    formats: tuple[str, ...]


@dataclass(frozen=True)
class Counts:
    """How many trainings a group holds, by verdict."""

    trainings: int = 0
    stepped: int = 0
    smooth: int = 0
    inconclusive: int = 0
    error: int = 0

    @property
    def share_stepped(self) -> float | None:
        """Stepped among the trainings judged stepped or smooth (None when there are none)."""
        judged = self.stepped + self.smooth
        return self.stepped / judged if judged else None

    def to_dict(self) -> dict[str, Any]:
        share = self.share_stepped
        return {
            "runs": self.trainings,
            STEPPED: self.stepped,
            SMOOTH: self.smooth,
            INCONCLUSIVE: self.inconclusive,
            ERROR: self.error,
            "share_stepped": None if share is None else round(share, 4),
        }


@dataclass(frozen=True)
class Group:
    """The trainings sharing one value of each key grouped by, and their verdicts."""

    values: tuple[Any, ...]  # one per key grouped by; None where unknown
    counts: Counts
    trainings: tuple[str, ...]


@dataclass(frozen=True)
class Split:
    """How the verdicts split across one key's values, and how well the key tells stepped from smooth apart."""

    key: str
    groups: tuple[Group, ...]
    separated: int
    conclusive: int
    p: float | None
    exact: bool


def trainings(results: Iterable[RunResult]) -> tuple[list[Training], list[str]]:
    """The trainings among `results` (first-seen order), and a message for each whose formats disagree."""
    by_training: dict[tuple[str, str], list[RunResult]] = {}
    for result in results:
        by_training.setdefault(_identity(result), []).append(result)
    found: list[Training] = []
    notes: list[str] = []
    for members in by_training.values():
        chosen = min(members, key=_preference)
        config = chosen.config or next((m.config for m in members if m.config), None) or UNKNOWN
        name = config.training or chosen.run
        found.append(
            Training(name, chosen.verdict, config, tuple(m.run for m in members), tuple(m.format for m in members))
        )
        verdicts = {m.verdict for m in members if m.verdict != ERROR}
        if len(verdicts) > 1:
            said = ", ".join(f"{m.format} {m.verdict}" for m in members)
            notes.append(f"{name}: its formats disagree ({said}); counted as {chosen.format} says")
    return found, notes


def _identity(result: RunResult) -> tuple[str, str]:
    """The Trainer output folder a run belongs to; a run outside one is a training of its own (an export file may
    hold several)."""
    if result.config and result.config.training:
        return (os.path.normpath(os.path.abspath(result.config.training)), "")
    return (os.path.normpath(os.path.abspath(result.path)), result.run)


def _preference(result: RunResult) -> tuple[int, int]:
    order = FORMAT_ORDER.index(result.format) if result.format in FORMAT_ORDER else len(FORMAT_ORDER)
    return (result.verdict == ERROR, order)


def value_of(training: Training, *, key: str) -> Any:
    """A training's value of a config key, or the month (`2026-07`) or ISO week (`2026-W28`) of its start."""
    if key not in TIME_KEYS:
        return training.config.get(key)
    started = training.config.get("started")
    if not isinstance(started, str) or len(started) < 10:
        return None
    try:
        day = date.fromisoformat(started[:10])
    except ValueError:
        return None
    if key == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def count(members: Iterable[Training]) -> Counts:
    verdicts = [m.verdict for m in members]
    return Counts(
        len(verdicts),
        verdicts.count(STEPPED),
        verdicts.count(SMOOTH),
        verdicts.count(INCONCLUSIVE),
        verdicts.count(ERROR),
    )


def group(found: Sequence[Training], *, by: Sequence[str]) -> list[Group]:
    """The trainings counted by their values of the keys `by`, in the values' order (unknown last)."""
    unknown = [k for k in by if k not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; choose from {', '.join(GROUP_KEYS)}")
    buckets: dict[tuple[Any, ...], list[Training]] = {}
    for training in found:
        buckets.setdefault(tuple(value_of(training, key=k) for k in by), []).append(training)
    ordered = sorted(buckets, key=lambda values: [_order(v) for v in values])
    return [Group(values, count(buckets[values]), tuple(t.name for t in buckets[values])) for values in ordered]


def _order(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def splits(found: Sequence[Training], *, keys: Sequence[str] = RANKED_KEYS) -> list[Split]:
    """Every key of `keys` with at least two known values, ranked by how well it separates stepped from smooth."""
    out = []
    for key in keys:
        groups = group(found, by=[key])
        if sum(g.values[0] is not None for g in groups) < 2:
            continue
        known = [g for g in groups if g.values[0] is not None]
        sizes = [g.counts.stepped + g.counts.smooth for g in known]
        stepped = [g.counts.stepped for g in known]
        separated = sum(max(s, n - s) for s, n in zip(stepped, sizes))
        p, exact = separation_p(sizes, stepped=sum(stepped), observed=separated)
        out.append(Split(key, tuple(groups), separated, sum(sizes), p, exact))
    return sorted(out, key=lambda s: (1.0 if s.p is None else s.p, -(s.separated / (s.conclusive or 1))))


def separation_p(sizes: Sequence[int], *, stepped: int, observed: int) -> tuple[float | None, bool]:
    """The share of the ways to give `stepped` stepped verdicts to groups of `sizes` conclusive trainings in which
    at least `observed` trainings have their group's majority verdict; and whether every way was counted."""
    import numpy as np

    kept = [n for n in sizes if n]
    total = sum(kept)
    if total < 2:
        return None, True
    if max(kept) == 1 or stepped in (0, total):  # every way separates as many: nothing to tell
        return 1.0, True
    size = np.asarray(kept)
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])

    def separated(rows: Any) -> Any:  # rows of 0/1 verdicts, trainings ordered by group -> separated per row
        per_group = np.add.reduceat(rows, starts, axis=1)
        return np.maximum(per_group, size - per_group).sum(axis=1)

    ways = math.comb(total, stepped)
    if ways * total <= EXACT_LIMIT * 100:
        from itertools import combinations

        rows = np.zeros((ways, total), dtype=np.int32)
        for i, chosen in enumerate(combinations(range(total), stepped)):
            rows[i, list(chosen)] = 1
        return float(np.mean(separated(rows) >= observed)), True
    rng = np.random.default_rng(SEED)
    labels = np.zeros(total, dtype=np.int32)
    labels[:stepped] = 1
    hits = 0
    for start in range(0, SHUFFLES, 100):
        rows = rng.permuted(np.tile(labels, (min(100, SHUFFLES - start), 1)), axis=1)
        hits += int(np.sum(separated(rows) >= observed))
    return (hits + 1) / (SHUFFLES + 1), False
