"""Which boundaries step: the rule shared by the verdict (decide.py) and the search for an epoch length (infer.py).

A boundary steps on its own when one of its views (evidence.py) shows a drop that passes every test: `t`, `z`,
`share`, relative size, and the placebo of the same view. Drops that pass all but `t` step together when a run of
consecutive boundaries, each measured from its whole epochs, shows them with a strong combined t (Stouffer): the
same drop recurring epoch after epoch is evidence no single boundary gives. Pooling uses one view only, so that
choosing among views never inflates a pooled statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from losscli.analysis.evidence import Measurement
from losscli.analysis.settings import Settings


@dataclass(frozen=True)
class Evidence:
    """One boundary's measurements: each view's, with whether it stands above the placebo of its view."""

    epoch: int
    at: float
    seen: tuple[tuple[Measurement, bool], ...]


def shaped(m: Measurement, *, settings: Settings) -> bool:
    """Everything a step needs but significance: a drop, visible, concentrated at the boundary, not negligible."""
    return (
        m.drop > 0
        and m.z >= settings.min_z
        and m.share >= settings.min_share
        and m.relative_drop >= settings.min_relative_drop
    )


def boundary_flags(evidence: list[Evidence], *, settings: Settings) -> list[tuple[Measurement, bool]]:
    """For each boundary, the measurement that speaks for it and whether it steps."""
    chosen: list[Measurement] = []
    alone: list[bool] = []
    poolable: list[bool] = []
    for e in evidence:
        passing = [m for m, ok in e.seen if ok and shaped(m, settings=settings) and m.t >= settings.min_t]
        primary, primary_ok = e.seen[0]
        chosen.append(max(passing, key=lambda m: m.t) if passing else primary)
        alone.append(bool(passing))
        poolable.append(
            bool(passing)
            or (
                primary_ok
                and shaped(primary, settings=settings)
                and primary.t >= settings.pool_fraction * settings.min_t
            )
        )
    strong = any(a and m.t >= settings.strong_factor * settings.min_t for a, m in zip(alone, chosen))
    if sum(alone) >= 2 or (sum(alone) == 1 and (len(evidence) <= settings.lone_step_boundaries or strong)):
        return list(zip(chosen, alone))
    best: tuple[float, int, int] = (0.0, 0, 0)
    start = 0
    for end in range(len(evidence) + 1):  # contiguous runs of boundaries that all show a drop
        if end < len(evidence) and poolable[end]:
            continue
        if end - start >= 2:
            combined = sum(m.t for m in chosen[start:end]) / math.sqrt(end - start)
            best = max(best, (combined, start, end))
        start = end + 1
    combined, first, last = best
    pooled = combined >= settings.min_combined_t
    return [(m, pooled and first <= i < last) for i, m in enumerate(chosen)]
