"""What the eval loss tells a user who must pick a checkpoint: where it was lowest, and whether it rose after.

Eval loss "rises" when its last value stands clearly above its lowest (by more than twice its typical
point-to-point change and by at least 0.5 % of the level), with the lowest point not at the end. Memorization is
that rise while the train loss steps down: the pattern of a model that learns the examples it has seen once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losscli.analysis.result import EvalFinding


def eval_finding(steps: np.ndarray, values: np.ndarray, epochs: np.ndarray, meta: dict[str, Any]) -> EvalFinding | None:
    ok = np.isfinite(values)
    steps, values, epochs = steps[ok], values[ok], epochs[ok]
    if len(values) == 0:
        return None
    best = int(np.argmin(values))
    last = float(values[-1])
    noise = float(np.median(np.abs(np.diff(values)))) if len(values) > 2 else 0.0
    lowest = float(values[best])
    rises = bool(len(values) >= 3 and best < len(values) - 1 and last - lowest > max(2 * noise, 0.005 * abs(lowest)))
    epoch = float(epochs[best]) if math.isfinite(epochs[best]) else None
    return EvalFinding(
        points=len(values),
        best_value=lowest,
        best_step=int(steps[best]),
        best_epoch=None if epoch is None else round(epoch, 3),
        best_checkpoint=_checkpoint_for(int(steps[best]), meta.get("checkpoints") or []),
        last_value=last,
        rises=rises,
    )


def _checkpoint_for(step: int, checkpoints: list[int]) -> str | None:
    """The saved checkpoint that holds the weights of the best eval: the one at that step, else the nearest."""
    if not checkpoints:
        return None
    nearest = min(checkpoints, key=lambda c: (abs(c - step), c))
    return f"checkpoint-{nearest}"
