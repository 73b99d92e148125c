"""Epoch length inferred from the curve, for logs that record no epochs (W&B chart exports, bare TensorBoard).

Candidate periods come from the largest drops of a median-smoothed curve: an epoch ends at step P, 2P, ... from the
start of training, so a large drop at step s suggests P = s / m for small m. Each candidate is judged by the same
boundary measurements as logged epochs. A period is taken only when, at its boundaries, at least two thirds of
the measured boundaries (and at least two) step and their combined t clears the usual bar plus a margin for having
tried several candidates, and the loss goes down from period to period (a sawtooth that climbs back inside each
period is not taken for epochs). Otherwise the run stays `inconclusive`: a wrong guess at the epoch would be
worse.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.analysis.evidence import measure, placebo_ts, settling, step_flags
from losscli.analysis.settings import Settings

_CANDIDATE_DROPS = 4
_DIVISORS = (1, 2, 3)
_SEARCH_MARGIN = 2.0  # added to min_combined_t for the search over candidates


def infer_period(x: np.ndarray, y: np.ndarray, settings: Settings) -> float | None:
    n = len(x)
    interval = float(np.median(np.diff(x)))
    min_epoch_points = 4 * settings.min_points_per_side
    if n < 3 * min_epoch_points:
        return None
    best: tuple[float, float] | None = None
    for period in _candidates(x, y, min_epoch_points, interval):
        combined = _evidence(x, y, period, interval, settings)
        if combined is not None and (best is None or combined > best[0]):
            best = (combined, period)
    if best is None or best[0] < settings.min_combined_t + _SEARCH_MARGIN:
        return None
    return best[1]


def _candidates(x: np.ndarray, y: np.ndarray, min_epoch_points: int, interval: float) -> list[float]:
    half = max(1, min_epoch_points // 8)
    padded = np.pad(y, (half, half), mode="edge")
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    gap = half + 1
    fall = smooth[:-gap] - smooth[gap:]
    order = np.argsort(fall)[::-1]
    picked: list[int] = []
    for i in order:
        if fall[i] <= 0 or len(picked) == _CANDIDATE_DROPS:
            break
        if all(abs(int(i) - j) > 2 * gap for j in picked):
            picked.append(int(i))
    start = x[0] - interval  # training starts one logging interval before the first logged point
    periods: list[float] = []
    for i in picked:
        at = (x[i] + x[min(i + gap, len(x) - 1)]) / 2 - start
        for m in _DIVISORS:
            period = at / m
            fits = period >= min_epoch_points * interval and x[-1] - start >= 2 * period
            if fits and all(abs(period - p) > 0.03 * p for p in periods):
                periods.append(period)
    return sorted(periods)


def _evidence(x: np.ndarray, y: np.ndarray, period: float, interval: float, settings: Settings) -> float | None:
    start = x[0] - interval
    steps = start + period * np.arange(1, int((x[-1] - start) // period) + 1)
    steps = steps[(steps > x[0]) & (steps < x[-1])]
    settle = settling(period, interval, settings)
    placebo = placebo_ts(x, y, steps, period, settings, settle)
    level = float(np.sqrt(np.mean(np.square(np.maximum(placebo, 0.0))))) if len(placebo) >= 2 else 0.0
    measured = [m for b in steps if (m := measure(x, y, float(b), period, settings, settle=settle)) is not None]
    if len(measured) < 2:
        return None
    flags = step_flags(measured, settings, level)
    stepping = [m for m, f in zip(measured, flags) if f]
    if len(stepping) < 2 or 3 * len(stepping) < 2 * len(measured):
        return None
    # A sawtooth climbs back inside each period to where it was; an epoch staircase goes down from epoch to
    # epoch. Without logged epochs that is the only way to tell them apart.
    drops = sum(m.drop for m in stepping)
    climbs = sum(max(0.0, (m.fit.slope_before + m.fit.slope_after) / 2 * period) for m in stepping if m.fit)
    if drops - climbs < 0.5 * drops:
        return None
    return sum(m.t for m in stepping) / math.sqrt(len(stepping))
