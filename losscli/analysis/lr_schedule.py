"""The learning-rate schedule, read from the logged learning rate: its shape after any warm-up, and the warm-up.

Logged learning rates are exact (a scheduler's output, rounded at most to the log's digits), so the shape is
read off the curve itself, in four steps:

1. **Excursions.** A brief jump by `lr_excursion_factor` or more that comes back within `lr_excursion_width` of
   the points (at least two), to within a factor two of where it was, is a manual override or a glitch, not the
   schedule: it is reported (`excursions`) and left out of the rest.
2. **Warm-up.** When the rate starts below the peak (by more than `lr_peak_tolerance`) and rises to it, the rise
   is the warm-up. Its length in steps is read from a line through the rising points (from where that line is
   zero, or from the first step, to where it reaches the peak), so that it does not depend on the logging
   interval.
3. **Restarts.** After the first peak, a rise by `lr_restart_rise` of the peak above the lowest rate since the
   last top starts a new cycle (a cosine with hard restarts jumps; a cyclical triangle climbs). The step where
   the rise began is a restart; restarts within the boundary tolerance of an epoch boundary are counted
   (`at_boundaries`). Any restart makes the kind `restarts`.
4. **Shape.** Without restarts, the rate from its first peak on is `constant` when it varies by at most
   `lr_constant_tolerance` of the peak; else a straight line and a cosine half-wave (level, amplitude and a period
   searched from the span to twenty spans: a run may stop early in its cosine) are fitted, and the better one names
   the kind if its RMS residual is within `lr_fit_tolerance` of the peak; else `other` (step decay,
   exponential, inverse square root, a rate cut on a plateau).
"""

from __future__ import annotations

import numpy as np

from losscli.analysis.result import LrSchedule
from losscli.analysis.settings import Settings

CONSTANT, LINEAR, COSINE, RESTARTS, OTHER = "constant", "linear", "cosine", "restarts", "other"
_PERIODS = 40  # numerical: cosine periods tried, log-spaced from the span to twenty spans
_BACK = 2.0  # a definition: an excursion has come back when it is within this factor of where it started


def lr_schedule(
    steps: np.ndarray, values: np.ndarray, *, boundaries: np.ndarray, tolerance: float, settings: Settings
) -> LrSchedule | None:
    """The schedule of the logged rate (`steps` in order), or None when fewer than three points are usable.
    `boundaries` are the epoch boundaries' steps, `tolerance` how close a restart must be to count at one."""
    ok = np.isfinite(values) & (values >= 0)
    x, y = steps[ok].astype(np.float64), values[ok].astype(np.float64)
    if len(x) < 3 or not y.max() > 0:
        return None
    keep, excursions = _excursions(x, y, settings)
    x, y = x[keep], y[keep]
    peak = float(y.max())
    near_peak = y >= (1 - settings.lr_peak_tolerance) * peak
    top = int(np.flatnonzero(near_peak)[0])
    warmup = _warmup(x[: top + 1], y[: top + 1], peak) if top > 0 else 0.0
    restarts = _restarts(x[top:], y[top:], peak, settings)
    at = sum(bool(len(boundaries)) and bool(np.min(np.abs(boundaries - r)) <= tolerance) for r in restarts)
    kind = RESTARTS if restarts else _shape(x[top:], y[top:], peak, settings)
    return LrSchedule(
        kind=kind,
        warmup_steps=float(round(warmup)),
        peak=peak,
        last=float(y[-1]),
        restarts=tuple(restarts),
        at_boundaries=int(at),
        excursions=tuple(excursions),
    )


def _excursions(
    x: np.ndarray, y: np.ndarray, settings: Settings
) -> tuple[np.ndarray, list[tuple[float, float, float]]]:
    keep = np.ones(len(y), dtype=bool)
    found = []
    width = max(2, int(settings.lr_excursion_width * len(y)))
    f = settings.lr_excursion_factor
    i = 1
    while i < len(y):
        before = y[i - 1]
        if before > 0 and y[i] >= f * before:
            stop = min(len(y), i + width + 1)
            back = [j for j in range(i + 1, stop) if y[j] <= y[i] / f and y[j] <= _BACK * before]
            if back:
                j = back[0]
                keep[i:j] = False
                found.append((float(x[i]), float(x[j - 1]), float(np.max(y[i:j]) / before)))
                i = j
                continue
        i += 1
    return keep, found


def _warmup(x: np.ndarray, y: np.ndarray, peak: float) -> float:
    """Steps from the start of the warm-up to the peak (x, y: the points up to the first at the peak, which
    is left out of the line: the warm-up may have ended between it and the point before)."""
    if len(x) < 3:
        return float(x[-1] - x[0])
    slope, intercept = np.polyfit(x[:-1], y[:-1], 1)
    if not slope > 0:
        return float(x[-1] - x[0])
    zero = -intercept / slope
    reached = (peak - intercept) / slope
    low, high = x[-2] - x[0], 2 * x[-1] - x[-2] - x[0]  # it ended after the point before the peak's, and by it
    return float(np.clip(reached - max(zero, 0.0), low, high))


def _restarts(x: np.ndarray, y: np.ndarray, peak: float, settings: Settings) -> list[float]:
    """Steps where a new cycle begins (x, y: from the first peak on). After a restart the rate climbs to its
    next top before the lowest rate is tracked again, so that a gradual climb counts once."""
    rise = settings.lr_restart_rise * peak
    out = []
    climbing = False
    low, low_at = float(y[0]), 0
    for i in range(1, len(y)):
        if climbing:
            if y[i] < y[i - 1]:
                climbing, low, low_at = False, float(y[i]), i
            continue
        if y[i] < low:
            low, low_at = float(y[i]), i
        elif y[i] - low >= rise:
            abrupt = y[low_at + 1] - low >= rise  # the whole rise in one logging interval
            out.append(float(x[low_at + 1] if abrupt else x[low_at]))
            climbing = True
    return out


def _shape(x: np.ndarray, y: np.ndarray, peak: float, settings: Settings) -> str:
    if (y.max() - y.min()) <= settings.lr_constant_tolerance * peak:
        return CONSTANT
    if len(x) < 3:
        return OTHER
    u = (x - x[0]) / max(float(x[-1] - x[0]), 1e-12)
    v = y / peak
    line = _rms(np.column_stack([np.ones_like(u), u]), v)
    cosine = min(
        _rms(np.column_stack([np.ones_like(u), np.cos(np.pi * u / period)]), v)
        for period in np.geomspace(1.0, 20.0, _PERIODS)
    )
    best, kind = min((line, LINEAR), (cosine, COSINE))
    return kind if best <= settings.lr_fit_tolerance else OTHER


def _rms(design: np.ndarray, v: np.ndarray) -> float:
    coef = np.linalg.lstsq(design, v, rcond=None)[0]
    return float(np.sqrt(np.mean((v - design @ coef) ** 2)))
