"""`drops_after_eval`: train-loss drops that line up with evaluation steps rather than epoch boundaries.

A bug that lets the model learn during evaluation (a training step in the evaluation loop, a model left in train
mode with an optimizer step, an evaluation set that is part of the training set) makes the train loss fall right
after each evaluation. Two cases, by where the evaluations fall:

- **Evaluations away from the boundaries** (more than the boundary tolerance from every epoch boundary; the last
  evaluation, at the end, is not one). Each is measured as an epoch boundary is seen from its near view
  (evidence.py): a robust line on each side, over the points back to the evaluation or boundary before it and on
  to the one after it (so that no window holds an epoch boundary), read at the evaluation step. The same
  measurement midway between two evaluations with no boundary between them is the placebo. An evaluation drops
  when its drop has the shape of a step (step_rule.shaped: size, visibility, share, above the placebo) and half
  the single-boundary significance (`pool_fraction` x `min_t`), as pooled boundaries must; the finding needs
  `eval_drops_min` evaluations measured, at least two and `eval_drops_share` of them dropping, and their
  combined t (Stouffer) reaching `min_combined_t`: the same drop after evaluation after evaluation.
- **Evaluation at every epoch boundary** and at no `eval_drops_min` others, in a stepped run: timing cannot tell
  a drop after evaluation from a drop at the boundary. The eval loss can: held-out data under memorization
  rises or stays flat, while after a leak (or on an evaluation set that is part of the training data) it falls
  with the train loss. The finding is made when the eval loss falls over the run by at least `eval_leak_share`
  of the train loss's fall over the same evaluations; causes.py says that timing could not tell.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.analysis.evidence import NEAR, Measurement, View, trend_of
from losscli.analysis.findings.context import Context
from losscli.analysis.fits import Trend, fit_step, median, normal_equivalent
from losscli.analysis.result import EvalDropsFinding
from losscli.analysis.settings import Settings
from losscli.analysis.step_rule import Evidence, could_step, shaped

_LEVEL_WINDOW = 3  # a definition: the train level before a step is read over this many tolerances
AWAY = "evaluations"
AT_BOUNDARIES = "boundaries"


def eval_drops_finding(context: Context, *, settings: Settings) -> EvalDropsFinding | None:
    x = context.train.steps
    if len(x) < 2 * settings.min_points_per_side or len(context.eval_steps) < 2:
        return None
    inside = context.eval_steps[(context.eval_steps > x[0]) & (context.eval_steps < x[-1])]
    away = np.asarray([e for e in inside.tolist() if not context.near_boundary(e)])
    if len(away) >= settings.eval_drops_min:
        return _away(context, away, settings)
    if context.stepped and all(_evaluated_near(context, b) for b in context.stepped):
        return _at_boundaries(context, settings)
    return None


def _away(context: Context, away: np.ndarray, settings: Settings) -> EvalDropsFinding | None:
    x, y = context.train.steps, context.train.values
    evals = context.eval_steps
    gap = float(np.median(np.diff(evals)))
    if not gap > 0:
        return None
    settle = 0.0 if np.isin(away, x).all() else context.interval
    changes = np.unique(np.r_[evals, context.boundaries])
    mids = [
        (a, b)
        for a, b in zip(evals[:-1].tolist(), evals[1:].tolist())
        if not ((context.boundaries > a) & (context.boundaries < b)).any()
    ]
    measured = []
    for k, e in enumerate(away.tolist()):
        i = int(np.searchsorted(changes, e))
        low = float(changes[i - 1]) if i > 0 else -np.inf
        high = float(changes[i + 1]) if i + 1 < len(changes) else np.inf
        m = _measure(x, y, at=float(e), low=low, high=high, settle=settle, gap=gap, settings=settings)
        if m is not None:
            measured.append((k, float(e), m))
    # Too few evaluations that could drop under any placebo: no finding, and no placebo measured for it.
    possible = sum(could_step(m, settings=settings) for _, _, m in measured)
    if len(measured) < settings.eval_drops_min or possible < max(2.0, settings.eval_drops_share * len(measured)):
        return None
    controls = [
        _measure(x, y, at=(a + b) / 2, low=a, high=b, settle=settle, gap=gap, settings=settings) for a, b in mids
    ]
    zs = [m.z for m in controls if m is not None]
    placebo = float(np.sqrt(np.mean(np.square(np.maximum(zs, 0.0))))) if len(zs) >= 2 else 0.0
    evidence = [Evidence(k, e, ((m, placebo),)) for k, e, m in measured]
    dropping = [
        m
        for e in evidence
        for m, control in e.seen
        if shaped(m, placebo=control, settings=settings) and m.t >= settings.pool_fraction * settings.min_t
    ]
    if len(dropping) < 2 or len(dropping) < settings.eval_drops_share * len(evidence):
        return None
    if sum(m.t for m in dropping) / math.sqrt(len(dropping)) < settings.min_combined_t:
        return None
    first = dropping[0].at
    return EvalDropsFinding(
        step=first,
        epoch=context.epoch_at(first),
        value=float(dropping[0].after),
        timing=AWAY,
        evaluations=len(evidence),
        dropping=len(dropping),
        mean_drop=float(np.mean([m.drop for m in dropping])),
        drop_steps=tuple(m.at for m in dropping),
        eval_change=None,
        train_change=None,
    )


def _measure(
    x: np.ndarray, y: np.ndarray, *, at: float, low: float, high: float, settle: float, gap: float, settings: Settings
) -> Measurement | None:
    """The drop at `at`, from a line on each side over the points between the change points around it (`low`,
    `high`: the evaluations and boundaries next to it), read at `at`; None with too few points on a side."""
    left = (x > low) & (x <= at)
    right = (x > at + settle) & (x <= high)
    need = settings.min_points_per_side
    if left.sum() < need or right.sum() < need:
        return None
    fit = fit_step(x[left] - at, y[left], x[right] - at, y[right], scale=gap, trend=_trend(settings))
    drop = -fit.change
    z = drop / fit.sigma
    t = normal_equivalent(drop / fit.change_se, dof=fit.dof)
    decrease = median(y[left]) - median(y[right])
    share = 0.0 if not drop > 0 else 1.0 if decrease <= drop else drop / decrease
    found = Measurement(at, fit.before, fit.after, drop, z, t, share, NEAR, settle, fit)
    return found if all(map(math.isfinite, (found.before, found.after, drop, z, t))) else None


def _trend(settings: Settings) -> Trend:
    return trend_of(View(NEAR, 0.0, 0.0, 0.0, True), settings=settings)


def _evaluated_near(context: Context, step: float) -> bool:
    return bool(len(context.eval_steps)) and bool(np.min(np.abs(context.eval_steps - step)) <= context.tolerance)


def _at_boundaries(context: Context, settings: Settings) -> EvalDropsFinding | None:
    points = context.eval_points
    if points is None or len(points.values) < 2:
        return None
    first_step, last_step = float(points.steps[0]), float(points.steps[-1])
    eval_change = float(points.values[0] - points.values[-1])
    train_change = _level_before(context, first_step) - _level_before(context, last_step)
    if not (train_change > 0 and eval_change >= settings.eval_leak_share * train_change):
        return None
    return EvalDropsFinding(
        step=first_step,
        epoch=context.epoch_at(first_step),
        value=float(points.values[0]),
        timing=AT_BOUNDARIES,
        evaluations=len(points.values),
        dropping=len(context.stepped),
        mean_drop=float(np.mean(context.stepped_drops)) if context.stepped_drops else 0.0,
        drop_steps=context.stepped,
        eval_change=eval_change,
        train_change=train_change,
    )


def _level_before(context: Context, step: float) -> float:
    """The train loss just before `step`: the median of the points in `_LEVEL_WINDOW` tolerances before it (the
    last point at or before it when there are none)."""
    x, y = context.train.steps, context.train.values
    near = y[(x > step - _LEVEL_WINDOW * context.tolerance) & (x <= step)]
    if len(near):
        return float(np.median(near))
    before = y[x <= step]
    return float(before[-1]) if len(before) else float(y[0])
