"""Robust regression for the level of a loss curve on each side of a step.

Per-step batch losses are noisy and heavy-tailed (one bad batch makes a spike), so fits use Huber weights by
iteratively reweighted least squares: a spike gets little weight, ordinary noise full weight. The boundary model is
a segmented curve: y = a + s·u + c·u² + d·[u > 0] (+ s'·u·[u > 0]), with u the step relative to the boundary.
`d` is the level change at the boundary and its standard error comes from the whole fit. The shared curvature
absorbs the bend of a smoothly decaying loss, which would otherwise leak into `d`; it costs `d` almost no precision
because the two sides are placed symmetrically. The slope is shared by both sides unless the data say the slopes
differ (a learning rate that restarts each epoch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_MAD_TO_SIGMA = 1.4826
_HUBER_K = 1.345
_SLOPE_CHANGE_T = 2.0


def normal_equivalent(t: float, dof: float) -> float:
    """The standard-normal quantile with the same tail probability as Student's t with `dof` degrees of freedom.

    A t of 4 from ten points is far weaker evidence than from a thousand; converting lets one threshold serve
    both. Uses the Wallace (1959) approximation, accurate to a few hundredths for dof >= 3.
    """
    if not math.isfinite(t) or dof <= 0:
        return t
    return math.copysign(math.sqrt(dof * math.log1p(t * t / dof)) * (8 * dof + 1) / (8 * dof + 3), t)


@dataclass(frozen=True)
class StepFit:
    before: float  # level of the left line at the boundary
    after: float  # level of the right line at the boundary
    change: float  # after - before
    change_se: float
    slope_before: float
    slope_after: float
    sigma: float  # robust scale of the residuals: the noise of one point around the local trend
    n_before: int
    n_after: int
    dof: float


def _median(values: np.ndarray) -> float:
    """np.median without its overhead, which dominates on the small windows fitted here."""
    n = len(values)
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return float(part[half - 1] + part[half]) / 2


def robust_scale(residuals: np.ndarray) -> float:
    """The noise of single points (1.4826 x the median absolute deviation), over the finite residuals."""
    finite = residuals if np.all(np.isfinite(residuals)) else residuals[np.isfinite(residuals)]
    if len(finite) == 0:
        return math.nan
    return _MAD_TO_SIGMA * _median(np.abs(finite - _median(finite)))


def robust_lstsq(design: np.ndarray, y: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, np.ndarray, float]:
    """Huber-weighted least squares: coefficients, their covariance, and the residuals' robust scale.

    Rows must be in step order: the covariance is widened for residuals that are correlated in time."""
    weights = np.ones(len(y))
    coef = _weighted_solve(design, y, weights)
    for _ in range(iterations):
        residuals = y - design @ coef
        scale = robust_scale(residuals)
        if not scale > 0:
            break
        u = np.abs(residuals) / (_HUBER_K * scale)
        new_weights = np.where(u <= 1, 1.0, 1.0 / np.maximum(u, 1e-12))
        if np.allclose(new_weights, weights, rtol=1e-4, atol=1e-6):
            break  # converged: the same points carry the same weight
        weights = new_weights
        coef = _weighted_solve(design, y, weights)
    residuals = y - design @ coef
    # The MAD alone is unstable on a dozen points (it can come out near zero); the Huber-weighted RMS,
    # corrected for the fitted parameters, bounds it from below. It also covers a collapsed, flat loss.
    dof = max(float(weights.sum()) - design.shape[1], 1.0)
    weighted_rms = float(math.sqrt(np.dot(weights, residuals * residuals) / dof))
    sigma = max(robust_scale(residuals), weighted_rms)
    xtwx = (design * weights[:, None]).T @ design
    try:
        cov = sigma**2 * np.linalg.inv(xtwx) * _autocorrelation_inflation(residuals)
    except np.linalg.LinAlgError:
        cov = np.full((design.shape[1], design.shape[1]), np.inf)
    return coef, cov, sigma


def _weighted_solve(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least squares by the normal equations (fast for a few columns), by SVD when they are singular."""
    weighted = design * weights[:, None]
    try:
        return np.linalg.solve(weighted.T @ design, weighted.T @ y)
    except np.linalg.LinAlgError:
        root = np.sqrt(weights)
        return np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]


def _autocorrelation_inflation(residuals: np.ndarray) -> float:
    """How much wider standard errors are when neighbouring residuals move together (a loss that wanders).

    Rows are in step order, so the lag-1 autocorrelation of the residuals measures it; an AR(1) process with
    correlation r carries (1 + r) / (1 - r) times the variance of independent noise into a mean."""
    if len(residuals) < 8:
        return 1.0
    centred = residuals - np.median(residuals)
    clipped = np.clip(centred, -3 * robust_scale(centred), 3 * robust_scale(centred))
    denominator = float(np.dot(clipped, clipped))
    if denominator <= 0:
        return 1.0
    r = min(max(float(np.dot(clipped[1:], clipped[:-1])) / denominator, 0.0), 0.95)
    return (1 + r) / (1 - r)


def fit_step(
    u_before: np.ndarray, y_before: np.ndarray, u_after: np.ndarray, y_after: np.ndarray, scale: float
) -> StepFit:
    """Fit the segmented line around a boundary at u = 0; `scale` (an epoch, in steps) keeps numbers tame."""
    u = np.r_[u_before, u_after] / scale
    y = np.r_[y_before, y_after]
    side = np.r_[np.zeros(len(u_before)), np.ones(len(u_after))]
    ones = np.ones(len(u))
    # columns: level, slope, jump, curvature, slope change
    free = np.column_stack([ones, u, side, u * u, u * side])
    coef, cov, sigma = robust_lstsq(free, y)
    params = 5
    slope_change_se = math.sqrt(cov[4, 4]) if np.isfinite(cov[4, 4]) else math.inf
    if not abs(coef[4]) > _SLOPE_CHANGE_T * slope_change_se:
        coef4, cov4, sigma = robust_lstsq(free[:, :4], y)
        coef, cov, params = np.r_[coef4, 0.0], cov4, 4
    change_se = math.sqrt(cov[2, 2]) if np.isfinite(cov[2, 2]) else math.inf
    return StepFit(
        before=float(coef[0]),
        after=float(coef[0] + coef[2]),
        change=float(coef[2]),
        change_se=change_se,
        slope_before=float(coef[1]) / scale,
        slope_after=float(coef[1] + coef[4]) / scale,
        sigma=sigma,
        n_before=len(u_before),
        n_after=len(u_after),
        dof=float(len(y) - params),
    )


def fit_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Robust slope of y over x, its standard error, and the residual scale."""
    centre = float(np.mean(x))
    span = float(np.ptp(x)) or 1.0
    design = np.column_stack([np.ones(len(x)), (x - centre) / span])
    coef, cov, sigma = robust_lstsq(design, y)
    se = math.sqrt(cov[1, 1]) if np.isfinite(cov[1, 1]) else math.inf
    return float(coef[1]) / span, se / span, sigma
