"""Robust fits on either side of a step, whose change in level is the drop.

Loss curves carry spikes (a bad batch, an fp16 overflow) that least squares would follow, so every fit is
Huber-weighted (`robust_lstsq`). The segmented fit around a boundary (`fit_step`) has a level and a slope, a jump
at the boundary, and two terms that enter only when the data show them (`trend_term_t` standard errors): a change
of slope at the boundary (a learning rate that restarts each epoch) and a shared curvature (the bend of a smoothly
decaying loss, which would otherwise leak into the jump when the sides are fitted over whole epochs). A term the
data do not show costs the jump precision for nothing: with a short side (a run stopped soon after a boundary)
an unneeded curvature doubles its standard error.

Standard errors are widened for residuals that move together in time, and the degrees of freedom shrink with
them: a thousand points that wander together carry the information of a few independent ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_MAD_TO_SIGMA = 1.4826  # the median absolute deviation of normal noise, in standard deviations (a definition)
_IRLS_ITERATIONS = 8  # numerical: reweighting converges in 3-5 on loss curves; the cap bounds the cost
_TINY = 1e-12  # numerical safety: keeps divisions finite; far below any loss a logger writes
_CONVERGED = 1e-2  # numerical: reweighting stops when no weight changes by more than 1 % (the fit moves by a
# small part of its standard errors then; 1e-4 took twice the iterations for the same verdicts: evaluate.py)


@dataclass(frozen=True)
class Trend:
    """How a fit treats the trend: which terms it may use, and how it weighs residuals."""

    curvature: bool = True  # may use a shared curvature (fits over whole epochs)
    term_t: float = 2.0  # a slope change or curvature enters when |estimate| >= term_t standard errors
    huber_k: float = 1.345
    max_autocorrelation: float = 0.995


@dataclass(frozen=True)
class StepFit:
    """Two local trends fitted on either side of a point: the jump between them and its standard error."""

    before: float  # level of the left side at the evaluation point
    after: float  # level of the right side at the evaluation point
    change: float  # after - before
    change_se: float
    slope_before: float  # per step
    slope_after: float
    sigma: float  # robust scale of the residuals: the noise of one point around the local trend
    n_before: int
    n_after: int
    dof: float  # effective degrees of freedom (fewer when residuals are correlated)


@dataclass(frozen=True)
class RobustFit:
    """A Huber-weighted least-squares fit, its covariance widened for correlated residuals."""

    coef: np.ndarray
    cov: np.ndarray
    sigma: float
    inflation: float  # variance factor for correlated residuals (1 when independent)
    weights: np.ndarray


def normal_equivalent(t: float, *, dof: float) -> float:
    """The standard-normal quantile with the same tail probability as Student's t with `dof` degrees of freedom.

    A t of 4 from ten points is far weaker evidence than from a thousand; converting lets one threshold serve
    both. Uses the Wallace (1959) approximation, accurate to a few hundredths for dof >= 3.
    """
    if not math.isfinite(t) or dof <= 0:
        return t
    return math.copysign(math.sqrt(dof * math.log1p(t * t / dof)) * (8 * dof + 1) / (8 * dof + 3), t)


def median(values: np.ndarray) -> float:
    """np.median of finite values without its overhead, which dominates on the small windows the analysis
    summarises (the same number: the middle value, or the mean of the two middle ones)."""
    n = len(values)
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return float(part[half - 1] + part[half]) / 2


def robust_scale(residuals: np.ndarray) -> float:
    """The noise of single points (1.4826 x the median absolute deviation), over the finite residuals."""
    finite = residuals if np.isfinite(residuals).all() else residuals[np.isfinite(residuals)]
    if len(finite) == 0:
        return math.nan
    return _mad_scale(finite)


def _mad_scale(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation of finite values (the fits' inputs are finite: values.py)."""
    return _centre_and_scale(values)[1]


def _centre_and_scale(values: np.ndarray) -> tuple[float, float]:
    centre = median(values)
    return centre, _MAD_TO_SIGMA * median(np.abs(values - centre))


