"""Decide: which boundaries step, the verdict, its score and the findings, from the measurements alone.

No fitting happens here and no words are written: measure.py measured, explain.py says why. Which boundaries step
is `step_rule.boundary_flags`, shared with the search for an epoch length. The whole-run model of epoch levels
is the only measurement when epochs have too few points for their own fits, and a second test when no single
boundary is decisive; it counts only when it explains the curve better than a smooth curve (`min_advantage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from losscli.analysis.evidence import Measurement
from losscli.analysis.measure import Measured
from losscli.analysis.result import Boundary
from losscli.analysis.settings import Settings
from losscli.analysis.step_rule import Evidence, boundary_flags
from losscli.verdicts import INCONCLUSIVE, SMOOTH, STEPPED


@dataclass(frozen=True)
class Decision:
    """The verdict and the boundaries that carry it, as the step rule decided them from the measurements."""

    verdict: str
    boundaries: tuple[Boundary, ...] = ()
    score: float = 0.0
    from_levels: bool = False  # the boundaries are read from the whole-run model of epoch levels
    memorization: bool = False
    late_epoch_rise: tuple[int, ...] = ()


def decide(measured: Measured, *, settings: Settings) -> Decision:
    if measured.problem is not None:
        return Decision(INCONCLUSIVE)
    flagged, from_levels = _flag(measured, settings)
    records = tuple(
        Boundary(
            epoch=k,
            step=round(m.at, 2),
            before=m.before,
            after=m.after,
            drop=m.drop,
            relative_drop=m.relative_drop,
            z=m.z,
            t=m.t,
            share=m.share,
            stepped=flag,
            view=m.view,
            settle=round(m.settle, 2),
        )
        for k, m, flag in flagged
    )
    stepped = any(b.stepped for b in records)
    rise_from = measured.eval.best_step if measured.eval is not None and measured.eval.rises else None
    tolerance = settings.lead * measured.found.steps_per_epoch if measured.found is not None else 0.0
    return Decision(
        verdict=STEPPED if stepped else SMOOTH,
        boundaries=records,
        score=round(_score(records, settings, stepped), 3),
        from_levels=from_levels,
        memorization=_memorization(records, rise_from, tolerance),
        late_epoch_rise=_late_rises(records, measured.climbs, settings) if stepped else (),
    )


def _flag(measured: Measured, settings: Settings) -> tuple[list[tuple[int, Measurement, bool]], bool]:
    """The boundaries (epoch, the measurement that speaks for it, whether it steps), and whether they are read
    from the epoch-level model."""
    level_ok = measured.level_advantage is not None and measured.level_advantage >= settings.min_advantage
    levels = list(measured.level_evidence)
    if not measured.evidence:
        flags = boundary_flags(levels, settings=settings)
        return _zip(levels, [(m, f and level_ok) for m, f in flags]), True
    flags = boundary_flags(list(measured.evidence), settings=settings)
    if not any(f for _, f in flags) and level_ok and levels:
        level_flags = boundary_flags(levels, settings=settings)
        if any(f for _, f in level_flags):
            return _zip(levels, level_flags), True
    return _zip(list(measured.evidence), flags), False


def _zip(evidence: list[Evidence], flags: list[tuple[Measurement, bool]]) -> list[tuple[int, Measurement, bool]]:
    return [(e.epoch, m, f) for e, (m, f) in zip(evidence, flags)]


def _score(records: tuple[Boundary, ...], settings: Settings, stepped: bool) -> float:
    """0..1, how strongly stepped: the mean strength of the strongest third of the boundaries, placed in the
    upper half for a stepped run and the lower half otherwise, so that sorting by score sorts by verdict first."""
    if not records:
        return 0.0
    strengths = sorted(
        (
            max(0.0, min(1.0, b.share)) * (1 - math.exp(-max(b.t, 0.0) / settings.min_t)) * min(1.0, max(b.z, 0.0))
            for b in records
        ),
        reverse=True,
    )
    top = strengths[: max(1, math.ceil(len(strengths) / 3))]
    strength = sum(top) / len(top)
    return 0.5 + 0.5 * strength if stepped else 0.5 * strength


def _late_rises(
    records: tuple[Boundary, ...], climbs: dict[int, tuple[float, float]], settings: Settings
) -> tuple[int, ...]:
    """Epochs that climb back significantly over their second half, by a good part of the drop that started them
    (the shape seen when the learning rate restarts every epoch)."""
    rising = []
    for b in records:
        if not b.stepped or b.epoch + 1 not in climbs:
            continue
        climb, se = climbs[b.epoch + 1]
        if climb > 0 and climb >= settings.min_t * se and climb >= settings.late_rise_fraction * b.drop:
            rising.append(b.epoch + 1)
    return tuple(rising)


def _memorization(records: tuple[Boundary, ...], rise_from: int | None, tolerance: float) -> bool:
    """Memorization: the train loss steps down while the eval loss rises, the rise starting (from the lowest eval,
    at step `rise_from`) at or after the first stepped boundary. An eval logged up to `tolerance` steps before the
    boundary (the end of the epoch before it) counts as at the boundary. A rise that started earlier is plain
    overfitting, or noise, and not this pattern."""
    stepped = [b.step for b in records if b.stepped]
    return rise_from is not None and bool(stepped) and rise_from >= min(stepped) - tolerance
