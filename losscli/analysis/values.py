"""Which logged loss values are measurements: not NaN or infinite, and not absurd.

A NaN or an infinity is a logger's way of saying there was no value (an fp16 overflow, a diverged batch). A
finite value can be just as broken: 1e308 is not a loss, and a few of them turn every sum of squares into
infinity, so that fits come out NaN and a stepped run reads as smooth. Two rules, one numerical and one about
the curve:

- a magnitude above `_OVERFLOW` is left out whatever the curve, since squares and sums of such values overflow;
- a value further from the curve's median than `Settings.max_deviation` times the curve's robust scale (the
  larger of 1.4826 x MAD and |median|) is left out: a loss a million times its typical size is not a point of
  the curve. The rule is relative, so curves of any scale (a loss of 1e-4 or of 1e4) keep every real point.

What was left out is counted, with the first step, so the explaining step can say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_OVERFLOW = 1e150  # numerical: sums of squares of up to 1e8 values below this stay finite in float64


@dataclass(frozen=True)
class Usable:
    """The points kept, in step order, and what was left out."""

    steps: np.ndarray
    values: np.ndarray
    epochs: np.ndarray
    non_finite: int = 0
    absurd: int = 0
    first_left_out: int | None = None  # the step of the first value left out

    @property
    def left_out(self) -> int:
        return self.non_finite + self.absurd


def usable(steps: np.ndarray, values: np.ndarray, epochs: np.ndarray, *, max_deviation: float) -> Usable:
    """Keep the points whose value is a measurement (see the module docstring)."""
    finite = np.isfinite(values)
    ok = finite & (np.abs(np.where(finite, values, 0.0)) <= _OVERFLOW)
    if ok.sum() >= 3:
        kept = values[ok]
        centre = float(np.median(kept))
        spread = 1.4826 * float(np.median(np.abs(kept - centre)))
        scale = max(spread, abs(centre))
        if scale > 0:
            ok &= np.abs(np.where(ok, values, centre) - centre) <= max_deviation * scale
    non_finite = int((~finite).sum())
    absurd = int((finite & ~ok).sum())
    first = int(steps[np.flatnonzero(~ok)[0]]) if non_finite + absurd else None
    return Usable(steps[ok].astype(np.float64), values[ok], epochs[ok], non_finite, absurd, first)
