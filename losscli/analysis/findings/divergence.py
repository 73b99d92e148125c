"""`divergence`: the loss climbs far above its lowest level and does not come back.

On the running median of the usable train loss (local.py), the lowest level is found; the level at the end is
the median of the last twentieth of the points (at least one). The run diverged when that end level stands above
the lowest by at least `divergence_rise` of what the loss had fallen before (from its first level to its lowest),
by at least `divergence_relative` of the lowest level's size, and by `divergence_z` noise widths of single
points (measured before the lowest point; not required when fewer than four points precede it). A run whose
usable points end in NaN or infinite losses (or the NaN filter's stand-ins) after such a climb diverged to
NaN. The divergence starts after the last point, from the lowest on, at which the smoothed loss stood within
`divergence_start_z` noise widths of the lowest level (at it, when the noise is unknown).
"""

from __future__ import annotations

import math

import numpy as np

from losscli.analysis.findings.context import Context
from losscli.analysis.findings.local import point_noise, running_median, smoothing_width
from losscli.analysis.result import DivergenceFinding
from losscli.analysis.settings import Settings

_FEW = 4  # a definition: the fewest points a noise estimate is made from


def divergence_finding(context: Context, *, settings: Settings) -> DivergenceFinding | None:
    x, y = context.train.steps, context.train.values
    if len(x) < 2:
        return None
    s = running_median(y, width=smoothing_width(len(y)))
    low = int(np.argmin(s))
    lowest, start = float(s[low]), float(s[0])
    tail = max(1, len(y) // 20)
    if low >= len(y) - tail:
        return None  # the lowest point is at the end: no climb after it
    end = float(np.median(y[-tail:]))
    rise = end - lowest
    noise = point_noise(y[: low + 1]) if low + 1 >= _FEW else math.nan
    fallen = max(start - lowest, 0.0)
    if not (rise > 0 and rise >= settings.divergence_rise * fallen):
        return None
    if rise < settings.divergence_relative * abs(lowest):
        return None
    if math.isfinite(noise) and rise < settings.divergence_z * noise:
        return None
    margin = settings.divergence_start_z * noise if math.isfinite(noise) else 0.0
    near = np.flatnonzero(s[low:] <= lowest + margin)
    began = low + int(near[-1]) + 1 if len(near) else low + 1
    began = min(began, len(y) - 1)
    return DivergenceFinding(
        step=float(x[began]),
        epoch=context.epoch_at(float(x[began])),
        value=float(y[began]),
        lowest=lowest,
        lowest_step=float(x[low]),
        last=float(y[-1]),
        last_step=float(x[-1]),
        rise=rise,
        ends_non_finite=context.train.ends_non_finite,
    )
