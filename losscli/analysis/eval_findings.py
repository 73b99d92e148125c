"""What the eval loss tells a user who must pick a checkpoint: where it was lowest, and whether it rose after.

Eval loss "rises" when its last value stands clearly above its lowest (by more than `eval_rise_noise` times its
typical point-to-point change and by at least `eval_rise_relative` of the level), with the lowest point not at
the end. Memorization is that rise starting at or after the train loss steps down (decide.py): the pattern of a
model that learns the examples it has seen once. The finding is made for every run with eval loss, whatever the
verdict on its train loss: the best checkpoint is worth knowing in any case.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losscli.analysis.result import EvalFinding
from losscli.analysis.settings import Settings


def eval_finding(
    steps: np.ndarray, values: np.ndarray, epochs: np.ndarray, *, meta: dict[str, Any], settings: Settings
) -> EvalFinding | None:
    """The finding from the eval points (finite, in step order), or None when there are none."""
    if len(values) == 0:
        return None
    best = int(np.argmin(values))
    last = float(values[-1])
    noise = float(np.median(np.abs(np.diff(values)))) if len(values) > 2 else 0.0
    lowest = float(values[best])
    margin = max(settings.eval_rise_noise * noise, settings.eval_rise_relative * abs(lowest))
    rises = bool(len(values) >= settings.eval_min_points and best < len(values) - 1 and last - lowest > margin)
    epoch = float(epochs[best]) if math.isfinite(epochs[best]) else None
    return EvalFinding(
        points=len(values),
        best_value=lowest,
        best_step=int(steps[best]),
        best_epoch=None if epoch is None else round(epoch, 3),
        best_checkpoint=_checkpoint_for(int(steps[best]), meta.get("checkpoints")),
        last_value=last,
        rises=rises,
    )


def _checkpoint_for(step: int, checkpoints: Any) -> str | None:
    """The saved checkpoint that holds the weights of the best eval: the one at that step, else the nearest."""
    listed = checkpoints if isinstance(checkpoints, (list, tuple)) else []
    saved = [int(c) for c in listed if isinstance(c, (int, float)) and math.isfinite(c)]
    if not saved:
        return None
    nearest = min(saved, key=lambda c: (abs(c - step), c))
    return f"checkpoint-{nearest}"
