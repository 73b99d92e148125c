"""Measure the drop at each epoch boundary, and the same quantity mid-epoch as a control.

At a boundary at step b, with E steps per epoch, a robust segmented curve (`fits.fit_step`) is fitted to the
epoch before and the epoch after, each less its first `lag` (where the previous drop may still be under way, and
where a logged average straddles the boundary) and its last `lead` (where logging blurs the boundary). Its two
sides read at b differ by the drop. The same measurement in the middle of each epoch, where nothing should
happen, is the placebo: a curve whose "drops" at boundaries are no larger than mid-epoch (a sawtooth of another
period, noise that wanders) is not a staircase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from losscli.analysis.fits import StepFit, fit_step, normal_equivalent
from losscli.analysis.settings import Settings


@dataclass(frozen=True)
class Measurement:
    at: float
    before: float
    after: float
    drop: float
    z: float
    t: float
    share: float
    fit: StepFit | None  # None when measured from epoch levels (sparse logging)

    @property
    def relative_drop(self) -> float:
        return self.drop / abs(self.before) if self.before else math.inf


def settling(epoch_len: float, interval: float, settings: Settings) -> float:
    """Steps after a boundary left out of the fits: the `lag`, and at least one logging interval, since a logged
    value that averages the steps since the last log mixes both sides when its interval straddles the boundary."""
    return max(settings.lag * epoch_len, interval * (1 - 1e-9))


def measure(
    x: np.ndarray,
    y: np.ndarray,
    at: float,
    epoch_len: float,
    settings: Settings,
    half_only: bool = False,
    settle: float | None = None,
) -> Measurement | None:
    """The drop at step `at`, or None when either side has too few points to fit."""
    need = settings.min_points_per_side
    width = 0.5 * epoch_len if half_only else epoch_len
    lag = settings.lag * epoch_len if settle is None else settle
    lead = settings.lead * epoch_len
    # Each side is one epoch, less the settling time after its start and the blur before its end.
    left_mask = (x > at - width + (0 if half_only else lag)) & (x <= at - lead)
    right_mask = (x > at + lag) & (x <= at + width - (0 if half_only else lead))
    if min(int(left_mask.sum()), int(right_mask.sum())) < need:
        return None
    fit = fit_step(x[left_mask] - at, y[left_mask], x[right_mask] - at, y[right_mask], epoch_len)
    drop = -fit.change
    z = _ratio(drop, fit.sigma)
    t = normal_equivalent(_ratio(drop, fit.change_se), fit.dof)
    gradual = -(fit.slope_before + fit.slope_after) / 2 * epoch_len
    share = drop / (drop + max(gradual, 0.0)) if drop > 0 else 0.0
    return Measurement(at, fit.before, fit.after, drop, z, t, share, fit)


def _ratio(value: float, scale: float) -> float:
    if scale > 0:
        return value / scale
    return math.copysign(math.inf, value) if value else 0.0


def placebo_ts(
    x: np.ndarray,
    y: np.ndarray,
    boundaries: np.ndarray,
    epoch_len: float,
    settings: Settings,
    settle: float | None = None,
) -> list[float]:
    """The drop's t-value measured in the middle of every epoch the run covers fully."""
    if len(boundaries) == 0:
        return []
    edges = np.r_[boundaries[0] - epoch_len, boundaries, boundaries[-1] + epoch_len]
    values = []
    for start, end in zip(edges[:-1], edges[1:]):
        if start < x[0] - 0.05 * epoch_len or end > x[-1] + 0.05 * epoch_len:
            continue
        inner = settings.lag * epoch_len if settle is None else settle
        mask = (x > start + inner) & (x <= end - settings.lead * epoch_len)
        found = measure(x[mask], y[mask], (start + end) / 2, epoch_len, settings, half_only=True)
        if found is not None:
            values.append(found.t)
    return values


def step_flags(measured: list[Measurement], settings: Settings, placebo_level: float) -> list[bool]:
    """Which boundaries step. A boundary steps on its own when its drop passes every test; drops that pass
    all but significance step together when a run of consecutive boundaries shows them with a strong combined
    t (Stouffer): the same drop recurring epoch after epoch is evidence no single boundary gives."""
    shaped = [
        m.drop > 0
        and m.z >= settings.min_z
        and m.share >= settings.min_share
        and m.relative_drop >= settings.min_relative_drop
        and m.t >= settings.placebo_factor * placebo_level
        for m in measured
    ]
    alone = [ok and m.t >= settings.min_t for ok, m in zip(shaped, measured)]
    strong = [ok and m.t >= 2 * settings.min_t for ok, m in zip(alone, measured)]
    if sum(alone) >= 2 or (sum(alone) == 1 and (len(measured) <= 2 or any(strong))):
        return alone
    together = [ok and m.t >= settings.min_t / 2 for ok, m in zip(shaped, measured)]
    best: tuple[float, int, int] = (0.0, 0, 0)
    start = 0
    for end in range(len(measured) + 1):  # contiguous runs of boundaries that all show a drop
        if end < len(measured) and together[end]:
            continue
        if end - start >= 2:
            combined = sum(m.t for m in measured[start:end]) / math.sqrt(end - start)
            best = max(best, (combined, start, end))
        start = end + 1
    combined, first, last = best
    if combined >= settings.min_combined_t:
        return [first <= i < last for i in range(len(measured))]
    return [False] * len(measured)