def robust_lstsq(design: np.ndarray, y: np.ndarray, *, trend: Trend, weights: np.ndarray | None = None) -> RobustFit:
    """Huber-weighted least squares: coefficients, their covariance, and the residuals' robust scale.

    Rows must be in step order: the covariance is widened for residuals that are correlated in time. `weights`
    from a fit of a larger model start the reweighting where it ended."""
    weights = np.ones(len(y)) if weights is None else weights
    augmented = np.column_stack((design, y))  # one product gives both sides of the normal equations
    coef = _weighted_solve(design, y, weights, augmented)
    residuals = y - design @ coef
    centre, scale = _centre_and_scale(residuals)
    for _ in range(_IRLS_ITERATIONS):
        if not scale > 0:
            break
        # Huber weights: 1 within huber_k scales, 1/u beyond
        new_weights = 1.0 / np.maximum(np.abs(residuals) / (trend.huber_k * scale), 1.0)
        if float(np.max(np.abs(new_weights - weights))) <= _CONVERGED:
            break  # converged: the same points carry the same weight
        weights = new_weights
        coef = _weighted_solve(design, y, weights, augmented)
        residuals = y - design @ coef
        centre, scale = _centre_and_scale(residuals)
    # The MAD alone is unstable on a dozen points (it can come out near zero); the Huber-weighted RMS,
    # corrected for the fitted parameters, bounds it from below. It also covers a collapsed, flat loss. The
    # last floor is numerical: a loss logged as exactly the same number gives finite z and t, not infinite.
    dof = max(float(weights.sum()) - design.shape[1], 1.0)
    weighted_rms = float(math.sqrt(np.dot(weights, residuals * residuals) / dof))
    level = float(np.mean(np.abs(y))) if len(y) else 0.0
    sigma = max(scale, weighted_rms, _TINY * max(level, 1.0))
    inflation = _autocorrelation_inflation(residuals - centre, 3 * scale, trend.max_autocorrelation)
    xtwx = (design * weights[:, None]).T @ design
    try:
        cov = sigma**2 * np.linalg.inv(xtwx) * inflation
    except np.linalg.LinAlgError:
        cov = np.full((design.shape[1], design.shape[1]), np.inf)
    return RobustFit(coef, cov, sigma, inflation, weights)


def _weighted_solve(design: np.ndarray, y: np.ndarray, weights: np.ndarray, augmented: np.ndarray) -> np.ndarray:
    """Weighted least squares by the normal equations (fast for a few columns), by SVD when they are singular.
    `augmented` is the design with y as its last column."""
    normal = (design * weights[:, None]).T @ augmented
    try:
        return np.linalg.solve(normal[:, :-1], normal[:, -1])
    except np.linalg.LinAlgError:
        root = np.sqrt(weights)
        return np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]


def _autocorrelation_inflation(centred: np.ndarray, bound: float, max_r: float) -> float:
    """How much wider standard errors are when neighbouring residuals move together (a loss that wanders).

    Rows are in step order, so the lag-1 autocorrelation of the residuals (centred on their median, clipped at
    `bound` so that spikes do not dominate) measures it; an AR(1) process with correlation r carries
    (1 + r) / (1 - r) times the variance of independent noise into a mean (never more than all points moving
    as one)."""
    if len(centred) < 8:
        return 1.0
    clipped = np.clip(centred, -bound, bound)
    denominator = float(np.dot(clipped, clipped))
    if not denominator > 0:
        return 1.0
    r = min(max(float(np.dot(clipped[1:], clipped[:-1])) / denominator, 0.0), max_r)
    return min((1 + r) / (1 - r), float(len(centred)))


def _se(cov: np.ndarray, i: int) -> float:
    value = float(cov[i, i])
    return math.sqrt(value) if math.isfinite(value) and value >= 0 else math.inf


def fit_step(
    u_before: np.ndarray,
    y_before: np.ndarray,
    u_after: np.ndarray,
    y_after: np.ndarray,
    *,
    scale: float,
    trend: Trend,
) -> StepFit:
    """Fit the segmented curve around u = 0, where `before` and `after` are read; `scale` (an epoch, in steps)
    keeps numbers tame. Columns: level, slope, jump, slope change, curvature; the last two only when shown."""
    u = np.concatenate((u_before, u_after)) / scale
    y = np.concatenate((y_before, y_after))
    side = np.concatenate((np.zeros(len(u_before)), np.ones(len(u_after))))
    columns = [np.ones(len(u)), u, side, u * side] + ([u * u] if trend.curvature else [])
    design = np.column_stack(columns)
    fit = robust_lstsq(design, y, trend=trend)
    slope_change = True
    # Leave out the terms the data do not show, slope change first: each refit starts from the last weights.
    if not abs(fit.coef[3]) >= trend.term_t * _se(fit.cov, 3):
        slope_change = False
        design = np.delete(design, 3, axis=1)
        fit = robust_lstsq(design, y, trend=trend, weights=fit.weights)
    if trend.curvature:
        last = design.shape[1] - 1
        if not abs(fit.coef[last]) >= trend.term_t * _se(fit.cov, last):
            design = design[:, :last]
            fit = robust_lstsq(design, y, trend=trend, weights=fit.weights)
    change = float(fit.coef[2])
    slope = float(fit.coef[1])
    slope_after = slope + (float(fit.coef[3]) if slope_change else 0.0)
    return StepFit(
        before=float(fit.coef[0]),
        after=float(fit.coef[0]) + change,
        change=change,
        change_se=_se(fit.cov, 2),
        slope_before=slope / scale,
        slope_after=slope_after / scale,
        sigma=fit.sigma,
        n_before=len(u_before),
        n_after=len(u_after),
        dof=max(len(y) / fit.inflation - design.shape[1], 1.0),
    )


def fit_slope(x: np.ndarray, y: np.ndarray, *, trend: Trend) -> tuple[float, float, float]:
    """Robust slope of y over x, its standard error, and the residual scale."""
    centre = float(np.mean(x))
    span = float(np.ptp(x)) or 1.0
    design = np.column_stack([np.ones(len(x)), (x - centre) / span])
    fit = robust_lstsq(design, y, trend=trend)
    return float(fit.coef[1]) / span, _se(fit.cov, 1) / span, fit.sigma
