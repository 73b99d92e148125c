"""Measure: everything the verdict is decided from, and nothing decided yet.

The usable train and eval points (values.py), where the epoch boundaries fall (boundaries.py, infer.py), each
boundary seen from every view with its placebo (evidence.py), the whole-run model of epoch levels
(epoch_levels.py), the climb late in each epoch, and the eval finding (eval_findings.py). The eval finding is
measured first and for every run that has eval loss: nothing about the train loss can take it away.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from losscli.analysis import boundaries as bounds
from losscli.analysis.epoch_levels import epoch_level_model
from losscli.analysis.eval_findings import eval_finding
from losscli.analysis.evidence import measure, placebo_level, views
from losscli.analysis.fits import Trend, fit_slope
from losscli.analysis.infer import infer_period
from losscli.analysis.result import EvalFinding
from losscli.analysis.settings import Settings
from losscli.analysis.step_rule import Evidence
from losscli.analysis.values import Usable, usable
from losscli.frame import EVAL_LOSS, TRAIN_LOSS, Run

# Where measuring had to stop (the run is inconclusive; explain.py words them).
NO_TRAIN_LOSS = "no train loss"
FEW_POINTS = "few points"
NO_EPOCHS = "no epoch information"
NOT_CROSSED = "no boundary crossed"
FEW_PER_EPOCH = "few points per epoch"
NOT_MEASURABLE = "no boundary measurable"  # every boundary lost its points to values left out

OVERRIDES = "overrides"  # --steps-per-epoch placed boundaries in a run whose log records epochs it cannot place
NOT_USED = "not used"  # --steps-per-epoch differs from what the log states, which wins
_SAME = 0.01  # numerical: two steps-per-epoch values within 1 % are the same (rounding of logged epochs)


@dataclass(frozen=True)
class Measured:
    """What `measure` found; `problem` says where it had to stop (decide.py's codes), None when it did not."""

    where: str  # the run's file, for messages
    train: Usable
    eval_points: Usable | None
    eval: EvalFinding | None
    problem: str | None = None
    epochs_covered: float | None = None
    found: bounds.Boundaries | None = None
    crossed: int = 0
    interval: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    level_evidence: tuple[Evidence, ...] = ()
    level_advantage: float | None = None
    placebo: float = 0.0  # the typical mid-epoch drop (z) at the shortest settling
    unmeasured: tuple[int, ...] = ()  # boundaries no view could measure
    climbs: dict[int, tuple[float, float]] = field(default_factory=dict)  # epoch -> climb over its 2nd half, se
    user_steps: str | None = None  # OVERRIDES or NOT_USED when --steps-per-epoch met a log that states epochs

    @property
    def points(self) -> int:
        return len(self.train.steps)


def measure_run(run: Run, *, settings: Settings) -> Measured:
    """Everything about `run` that the verdict is decided from; stops where the run offers no more."""
    train = run.series(TRAIN_LOSS)
    points = usable(train.step, train.value, train.epoch, max_deviation=settings.max_deviation)
    ev = run.series(EVAL_LOSS)
    eval_points = usable(ev.step, ev.value, ev.epoch, max_deviation=settings.max_deviation) if len(ev) else None
    finding = (
        eval_finding(eval_points.steps, eval_points.values, eval_points.epochs, meta=run.meta, settings=settings)
        if eval_points is not None
        else None
    )
    files = run.meta.get("source_files")
    where = str(files[0] if isinstance(files, (list, tuple)) and files else run.path)
    cols = run.columns()
    known = cols.epoch[np.isfinite(cols.epoch)]
    base = Measured(where, points, eval_points, finding, epochs_covered=float(known.max()) if len(known) else None)
    x, y = points.steps, points.values
    if len(x) < 2 * settings.min_points_per_side:
        return _replace(base, problem=NO_TRAIN_LOSS if len(x) == 0 else FEW_POINTS)
    found, user_steps = _find_boundaries(run, x, y, settings)
    base = _replace(base, found=found, user_steps=user_steps)
    if found is None:
        return _replace(base, problem=NO_EPOCHS)
    covered = found.covered if found.covered is not None else base.epochs_covered
    if covered is None:
        covered = float(x[-1] / found.steps_per_epoch)
    crossed = found.steps[(found.steps > x[0]) & (found.steps < x[-1])]
    base = _replace(base, epochs_covered=covered, crossed=len(crossed))
    if len(crossed) == 0:
        return _replace(base, problem=NOT_CROSSED)
    return _measure_boundaries(base, x, y, found, crossed, settings)


def _replace(m: Measured, **changes: object) -> Measured:
    return replace(m, **changes)  # type: ignore[arg-type]


def _measure_boundaries(
    base: Measured, x: np.ndarray, y: np.ndarray, found: bounds.Boundaries, crossed: np.ndarray, settings: Settings
) -> Measured:
    epoch_len = found.steps_per_epoch
    interval = float(np.median(np.diff(x)))
    seen_from = views(epoch_len, interval=interval, settings=settings)
    levels: dict[float, float] = {}
    for v in seen_from:  # one placebo per settling time (the views that share one share its placebo)
        if v.settle not in levels:
            levels[v.settle] = placebo_level(x, y, boundaries=crossed, view=v, epoch_len=epoch_len, settings=settings)
    first = found.first_epoch + int(np.flatnonzero(found.steps == crossed[0])[0])
    evidence, unmeasured = [], []
    for k, b in enumerate(crossed, first):
        seen = []
        for view in seen_from:
            m = measure(x, y, at=float(b), view=view, epoch_len=epoch_len, settings=settings)
            if m is not None:
                seen.append((m, levels[view.settle]))
        if seen:
            evidence.append(Evidence(k, float(b), tuple(seen)))
        else:
            unmeasured.append(k)
    level_evidence: list[Evidence] = []
    advantage = None
    if len(crossed) >= 2:
        settle = seen_from[0].settle if evidence else interval
        model = epoch_level_model(x, y, boundaries=crossed, epoch_len=epoch_len, settle=settle, settings=settings)
        if model is not None:
            advantage = model.advantage
            index = {float(b): k for k, b in enumerate(crossed, first)}
            # The placebo holds for every measurement: a level model's drops must also stand above mid-epoch ones.
            placebo = levels[seen_from[0].settle]
            level_evidence = [Evidence(index[m.at], m.at, ((m, placebo),)) for m in model.drops]
    problem = None
    if not evidence and not level_evidence:
        problem = NOT_MEASURABLE if base.train.left_out else FEW_PER_EPOCH
    return _replace(
        base,
        problem=problem,
        interval=interval,
        evidence=tuple(evidence),
        level_evidence=tuple(level_evidence),
        level_advantage=advantage,
        placebo=levels[seen_from[0].settle],
        unmeasured=tuple(unmeasured),
        climbs=_climbs(x, y, crossed, first, epoch_len, settings),
    )


def _climbs(
    x: np.ndarray, y: np.ndarray, crossed: np.ndarray, first: int, epoch_len: float, settings: Settings
) -> dict[int, tuple[float, float]]:
    """For the epoch after each boundary, how much its second half climbs (fitted), and the standard error."""
    trend = Trend(curvature=False, huber_k=settings.huber_k, max_autocorrelation=settings.max_autocorrelation)
    out = {}
    for k, b in enumerate(crossed, first):
        lo = np.searchsorted(x, b + 0.5 * epoch_len, "right")
        hi = np.searchsorted(x, b + epoch_len - settings.lead * epoch_len, "right")
        if hi - lo < settings.min_points_per_side:
            continue
        slope, slope_se, _ = fit_slope(x[lo:hi], y[lo:hi], trend=trend)
        climb, se = slope * 0.5 * epoch_len, slope_se * 0.5 * epoch_len
        if np.isfinite(climb) and np.isfinite(se):
            out[k + 1] = (climb, se)
    return out


def _find_boundaries(
    run: Run, x: np.ndarray, y: np.ndarray, settings: Settings
) -> tuple[bounds.Boundaries | None, str | None]:
    """In order of trust: the logged epochs, the log's settings, the user's --steps-per-epoch, the curve.

    The user's value is for logs without epoch information; where the log states its epochs it is not used (and
    a note says so when it differs), and where the log records epochs that cannot place boundaries (an epoch
    value that never advances) it overrides them with a warning."""
    cols = run.columns()
    user = settings.steps_per_epoch
    logged = bounds.from_epoch_values(cols.step, cols.epoch, spike_factor=settings.epoch_spike_factor)
    if logged is not None:
        return logged, _differs(user, logged.steps_per_epoch)
    stated = bounds.steps_per_epoch_from_meta(run.meta)
    if stated:
        return bounds.from_steps_per_epoch(stated, last_step=float(x[-1]), source=bounds.FROM_META), _differs(
            user, stated
        )
    if user:
        found = bounds.from_steps_per_epoch(user, last_step=float(x[-1]), source=bounds.FROM_USER)
        return found, OVERRIDES if np.isfinite(cols.epoch).any() else None
    period = infer_period(x, y, settings=settings)
    if period:
        return bounds.from_steps_per_epoch(period, last_step=float(x[-1]), source=bounds.FROM_CURVE), None
    return None, None


def _differs(user: float | None, stated: float) -> str | None:
    if not user or not np.isfinite(stated):
        return None
    return NOT_USED if abs(user - stated) > _SAME * stated else None
