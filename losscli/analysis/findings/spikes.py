"""`spike`: an isolated jump up of the train loss that recovers, judged against the local trend and noise.

Epoch boundaries cut the curve into segments, and a spike is looked for inside one segment only: an epoch-boundary
drop is never part of a spike, nor is the climb back late in an epoch (the loss ends the epoch high and the drop at
the next boundary brings it down: no recovery inside the segment, so no spike).

A point is the onset of a jump when it stands above the trend of the `spike_context` points before it in its segment
(their median, carried forward with the slope between the medians of their two halves; at least three points), and
above the median of the three points just before it (a loss that levels off after a drop spread over the first
points of an epoch stands above the steep trend of that drop, but not above those points), by `spike_z` noise widths
of single points (noise from the segment's first differences, in stretches of a hundred points) and by
`spike_min_relative` of the level. A gradual climb is its own trend, so it never jumps. The jump is a spike when the
loss comes back, inside the same segment and within `spike_max_width` of an epoch (of the run, without epochs), to
the predicted level plus `spike_recovery` of the spike's height. A single point above that level must stand
`spike_single_factor` times higher than `spike_z`: one unusual batch is common, a sustained jump is not. When the
run logs its learning rate, the spike carries the rate in the steps that led to it over its usual level just before
(`lr_factor`, when it differs by `lr_excursion_factor`).

The logged gradient norm is read by the same rule: a gradient-norm spike is reported when the loss shows none within
two logging intervals of it (an unusual batch the optimizer absorbed; a loss spike covers its own).
"""

from __future__ import annotations

import numpy as np

from losscli.analysis.findings.context import Context
from losscli.analysis.findings.local import point_noise
from losscli.analysis.fits import median
from losscli.analysis.result import SpikeFinding
from losscli.analysis.settings import Settings
from losscli.frame import GRAD_NORM, TRAIN_LOSS

_MIN_CONTEXT = 3  # a definition: the fewest points a trend before a jump is read from
_NOISE_STRETCH = 100  # numerical: points per stretch the noise is measured in (noise changes over long runs)


def spike_findings(context: Context, *, settings: Settings) -> list[SpikeFinding]:
    """The train loss's spikes, then the gradient norm's where the loss shows none near them (same rule)."""
    found = _spikes(context, context.train.steps, context.train.values, metric=TRAIN_LOSS, settings=settings)
    grads = _spikes(context, context.grad_steps, context.grad_values, metric=GRAD_NORM, settings=settings)
    near = max(2 * context.interval, 1.0)
    taken = [f.step for f in found if f.step is not None]
    return found + [g for g in grads if g.step is not None and all(abs(g.step - s) > near for s in taken)]


def _spikes(context: Context, x: np.ndarray, y: np.ndarray, *, metric: str, settings: Settings) -> list[SpikeFinding]:
    n = len(x)
    if n < _MIN_CONTEXT + 2:
        return []
    # the loss is cut at the boundaries (their drops are no spikes); the gradient norm does not step there
    cut = len(context.boundaries) and metric == TRAIN_LOSS
    cuts = np.searchsorted(x, context.boundaries, side="right") if cut else np.zeros(0, int)
    edges = np.unique(np.r_[0, cuts, n].astype(int))
    span = context.epoch_len if context.epoch_len else float(x[-1] - x[0])
    out: list[SpikeFinding] = []
    for a, b in zip(edges[:-1].tolist(), edges[1:].tolist()):
        if b - a >= _MIN_CONTEXT + 2:
            width = settings.spike_max_width * span
            out.extend(_segment(context, x[a:b], y[a:b], max_width=width, metric=metric, settings=settings))
    return out


