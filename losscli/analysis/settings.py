"""The thresholds of the method, with the defaults that `benchmarks/evaluate.py` justifies.

Each can be changed from the command line (`losscli classify --help` lists them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    # A boundary counts as a step when all of these hold:
    min_t: float = 4.0  # the drop is this many of its own standard errors (it is not chance)
    min_z: float = 1.0  # ... and at least this many times the noise of single points (it is visible)
    min_share: float = 0.5  # ... and at least this share of the epoch-to-epoch decrease happens at the boundary
    min_relative_drop: float = 0.001  # ... and the loss falls by at least this fraction of its level
    placebo_factor: float = 2.0  # ... and it stands this far above the drops measured mid-epoch
    # Consecutive boundaries whose drops pass all but `min_t` (each t >= min_t / 2) step together when their
    # combined t (sum over sqrt(count)) reaches this:
    min_combined_t: float = 5.0
    # The whole-run model of epoch levels counts only when it explains the curve better than a smooth curve
    # with as many parameters by this many BIC units (10: "very strong" evidence):
    min_advantage: float = 10.0
    # What makes a boundary measurable:
    min_points_per_side: int = 4
    lag: float = 0.1  # fraction of an epoch after a boundary left out of the fit: a drop may take this long
    lead: float = 0.03  # fraction before the boundary left out: logging and shuffling blur the last steps
    # Given by the user when the log carries no epoch information:
    steps_per_epoch: float | None = None
