"""What every finding rule reads: the run's usable points, its boundaries and evaluations, and its logged
learning rate, gathered once from the measuring and deciding steps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.analysis.result import EvalFinding
from losscli.analysis.values import Usable


@dataclass(frozen=True)
class Context:
    """What every finding rule reads of one run, measured once: its curves, boundaries and evaluations."""

    train: Usable
    eval_points: Usable | None
    eval: EvalFinding | None
    eval_steps: np.ndarray  # every step an evaluation logged an eval loss at, finite or not, in order
    boundaries: np.ndarray  # steps of the epoch boundaries the run crosses (empty when unknown)
    epoch_len: float | None  # steps per epoch, when known
    stepped: tuple[float, ...]  # steps of the boundaries that step
    stepped_drops: tuple[float, ...]  # their drops
    interval: float  # the median logging interval of the train loss, in steps
    lr_steps: np.ndarray  # the logged learning rate (empty when not logged)
    lr_values: np.ndarray
    grad_steps: np.ndarray  # the logged gradient norm, finite values only (empty when not logged)
    grad_values: np.ndarray
    epoch_steps: np.ndarray  # (step, epoch) of every row that logged an epoch, in step order
    epoch_values: np.ndarray
    meta: dict[str, Any]
    tolerance: float  # a step this close to a boundary is at it: a logging interval, or `lead` of an epoch

    def epoch_at(self, step: float | None) -> float | None:
        """The epoch the log gives at `step` (interpolated between logged rows), None when unknown."""
        if step is None or not len(self.epoch_steps) or not math.isfinite(step):
            return None
        if step < self.epoch_steps[0] or step > self.epoch_steps[-1]:
            return None
        return round(float(np.interp(step, self.epoch_steps, self.epoch_values)), 3)

    def near_boundary(self, step: float) -> bool:
        """Whether `step` is within `tolerance` of an epoch boundary."""
        if not len(self.boundaries):
            return False
        return bool(np.min(np.abs(self.boundaries - step)) <= self.tolerance)
