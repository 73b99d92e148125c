"""Epoch length inferred from the curve, for logs that record no epochs (W&B chart exports, bare TensorBoard).

Candidate periods come from the largest drops of a median-smoothed curve: an epoch ends at step P, 2P, ... from the
start of training, so a large drop at step s suggests P = s / m for small m. Each candidate is judged by the same
boundary measurements and step rule as logged epochs (from whole epochs only: a search over periods must not also
search over views). A period is taken only when, at its boundaries, at least `infer_min_stepping` of the measured
boundaries (and at least two) step and their combined t clears the usual bar plus a margin for having tried
several candidates, and the loss goes down from period to period (a sawtooth that climbs back inside each period is
not taken for epochs). Otherwise the run stays `inconclusive`: a wrong guess at the epoch would be worse.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.analysis.evidence import EPOCHS, measure, placebo_level, views
from losscli.analysis.settings import Settings
from losscli.analysis.step_rule import Evidence, boundary_flags, could_step

_SAME_PERIOD = 0.03  # numerical: candidates within 3 % of each other are the same period


def infer_period(x: np.ndarray, y: np.ndarray, *, settings: Settings) -> float | None:
    n = len(x)
    interval = float(np.median(np.diff(x)))
    min_epoch_points = 4 * settings.min_points_per_side  # each side needs its points after settling
    if n < settings.infer_min_epochs * min_epoch_points or not interval > 0:
        return None
    best: tuple[float, float] | None = None
    for period in _candidates(x, y, min_epoch_points=min_epoch_points, interval=interval, settings=settings):
        combined = _evidence(x, y, period=period, interval=interval, settings=settings)
        if combined is not None and (best is None or combined > best[0]):
            best = (combined, period)
    if best is None or best[0] < settings.min_combined_t + settings.infer_margin:
        return None
    return best[1]


def _candidates(
    x: np.ndarray, y: np.ndarray, *, min_epoch_points: int, interval: float, settings: Settings
) -> list[float]:
    half = max(1, min_epoch_points // 8)
    padded = np.pad(y, (half, half), mode="edge")
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    gap = half + 1
    fall = smooth[:-gap] - smooth[gap:]
    order = np.argsort(fall)[::-1]
    picked: list[int] = []
    for i in order:
        if fall[i] <= 0 or len(picked) == settings.infer_candidates:
            break
        if all(abs(int(i) - j) > 2 * gap for j in picked):
            picked.append(int(i))
    start = x[0] - interval  # training starts one logging interval before the first logged point
    periods: list[float] = []
    for i in picked:
        at = (x[i] + x[min(i + gap, len(x) - 1)]) / 2 - start
        for m in settings.infer_divisors:
            period = at / m
            fits = period >= min_epoch_points * interval and x[-1] - start >= 2 * period
            if fits and all(abs(period - p) > _SAME_PERIOD * p for p in periods):
                periods.append(period)
    return sorted(periods)


def _evidence(x: np.ndarray, y: np.ndarray, *, period: float, interval: float, settings: Settings) -> float | None:
    start = x[0] - interval
    count = (x[-1] - start) // period
    if not math.isfinite(count) or count > len(x):
        return None  # more boundaries than points (a stray step far beyond the others): most would hold none
    steps = start + period * np.arange(1, int(count) + 1)
    steps = steps[(steps > x[0]) & (steps < x[-1])]
    [view] = [v for v in views(period, interval=interval, settings=settings) if v.name == EPOCHS]
    measured = []
    for k, b in enumerate(steps, 1):
        m = measure(x, y, at=float(b), view=view, epoch_len=period, settings=settings)
        if m is not None:
            measured.append((k, float(b), m))
    # A period most of whose boundaries could not step under any placebo is rejected before the placebo, the
    # costlier half of the measuring, is measured (most candidates of a smooth curve end here).
    possible = sum(could_step(m, settings=settings) for _, _, m in measured)
    if len(measured) < 2 or possible < max(2.0, settings.infer_min_stepping * len(measured)):
        return None
    level = placebo_level(x, y, boundaries=steps, view=view, epoch_len=period, settings=settings)
    evidence = [Evidence(k, b, ((m, level),)) for k, b, m in measured]
    flagged = boundary_flags(evidence, settings=settings)
    stepping = [m for m, f in flagged if f]
    if len(stepping) < 2 or len(stepping) < settings.infer_min_stepping * len(evidence):
        return None
    # A sawtooth climbs back inside each period to where it was; an epoch staircase goes down from epoch to
    # epoch. Without logged epochs that is the only way to tell them apart.
    drops = sum(m.drop for m in stepping)
    climbs = sum(max(0.0, (m.fit.slope_before + m.fit.slope_after) / 2 * period) for m in stepping if m.fit)
    if drops - climbs < (1 - settings.infer_max_climb) * drops:
        return None
    return sum(m.t for m in stepping) / math.sqrt(len(stepping))
