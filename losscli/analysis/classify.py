"""Judge one run: measure, decide, explain; the three steps live in their own modules (docs/method.md)."""

from __future__ import annotations

from losscli.analysis.decide import decide
from losscli.analysis.explain import explain
from losscli.analysis.measure import measure_run
from losscli.analysis.result import Analysis
from losscli.analysis.settings import Settings
from losscli.frame import Run


def analyze(run: Run, *, settings: Settings | None = None) -> Analysis:
    """The verdict on `run`'s train-loss curve, with the evidence at every boundary and the eval-loss findings."""
    settings = settings or Settings()
    measured = measure_run(run, settings=settings)
    decision = decide(measured, settings=settings)
    words = explain(measured, decision=decision, settings=settings)
    found = measured.found
    covered = measured.epochs_covered
    return Analysis(
        verdict=decision.verdict,
        score=decision.score,
        reason=words.reason,
        epochs=None if covered is None else round(covered, 3),
        points=measured.points,
        boundary_source=found.source if found else None,
        steps_per_epoch=round(found.steps_per_epoch, 3) if found else None,
        boundaries=decision.boundaries,
        eval=measured.eval,
        memorization=decision.memorization,
        late_epoch_rise=decision.late_epoch_rise,
        notes=words.notes,
        warnings=words.warnings,
    )