def _segment(
    context: Context, x: np.ndarray, y: np.ndarray, *, max_width: float, metric: str, settings: Settings
) -> list[SpikeFinding]:
    predicted = _trend_before(x, y, settings.spike_context)
    # measured from the higher of the trend and the points just before: a jump up stands above both, while a drop
    # spread over the first points of an epoch bends a steep trend below a loss that merely levels off
    just_before = np.full(len(y), np.nan)
    just_before[_MIN_CONTEXT:] = np.median(np.lib.stride_tricks.sliding_window_view(y[:-1], _MIN_CONTEXT), axis=1)
    bases = np.fmax(predicted, just_before)
    noise = _noise(y)
    with np.errstate(invalid="ignore"):
        onsets = (
            np.isfinite(bases)
            & (noise > 0)
            & (y - bases >= settings.spike_z * noise)
            & (y - bases >= settings.spike_min_relative * np.abs(bases))
        )
    candidates = np.flatnonzero(onsets).tolist()  # the few points that jump: only they are followed, in Python
    found = []
    after = -1
    for i in candidates:
        if i < after:
            continue  # inside a spike already reported
        base = float(bases[i])
        peak, j = y[i], i + 1
        while j < len(y) and x[j] - x[i] <= max_width:
            if y[j] > peak:
                peak = y[j]
            if y[j] <= base + settings.spike_recovery * (peak - base):
                break
            j += 1
        height = peak - base
        z = height / noise[i]
        recovered = j < len(y) and x[j] - x[i] <= max_width
        sustained = j - i >= 2 or z >= settings.spike_single_factor * settings.spike_z
        if recovered and sustained:
            found.append(
                SpikeFinding(
                    step=float(x[i]),
                    epoch=context.epoch_at(float(x[i])),
                    value=float(peak),
                    base=float(base),
                    height=float(height),
                    z=float(z),
                    recovered_step=float(x[j]),
                    points=j - i,
                    lr_factor=_lr_factor(context, x, i, settings),
                    metric=metric,
                )
            )
            after = j
    return found


def _trend_before(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """For each point, the level the `k` points before it predict (NaN for the first `_MIN_CONTEXT` points)."""
    out = np.full(len(y), np.nan)
    for i in range(_MIN_CONTEXT, min(k, len(y))):  # the first points of a segment: fewer points before
        out[i] = _predict(x[:i], y[:i], x[i])
    if len(y) > k:
        xs = np.lib.stride_tricks.sliding_window_view(x[:-1], k)
        ys = np.lib.stride_tricks.sliding_window_view(y[:-1], k)
        half = k // 2
        level = np.median(ys, axis=1)
        centre = np.median(xs, axis=1)
        first, second = np.median(ys[:, :half], axis=1), np.median(ys[:, k - half :], axis=1)
        dx = np.median(xs[:, k - half :], axis=1) - np.median(xs[:, :half], axis=1)
        slope = np.where(dx > 0, (second - first) / np.where(dx > 0, dx, 1.0), 0.0)
        out[k:] = level + slope * (x[k:] - centre)
    return out


def _predict(xs: np.ndarray, ys: np.ndarray, at: float) -> float:
    k = len(ys)
    half = k // 2
    dx = median(xs[k - half :]) - median(xs[:half])
    slope = (median(ys[k - half :]) - median(ys[:half])) / dx if dx > 0 else 0.0
    return median(ys) + slope * (at - median(xs))


def _noise(y: np.ndarray) -> np.ndarray:
    """The noise of single points around each point, measured in stretches of `_NOISE_STRETCH` points."""
    out = np.empty(len(y))
    stretches = max(1, round(len(y) / _NOISE_STRETCH))
    bounds = np.linspace(0, len(y), stretches + 1).astype(int)
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[a:b] = point_noise(y[a:b]) if b - a >= _MIN_CONTEXT else point_noise(y)
    return np.nan_to_num(out, nan=0.0)


def _lr_factor(context: Context, x: np.ndarray, i: int, settings: Settings) -> float | None:
    """The learning rate in the steps that led to the jump over its usual level before them, when it differs
    by at least `lr_excursion_factor`."""
    steps, rates = context.lr_steps, context.lr_values
    if not len(steps) or i < 1:
        return None
    near = rates[(steps >= x[i - 1]) & (steps <= x[i])]
    earlier = x[max(0, i - 1 - settings.spike_context)]
    usual = rates[(steps >= earlier) & (steps < x[i - 1])]
    if not len(near) or not len(usual):
        return None
    level = float(np.median(usual))
    if not level > 0:
        return None
    factor = float(np.max(near)) / level
    if factor >= settings.lr_excursion_factor or factor <= 1 / settings.lr_excursion_factor:
        return factor
    return None
