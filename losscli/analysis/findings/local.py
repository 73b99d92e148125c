"""Small robust summaries the finding rules share: the noise of single points, a running median."""

from __future__ import annotations

import numpy as np

_MAD_TO_SIGMA = 1.4826  # a definition: the median absolute deviation of normal noise, in standard deviations


def point_noise(y: np.ndarray) -> float:
    """The noise of single points, from their first differences (robust to trends, steps and spikes): 1.4826 x
    the median absolute difference, over sqrt(2). NaN with fewer than three points."""
    if len(y) < 3:
        return float("nan")
    d = np.diff(y)
    return float(_MAD_TO_SIGMA * np.median(np.abs(d - np.median(d))) / np.sqrt(2))


def running_median(y: np.ndarray, *, width: int) -> np.ndarray:
    """The centred running median of `width` points (odd; shorter windows at the ends)."""
    half = width // 2
    if half < 1 or len(y) < 3:
        return y.astype(np.float64)
    padded = np.r_[np.full(half, np.nan), y, np.full(half, np.nan)]
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.nanmedian(windows, axis=1)


def smoothing_width(n: int) -> int:
    """A running-median width for `n` points: 1 (none) below 20 points, up to 11 from 100 points on."""
    return 2 * int(min(5, n // 20)) + 1
