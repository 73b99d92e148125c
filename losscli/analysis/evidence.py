"""Measure the drop at an epoch boundary, from more than one view, and the same quantity mid-epoch as a control.

A person marks a boundary by reading two levels off the plot, just before it and just after the drop has
settled, and comparing their difference with the drift inside the neighbouring epochs. Three views measure that:

- `epochs`: the whole epoch on each side (less the first `lag` of each, where a drop may still be under way and
  a logged average straddles the boundary, and the last `lead`, where logging blurs it), one robust segmented
  fit read at the boundary. The most precise view when the trend inside epochs is simple.
- `near`: the half epochs next to the boundary, a line on each side (one shared slope unless the data show two),
  read where the settling time ends, with the line before the boundary carried over the gap: what the eye does.
  It sees drops whose epochs curve in a way no single trend over two epochs fits (the loss slides after each
  drop and then flattens), and it is measured twice: after `lag`, and after `max_lag` for drops that take up to
  a fifth of an epoch to settle.

`share` is the drop as a part of the epoch-to-epoch decrease: the median of the epoch before minus that of the
epoch after, over the same positions in the epoch (1 when all of the decrease happens at the boundary).

The same measurement in the middle of each epoch, where nothing should happen, is the placebo: with the near
view's windows on both sides, like for like. Drops compare with it as effect sizes (z, in noise widths), which do
not grow with the number of points: a curve whose "drops" at boundaries are no larger than mid-epoch (a sawtooth
of another period, noise that wanders) is not a staircase.

A measurement that is not finite (a fit that overflowed) is no measurement: `measure` returns None for it, as
for a side with too few points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from losscli.analysis.fits import StepFit, Trend, fit_step, median, normal_equivalent
from losscli.analysis.settings import Settings

EPOCHS = "epochs"
NEAR = "near"
LEVELS = "levels"  # from the whole-run model of epoch levels (epoch_levels.py)


@dataclass(frozen=True)
class View:
    """Where a boundary is measured from: each side reaches `reach` steps from it, the first `settle` steps after
    it and the last `lead` before it are left out; `local` views fit lines and read at the end of the settling."""

    name: str
    reach: float
    settle: float
    lead: float
    local: bool


@dataclass(frozen=True)
class Measurement:
    """One boundary's drop and how strongly the points show it: the evidence a verdict is given with."""

    at: float  # the boundary's step
    before: float
    after: float
    drop: float
    z: float
    t: float
    share: float
    view: str
    settle: float  # steps after the boundary the view left out
    fit: StepFit | None = None  # None when measured from epoch levels (sparse logging)

    @property
    def relative_drop(self) -> float:
        return self.drop / abs(self.before) if self.before else math.inf


def views(epoch_len: float, *, interval: float, settings: Settings) -> list[View]:
    """The views a boundary is measured from. Settling lasts at least one logging interval: a logged value that
    averages the steps since the last log mixes both sides when its interval straddles the boundary."""
    lead = settings.lead * epoch_len
    settle = max(settings.lag * epoch_len, interval * (1 - 1e-9))
    longer = max(settings.max_lag * epoch_len, 2 * interval * (1 - 1e-9))
    near = settings.near_width * epoch_len
    out = [View(EPOCHS, epoch_len, settle, lead, False), View(NEAR, near, settle, lead, True)]
    if longer > settle * (1 + 1e-6) and longer < near - lead:
        out.append(View(NEAR, near, longer, lead, True))
    return out


def trend_of(view: View, *, settings: Settings) -> Trend:
    return Trend(
        curvature=not view.local,
        term_t=settings.trend_term_t,
        huber_k=settings.huber_k,
        max_autocorrelation=settings.max_autocorrelation,
    )


def measure(
    x: np.ndarray, y: np.ndarray, *, at: float, view: View, epoch_len: float, settings: Settings, share: bool = True
) -> Measurement | None:
    """The drop at step `at` seen from `view`, or None when a side has too few points or the fit is not finite."""
    left = _between(x, at - view.reach + view.settle, at - view.lead)
    right = _between(x, at + view.settle, at + view.reach - view.lead)
    need = settings.min_points_per_side
    if left.stop - left.start < need or right.stop - right.start < need:
        return None
    read_at = at + view.settle if view.local else at
    fit = fit_step(
        x[left] - read_at,
        y[left],
        x[right] - read_at,
        y[right],
        scale=epoch_len,
        trend=trend_of(view, settings=settings),
    )
    drop = -fit.change
    z = drop / fit.sigma
    t = normal_equivalent(drop / fit.change_se, dof=fit.dof)
    part = _share(x, y, at=at, drop=drop, epoch_len=epoch_len, view=view) if share else 0.0
    found = Measurement(at, fit.before, fit.after, drop, z, t, part, view.name, view.settle, fit)
    return found if all(map(math.isfinite, (found.before, found.after, drop, z, t, part))) else None


def _between(x: np.ndarray, low: float, high: float) -> slice:
    """The points with low < x <= high (x is in step order)."""
    return slice(int(np.searchsorted(x, low, "right")), int(np.searchsorted(x, high, "right")))


def _share(x: np.ndarray, y: np.ndarray, *, at: float, drop: float, epoch_len: float, view: View) -> float:
    """The drop as a part of the epoch-to-epoch decrease, over the positions both epochs cover after settling."""
    if not drop > 0:
        return 0.0
    first = max(view.settle, x[0] - (at - epoch_len))
    last = min(epoch_len - view.lead, x[-1] - at)
    before = y[_between(x, at - epoch_len + first, at - epoch_len + last)]
    after = y[_between(x, at + first, at + last)]
    if len(before) < 2 or len(after) < 2:
        return 0.0
    decrease = median(before) - median(after)
    return 1.0 if decrease <= drop else drop / decrease


def placebo_level(
    x: np.ndarray, y: np.ndarray, *, boundaries: np.ndarray, view: View, epoch_len: float, settings: Settings
) -> float:
    """The typical "drop" (z) measured in the middle of every epoch the run covers fully, with the near view's
    windows and settling: the root mean square of the positive ones, 0 when fewer than two epochs are covered."""
    if len(boundaries) == 0:
        return 0.0
    mid = View(NEAR, min(settings.near_width, 0.5) * epoch_len, view.settle, view.lead, True)  # inside its epoch
    edges = np.r_[boundaries[0] - epoch_len, boundaries, boundaries[-1] + epoch_len]
    values = []
    slack = 0.05 * epoch_len  # an epoch counts as covered when logging reaches within 5 % of both its ends
    for start, end in zip(edges[:-1], edges[1:]):
        if start < x[0] - slack or end > x[-1] + slack:
            continue
        found = measure(x, y, at=(start + end) / 2, view=mid, epoch_len=epoch_len, settings=settings, share=False)
        if found is not None:
            values.append(found.z)
    if len(values) < 2:
        return 0.0
    return float(np.sqrt(np.mean(np.square(np.maximum(values, 0.0)))))
