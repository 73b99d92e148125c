"""Boundary drops from a whole-run model of epoch levels, for runs logged too sparsely to fit each boundary.

With three or four points an epoch (`logging_steps` close to the epoch length) no boundary has enough points on
each side for its own fit. The run as a whole still tells a staircase from a slope: the model gives every epoch
its own level and all epochs one shared slope inside the epoch,

    y = a[k] + (s + s' · k) · (position inside epoch k, in epochs),

(the slope may drift over the run, as a flattening curve's does), so the drop at boundary k is
a[k-1] + slope(k-1) - a[k] (the end of epoch k-1 minus the start of epoch k), with its standard error from the
fit. It needs about three points an epoch. A smooth curve puts its fall into `s`; a staircase into the `a` steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from losscli.analysis.evidence import LEVELS, Measurement
from losscli.analysis.fits import Trend, normal_equivalent, robust_lstsq
from losscli.analysis.settings import Settings


@dataclass(frozen=True)
class LevelModel:
    """A staircase fitted to the whole run (one level per epoch), for runs logged too sparsely to measure each boundary
    alone."""

    drops: list[Measurement]
    advantage: float  # how much better the staircase explains the points than a smooth curve (BIC units)


def epoch_level_model(
    x: np.ndarray, y: np.ndarray, *, boundaries: np.ndarray, epoch_len: float, settle: float, settings: Settings
) -> LevelModel | None:
    """Fit the epoch-level model and compare it with a smooth curve of as many parameters; None when it cannot
    be fitted (fewer than three epochs, or fewer than `min_points_per_level` points in a typical epoch).

    Points in the first `settle` steps of an epoch are left out: a drop may still be under way there, and a
    logged value whose averaging interval straddles the boundary mixes both epochs."""
    trend = Trend(huber_k=settings.huber_k, max_autocorrelation=settings.max_autocorrelation)
    epoch = np.searchsorted(boundaries, x, side="left")  # a point exactly at a boundary ends the epoch before
    if np.median(np.unique(epoch, return_counts=True)[1]) < settings.min_points_per_level:
        return None  # with too few points an epoch the slope inside epochs cannot be told from steps
    previous = np.r_[-np.inf, boundaries][epoch]
    settled = x - previous >= settle * (1 - 1e-9)
    x, y, epoch = x[settled], y[settled], epoch[settled]
    starts = np.r_[boundaries[0] - epoch_len, boundaries][epoch]
    position = (x - starts) / epoch_len
    present, counts = np.unique(epoch, return_counts=True)
    if len(present) < 3 or np.median(counts) < 2:
        return None
    column = {k: i for i, k in enumerate(present)}
    age = (epoch - present.mean()) / max(np.ptp(present), 1)
    design = np.zeros((len(x), len(present) + 2))
    design[np.arange(len(x)), [column[k] for k in epoch]] = 1.0
    design[:, -2] = position
    design[:, -1] = position * age  # the slope inside epochs may change over the run (a curve that flattens)
    if len(x) - design.shape[1] < 3:
        return None  # numerical: too few points left to estimate the noise
    fit = robust_lstsq(design, y, trend=trend)
    coef, cov, sigma = fit.coef, fit.cov, fit.sigma
    dof = max(len(x) / fit.inflation - design.shape[1], 1.0)  # fewer when residuals move together
    drops = []
    for k_prev, k_next in zip(present[:-1], present[1:]):
        if k_next != k_prev + 1:
            continue
        i, j = column[k_prev], column[k_next]
        a_prev = (k_prev - present.mean()) / max(np.ptp(present), 1)
        # drop = a[i] + slope(k_prev) - a[j], a linear combination of the coefficients
        weights = np.zeros(len(coef))
        weights[i], weights[j], weights[-2], weights[-1] = 1.0, -1.0, 1.0, a_prev
        slope = float(coef[-2] + coef[-1] * a_prev)
        before, after = float(coef[i] + slope), float(coef[j])
        drop = before - after
        var = float(weights @ cov @ weights)
        se = math.sqrt(var) if var > 0 and np.isfinite(var) else math.inf
        share = drop / (drop + max(-slope, 0.0)) if drop > 0 else 0.0
        found = Measurement(
            at=float(boundaries[k_prev]),
            before=before,
            after=after,
            drop=drop,
            z=drop / sigma,
            t=normal_equivalent(drop / se, dof=dof),
            share=share,
            view=LEVELS,
            settle=settle,
        )
        if all(map(math.isfinite, (before, after, drop, found.z, found.t))):
            drops.append(found)
    return LevelModel(drops, _advantage(x, y, design, sigma, trend))


def _advantage(x: np.ndarray, y: np.ndarray, design: np.ndarray, sigma: float, trend: Trend) -> float:
    """BIC of a smooth curve (Legendre polynomial with as many parameters) minus that of the staircase.

    Same number of parameters, so the penalty cancels: n * ln(noise_smooth^2 / noise_staircase^2)."""
    u = 2 * (x - x[0]) / max(x[-1] - x[0], 1e-12) - 1
    smooth = np.polynomial.legendre.legvander(u, design.shape[1] - 1)
    sigma_smooth = robust_lstsq(smooth, y, trend=trend).sigma
    if not (sigma > 0 and sigma_smooth > 0):
        return 0.0
    return float(len(y) * math.log(sigma_smooth**2 / sigma**2))
