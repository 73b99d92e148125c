"""Resolve steps a run logged more than once: a resumed run's later values replace the earlier ones.

When a run restarts from a checkpoint it logs steps it had already logged. The rule every format shares: within one
metric, in the order the points were logged, a point is kept only if every later point has a larger step. So when
the step falls back to `s`, everything logged earlier at `s` or later is replaced by what was logged after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def resolve_restarts(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop points replaced by a later log of the same step; return the frame and how many were replaced.

    `frame` must be in logged order. The result is sorted by metric (in first-seen order) and step.
    """
    import numpy as np

    if frame.empty:
        return frame, 0
    codes, _ = frame["metric"].factorize(sort=False)
    steps = frame["step"].to_numpy()
    order = np.argsort(codes, kind="stable")
    codes_sorted = codes[order]
    steps_sorted = steps[order]
    keep_sorted = np.ones(len(order), dtype=bool)
    starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for start, end in zip(starts, ends):
        block = steps_sorted[start:end]
        if len(block) < 2 or bool(np.all(block[1:] > block[:-1])):
            continue
        later_min = np.minimum.accumulate(block[::-1])[::-1]
        next_min = np.r_[later_min[1:], np.iinfo(np.int64).max]
        keep_sorted[start:end] = block < next_min
    replaced = int(len(order) - keep_sorted.sum())
    kept = frame.iloc[order[keep_sorted]]
    return kept.reset_index(drop=True), replaced
