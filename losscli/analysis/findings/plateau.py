"""`plateau`: no progress over a long stretch while training goes on, after the loss had fallen.

A stretch is flat when the loss at its end (the median of a twentieth of the run's points, at least three) is no
lower than at its start by more than `plateau_progress` of what the loss had fallen from the start of the run to
the stretch, a fall of at least `plateau_fall_z` noise widths of single points (a curve that never fell has no
plateau to report, only a level). The stretch must cover `plateau_min_length` of the run and, when epochs are
known, `plateau_min_epochs` epochs, and hold no stepped boundary: the flat tread of a staircase lasts one epoch
and ends in a drop, which the verdict explains (as it does an epoch that climbs back before its drop); a loss
that stops falling across epochs is a plateau. Stretches start and end on a grid of
at most `_GRID` points; the longest flat one is reported.
"""

from __future__ import annotations

import numpy as np

from losscli.analysis.findings.context import Context
from losscli.analysis.findings.local import point_noise
from losscli.analysis.fits import median
from losscli.analysis.result import PlateauFinding
from losscli.analysis.settings import Settings

_GRID = 60  # numerical: candidate starts and ends; finer grids find the same stretches a little longer
_FEW = 20  # a definition: the fewest points a plateau is looked for in


def plateau_finding(context: Context, *, settings: Settings) -> PlateauFinding | None:
    x, y = context.train.steps, context.train.values
    n = len(x)
    if n < _FEW:
        return None
    span = float(x[-1] - x[0])
    shortest = settings.plateau_min_length * span
    if context.epoch_len:
        shortest = max(shortest, settings.plateau_min_epochs * context.epoch_len)
    if shortest > span:
        return None
    m = max(3, n // 20)
    grid = np.unique(np.linspace(0, n - 1, min(n, _GRID)).astype(int))
    starts = np.asarray([median(y[a : a + m]) for a in grid])
    ends = np.asarray([median(y[max(0, b - m + 1) : b + 1]) for b in grid])
    # where the loss started: the first points' median, or the first point when the loss collapsed right after it
    first = max(float(y[0]), float(np.median(y[:m])))
    noise = point_noise(y)
    stepped = np.sort(np.asarray(context.stepped, dtype=np.float64))
    at = x[grid]
    fallen = first - starts
    # every (start, end) pair of the grid at once: long enough, after a clear fall, flat, no stepped boundary inside
    length = at[None, :] - at[:, None]
    inside = np.searchsorted(stepped, at, side="left")[None, :] - np.searchsorted(stepped, at, side="right")[:, None]
    flat = starts[:, None] - ends[None, :] <= settings.plateau_progress * fallen[:, None]
    fell = (fallen > 0) & (fallen >= settings.plateau_fall_z * noise)
    ok = (length >= shortest) & (inside <= 0) & flat & fell[:, None]
    if not ok.any():
        return None
    # the longest such stretch; among equally long ones, the earliest
    ia, ib = divmod(int(np.argmax(np.where(ok, length, -np.inf))), len(grid))
    a, b = int(grid[ia]), int(grid[ib])
    return PlateauFinding(
        step=float(x[a]),
        epoch=context.epoch_at(float(x[a])),
        value=float(np.median(y[a : b + 1])),
        end_step=float(x[b]),
        end_epoch=context.epoch_at(float(x[b])),
        change=float(starts[ia] - ends[ib]),
        before=float(first - starts[ia]),
    )
