"""Run every finding rule on one run and return the findings in step order (their words come later, in
explain_findings.py). `context_of` gathers what the rules read from the run and the measuring and deciding steps.
"""

from __future__ import annotations

import numpy as np

from losscli.analysis.decide import Decision
from losscli.analysis.findings.context import Context
from losscli.analysis.findings.divergence import divergence_finding
from losscli.analysis.findings.eval_drops import eval_drops_finding
from losscli.analysis.findings.eval_rise import eval_rise_finding
from losscli.analysis.findings.nan import nan_finding
from losscli.analysis.findings.plateau import plateau_finding
from losscli.analysis.findings.spikes import spike_findings
from losscli.analysis.findings.steps_backwards import steps_backwards_findings
from losscli.analysis.measure import Measured
from losscli.analysis.result import Finding
from losscli.analysis.settings import Settings
from losscli.frame import EVAL_LOSS, GRAD_NORM, LEARNING_RATE, Run


def find_all(context: Context, *, settings: Settings) -> tuple[Finding, ...]:
    """Every finding of the run, in step order (findings without a step last)."""
    found: list[Finding | None] = [
        nan_finding(context),
        divergence_finding(context, settings=settings),
        plateau_finding(context, settings=settings),
        eval_rise_finding(context),
        eval_drops_finding(context, settings=settings),
    ]
    found += spike_findings(context, settings=settings)
    found += steps_backwards_findings(context)
    present = [f for f in found if f is not None]
    return tuple(sorted(present, key=lambda f: (f.step is None, f.step if f.step is not None else 0.0)))


def context_of(run: Run, *, measured: Measured, decision: Decision, settings: Settings) -> Context:
    """What the rules read, from the run's frame and what measure and decide made of it."""
    found = measured.found
    x = measured.train.steps
    boundaries = found.steps[(found.steps > x[0]) & (found.steps < x[-1])] if found is not None and len(x) else None
    epoch_len = found.steps_per_epoch if found is not None and np.isfinite(found.steps_per_epoch) else None
    interval = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    evals = run.series(EVAL_LOSS)
    lr = run.series(LEARNING_RATE)
    grad = run.series(GRAD_NORM)
    finite = np.isfinite(grad.value)
    cols = run.columns()
    known = np.isfinite(cols.epoch)
    order = np.argsort(cols.step[known], kind="stable")
    stepped = [b for b in decision.boundaries if b.stepped]
    return Context(
        train=measured.train,
        eval_points=measured.eval_points,
        eval=measured.eval,
        eval_steps=np.unique(evals.step).astype(np.float64),
        boundaries=np.zeros(0) if boundaries is None else boundaries.astype(np.float64),
        epoch_len=epoch_len,
        stepped=tuple(b.step for b in stepped),
        stepped_drops=tuple(b.drop for b in stepped),
        interval=interval,
        lr_steps=lr.step.astype(np.float64),
        lr_values=lr.value,
        grad_steps=grad.step[finite].astype(np.float64),
        grad_values=grad.value[finite],
        epoch_steps=cols.step[known][order].astype(np.float64),
        epoch_values=cols.epoch[known][order],
        meta=run.meta,
        tolerance=max(interval, settings.lead * epoch_len) if epoch_len else interval,
    )
