"""Judge one run: measure, decide, explain; the three steps live in their own modules (docs/method.md). The
findings besides the staircase, the learning-rate schedule and the causes follow the same shape: their rules
measure and decide (findings/, lr_schedule.py, causes.py), explain_findings.py words them."""

from __future__ import annotations

from losscli.analysis.causes import advise, find_causes
from losscli.analysis.decide import decide
from losscli.analysis.explain import explain
from losscli.analysis.explain_findings import advice_with_message, causes_with_messages, with_messages
from losscli.analysis.findings.collect import context_of, find_all
from losscli.analysis.lr_schedule import lr_schedule
from losscli.analysis.measure import measure_run
from losscli.analysis.result import Analysis
from losscli.analysis.settings import Settings
from losscli.frame import Run


def analyze(run: Run, *, settings: Settings | None = None) -> Analysis:
    """The verdict on `run`'s train-loss curve, with the evidence at every boundary, the eval-loss findings, the
    other findings, the learning-rate schedule, and for a stepped run its causes; the advice that follows."""
    settings = settings or Settings()
    measured = measure_run(run, settings=settings)
    decision = decide(measured, settings=settings)
    words = explain(measured, decision=decision, settings=settings)
    context = context_of(run, measured=measured, decision=decision, settings=settings)
    schedule = lr_schedule(
        context.lr_steps,
        context.lr_values,
        boundaries=context.boundaries,
        tolerance=context.tolerance,
        settings=settings,
    )
    findings = find_all(context, settings=settings)
    causes = find_causes(
        context, decision=decision, findings=findings, schedule=schedule, configs=run.configs, settings=settings
    )
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
        findings=with_messages(findings),
        lr_schedule=schedule,
        causes=causes_with_messages(causes),
        advice=advice_with_message(advise(context, decision=decision)),
    )
