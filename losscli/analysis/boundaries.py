"""Where the epoch boundaries fall, in steps, and where that knowledge came from.

In order of trust: the logged `epoch` values (fractional progress; a boundary is where the integer part increases,
placed between the two logged points by linear interpolation, since logging rarely lands on it), then the run's
`meta` (steps per epoch as the log states it, or max steps over planned epochs), then a value the user gives.
Inferring boundaries from the curve itself (`infer.infer_period`) is the last resort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FROM_EPOCHS = "logged epoch values"
FROM_META = "steps per epoch from the log's settings"
FROM_USER = "--steps-per-epoch"
FROM_CURVE = "inferred from recurring drops"
MAX_BOUNDARIES = 10_000  # safety: more epoch boundaries than any run has; the epoch or step values are damaged


@dataclass(frozen=True)
class Boundaries:
    """Where a run's epochs end, and what says so (`source`): the steps every boundary is measured at."""

    steps: np.ndarray  # boundary k (1-based) at steps[k - 1]
    source: str
    steps_per_epoch: float
    first_epoch: int = 1
    covered: float | None = None  # epochs the run covers, when the epoch values say it


def from_epoch_values(steps: np.ndarray, epochs: np.ndarray, *, spike_factor: float) -> Boundaries | None:
    """Boundaries from (step, epoch) pairs of every row that logged an epoch; None when they do not advance."""
    ok = np.isfinite(epochs)
    if ok.sum() < 2:
        return None
    s, e = steps[ok].astype(np.float64), epochs[ok]
    order = np.argsort(s, kind="stable")
    s, e = s[order], np.maximum.accumulate(_without_spikes(e[order], spike_factor))  # epochs never go back
    if e[-1] <= e[0] or e[-1] - e[0] > MAX_BOUNDARIES:
        return None
    if _is_epoch_index(e):
        return _from_epoch_index(s, e)
    ks = np.arange(max(math.floor(e[0]) + 1, 1), math.floor(e[-1]) + 1)
    # The step at which epoch k is reached: first index with e >= k, interpolated with the point before it.
    idx = np.searchsorted(e, ks, side="left")
    out = np.empty(len(ks))
    for i, (k, j) in enumerate(zip(ks, idx)):
        if j == 0:
            out[i] = s[0]
            continue
        e0, e1, s0, s1 = e[j - 1], e[j], s[j - 1], s[j]
        out[i] = s1 if e1 == e0 else s0 + (k - e0) / (e1 - e0) * (s1 - s0)
    span = e[-1] - e[0]
    per_epoch = _snap((s[-1] - s[0]) / span) if span > 0 else math.nan
    out = np.array([_snap(b) for b in out])
    return Boundaries(out, FROM_EPOCHS, float(per_epoch), int(ks[0]) if len(ks) else 1, float(e[-1]))


def _without_spikes(e: np.ndarray, factor: float) -> np.ndarray:
    """Epoch values with lone spikes (a stray or damaged value far above its neighbours) lowered to the
    higher neighbour: epochs rise steadily with the step; a jump of `factor` usual ones (and at least one epoch)
    that falls back is damage.
    """
    if len(e) < 3:
        return e
    usual = float(np.median(np.abs(np.diff(e))))
    prev, nxt = np.r_[e[0], e[:-1]], np.r_[e[1:], e[-2]]
    nxt[-1] = prev[-1]  # the last value has only a neighbour before it
    prev[0] = nxt[0]
    ceiling = np.maximum(prev, nxt)
    spike = e - ceiling > max(1.0, factor * usual)
    return np.where(spike, ceiling, e) if spike.any() else e


def _snap(value: float) -> float:
    """A step count computed from float32 epoch values (TensorBoard stores them so) lands a hair off the whole
    number it stands for; snap it back, so that every format of the same run gets the same boundaries."""
    whole = round(value)
    return float(whole) if abs(value - whole) <= 1e-6 * max(1.0, abs(value)) else float(value)


def _is_epoch_index(e: np.ndarray) -> bool:
    """Hand-written loops often log the 0-based epoch index (0, 0, ..., 1, 1, ...) instead of progress: whole
    numbers, each repeated (on average at least twice; progress repeats a value only where logging is sparse)."""
    return bool(np.all(e == np.floor(e))) and len(np.unique(e)) * 2 <= len(e)


def _from_epoch_index(s: np.ndarray, e: np.ndarray) -> Boundaries:
    """Boundary k lies midway between the last step logged in epoch k-1 and the first logged in epoch k."""
    change = np.flatnonzero(np.diff(e) > 0)
    ks = e[change + 1].astype(int)
    steps = (s[change] + s[change + 1]) / 2
    per_epoch = float(np.median(np.diff(steps))) if len(steps) > 1 else float(steps[0]) if len(steps) else math.nan
    covered = float(e[-1]) + (s[-1] - steps[-1]) / per_epoch if len(steps) and per_epoch > 0 else float(e[-1])
    return Boundaries(steps, FROM_EPOCHS + " (epoch index)", per_epoch, int(ks[0]) if len(ks) else 1, covered)


def from_steps_per_epoch(steps_per_epoch: float, *, last_step: float, source: str) -> Boundaries | None:
    if not steps_per_epoch or not math.isfinite(steps_per_epoch) or steps_per_epoch <= 0:
        return None
    if not math.isfinite(last_step) or last_step // steps_per_epoch > MAX_BOUNDARIES:
        return None
    count = int(last_step // steps_per_epoch)
    if count > MAX_BOUNDARIES:
        return None
    return Boundaries(np.arange(1, count + 1) * float(steps_per_epoch), source, float(steps_per_epoch))


def steps_per_epoch_from_meta(meta: dict[str, Any]) -> float | None:
    """What the log's own settings say an epoch is, if they say it."""
    value = meta.get("steps_per_epoch")
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    max_steps, epochs = meta.get("max_steps"), meta.get("num_train_epochs")
    if isinstance(max_steps, (int, float)) and isinstance(epochs, (int, float)) and max_steps > 0 and epochs > 0:
        return float(max_steps) / float(epochs)
    return None
