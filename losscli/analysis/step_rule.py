"""Which boundaries step: the rule shared by the verdict (decide.py) and the search for an epoch length (infer.py).

A boundary steps on its own when one of its views (evidence.py) shows a drop that passes every test: `t`, `z`,
`share`, relative size, and the placebo of the same view. Drops that pass all but `t` step together when a run of
consecutive boundaries, each measured from its whole epochs, shows them with a strong combined t (Stouffer): the
same drop recurring epoch after epoch is evidence no single boundary gives. This holds whether or not some of them
also pass alone: a boundary just short of `min_t` between two clear steps steps with them. Pooling uses one view
only, so that choosing among views never inflates a pooled statistic.

With more boundaries than `lone_step_boundaries`, steps at some of them must also show over all of them together
(the combined t of every boundary's whole-epoch view, rises counted against drops, reaches `min_combined_t`),
unless one step is strong on its own: noise that wanders for hundreds of steps makes two of nine boundaries drop
by chance, and as many others rise; a staircase drops at most of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from losscli.analysis.evidence import Measurement
from losscli.analysis.settings import Settings


@dataclass(frozen=True)
class Evidence:
    """One boundary's measurements: each view's, with the typical mid-epoch drop (z) of its view, the placebo."""

    epoch: int
    at: float
    seen: tuple[tuple[Measurement, float], ...]


def shaped(m: Measurement, *, placebo: float, settings: Settings) -> bool:
    """Everything a step needs but significance: a drop, visible, concentrated at the boundary, not negligible,
    and larger (as an effect size) than the drops its view finds in the middle of epochs (`placebo`, z)."""
    return (
        m.drop > 0
        and m.z >= settings.min_z
        and m.share >= settings.min_share
        and m.relative_drop >= settings.min_relative_drop
        and m.z >= settings.placebo_factor * placebo
    )


def could_step(m: Measurement, *, settings: Settings) -> bool:
    """Whether a boundary seen as `m` could step under any placebo (a placebo only makes `shaped` stricter): a
    necessary condition, cheap to check before the placebo is measured."""
    return shaped(m, placebo=0.0, settings=settings) and m.t >= min(1.0, settings.pool_fraction) * settings.min_t


def boundary_flags(evidence: list[Evidence], *, settings: Settings) -> list[tuple[Measurement, bool]]:
    """For each boundary, the measurement that speaks for it and whether it steps."""
    chosen: list[Measurement] = []
    alone: list[bool] = []
    poolable: list[bool] = []
    for e in evidence:
        passing = [
            m for m, placebo in e.seen if shaped(m, placebo=placebo, settings=settings) and m.t >= settings.min_t
        ]
        primary, placebo = e.seen[0]
        chosen.append(max(passing, key=lambda m: m.t) if passing else primary)
        alone.append(bool(passing))
        pooled_t = settings.pool_fraction * settings.min_t
        poolable.append(
            bool(passing) or (shaped(primary, placebo=placebo, settings=settings) and primary.t >= pooled_t)
        )
    strong = any(a and m.t >= settings.strong_factor * settings.min_t for a, m in zip(alone, chosen))
    # The steps a run shows must also show in all its boundaries together (each measured from the same view,
    # rises counted against drops): noise that wanders makes a few boundaries drop by chance, and others rise.
    primary_t = [e.seen[0][0].t for e in evidence]
    overall = sum(primary_t) / math.sqrt(len(evidence)) if evidence else 0.0
    few = len(evidence) <= settings.lone_step_boundaries
    trusted = (sum(alone) >= 2 and (few or overall >= settings.min_combined_t)) or (sum(alone) >= 1 and (few or strong))
    first, last = _pooled_run(poolable, primary_t, settings=settings)
    pooled = first < last and overall >= settings.min_combined_t
    return [(m, (trusted and a) or (pooled and first <= i < last)) for i, (m, a) in enumerate(zip(chosen, alone))]


def _pooled_run(poolable: list[bool], t: list[float], *, settings: Settings) -> tuple[int, int]:
    """The contiguous run of boundaries (at least two) that all show a drop with the strongest combined t, as
    `(first, last + 1)`; `(0, 0)` when none reaches `min_combined_t`. A boundary that passes alone belongs to its
    neighbours' run too: a step recurring epoch after epoch is evidence for a weaker one beside it."""
    best: tuple[float, int, int] = (0.0, 0, 0)
    start = 0
    for end in range(len(poolable) + 1):
        if end < len(poolable) and poolable[end]:
            continue
        if end - start >= 2:
            best = max(best, (sum(t[start:end]) / math.sqrt(end - start), start, end))
        start = end + 1
    combined, first, last = best
    return (first, last) if combined >= settings.min_combined_t else (0, 0)
