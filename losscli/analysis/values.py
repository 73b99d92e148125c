"""Which logged loss values are measurements: not NaN or infinite, not stand-ins for them, and not absurd.

A NaN or an infinity is a logger's way of saying there was no value (an fp16 overflow, a diverged batch). A
finite value can be just as broken, in two ways:

- **A stand-in.** The HF Trainer's default `logging_nan_inf_filter=True` replaces a non-finite step's loss by
  the mean of the finite steps since the last log; when every step since then was non-finite (always, with
  `logging_steps=1`, once the weights are NaN), the logged loss is exactly 0.0, while the grad norm and the eval
  loss of those steps still say NaN. A loss of exactly 0 is that stand-in when the grad norm logged at its step
  is not finite, or, where no grad norm says so, when it belongs to a run of zeros that lasts to the end of the
  log and follows losses far from 0 (the smallest of the `stand_in_context` non-zero losses before it is at
  least `stand_in_fraction` of the curve's 90th percentile): a loss that really reaches 0 gets there through
  values close to 0, and a weight that went NaN never comes back. Stand-ins are left out like NaN, and counted
  apart, so that the explaining step can say the filter put them there.
- **Absurd.** A magnitude above `_OVERFLOW` is left out whatever the curve, since squares and sums of such
  values overflow; a value further from the curve's median than `Settings.max_deviation` times the curve's
  robust scale (the larger of 1.4826 x MAD and |median|) is left out: a loss a million times its typical size
  is not a point of the curve. The rule is relative, so curves of any scale keep every real point.

What was left out is counted, with the first step of each kind, so the explaining step can say so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

_OVERFLOW = 1e150  # numerical: sums of squares of up to 1e8 values below this stay finite in float64
_UPPER = 90  # a definition: the curve's typical high level, the percentile stand-ins are compared with


@dataclass(frozen=True)
class Usable:
    """The points kept, in step order, and what was left out."""

    steps: np.ndarray
    values: np.ndarray
    epochs: np.ndarray
    non_finite: int = 0
    absurd: int = 0
    first_left_out: int | None = None  # the step of the first value left out
    stand_ins: int = 0  # exact zeros that stand for non-finite losses (the Trainer's NaN filter)
    first_non_finite: int | None = None  # the step of the first NaN, infinity or stand-in
    ends_non_finite: bool = False  # the last value logged is one of those
    bin_size: int = 1  # consecutive points averaged into each point kept (`averaged`)

    @property
    def left_out(self) -> int:
        return self.non_finite + self.absurd + self.stand_ins


def stand_ins(
    steps: np.ndarray,
    values: np.ndarray,
    *,
    grad_steps: np.ndarray | None = None,
    grad_values: np.ndarray | None = None,
    context: int,
    fraction: float,
) -> np.ndarray:
    """Which values (in step order) are the NaN filter's 0.0 stand-ins (see the module docstring)."""
    zero = values == 0.0
    if not zero.any():
        return zero
    out = np.zeros(len(values), dtype=bool)
    if grad_steps is not None and grad_values is not None and len(grad_steps):
        bad_grad = set(grad_steps[~np.isfinite(grad_values)].tolist())
        if bad_grad:
            out |= zero & np.isin(steps, list(bad_grad))
    real = np.isfinite(values) & ~zero
    if not real.any():
        return out
    last_real = int(np.flatnonzero(real)[-1])
    tail = np.arange(len(values)) > last_real
    if not (zero & tail).any():
        return out
    before = values[real][-context:]
    upper = float(np.percentile(np.abs(values[real]), _UPPER))
    if upper > 0 and float(np.min(np.abs(before))) >= fraction * upper:
        out |= zero & tail
    return out


def usable(
    steps: np.ndarray,
    values: np.ndarray,
    epochs: np.ndarray,
    *,
    max_deviation: float,
    stand_in: np.ndarray | None = None,
) -> Usable:
    """Keep the points whose value is a measurement (see the module docstring); `stand_in` marks the values
    `stand_ins` found."""
    finite = np.isfinite(values)
    filtered = np.zeros(len(values), dtype=bool) if stand_in is None else stand_in & finite
    ok = finite & ~filtered & (np.abs(np.where(finite, values, 0.0)) <= _OVERFLOW)
    if ok.sum() >= 3:
        kept = values[ok]
        centre = float(np.median(kept))
        spread = 1.4826 * float(np.median(np.abs(kept - centre)))
        scale = max(spread, abs(centre))
        if scale > 0:
            ok &= np.abs(np.where(ok, values, centre) - centre) <= max_deviation * scale
    non_finite = int((~finite).sum())
    absurd = int((finite & ~filtered & ~ok).sum())
    first = int(steps[np.flatnonzero(~ok)[0]]) if (~ok).any() else None
    missing = ~finite | filtered
    first_missing = int(steps[np.flatnonzero(missing)[0]]) if missing.any() else None
    return Usable(
        steps[ok].astype(np.float64),
        values[ok],
        epochs[ok],
        non_finite,
        absurd,
        first,
        int(filtered.sum()),
        first_missing,
        bool(len(values)) and bool(missing[-1]),
    )


def averaged(points: Usable, *, max_points: int) -> Usable:
    """At most `max_points` points: runs of `k` consecutive points averaged, each at its last step and epoch, as
    a Trainer that logs every `k` steps logs the mean of their losses. Fewer points come back unchanged."""
    import math

    n = len(points.steps)
    if n <= max_points or max_points < 1:
        return points
    k = math.ceil(n / max_points)
    ends = np.r_[np.arange(k, n, k), n] - 1  # the last point of each bin; the last bin may be shorter
    sums = np.add.reduceat(points.values, np.r_[0, ends[:-1] + 1])
    sizes = np.diff(np.r_[-1, ends])
    return replace(points, steps=points.steps[ends], values=sums / sizes, epochs=points.epochs[ends], bin_size=k)
