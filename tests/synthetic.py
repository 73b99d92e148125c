"""Synthetic loss curves with known truth, for the analyzer's tests and the evaluation grid in benchmarks/.

A curve is `level(epoch)` plus noise, sampled at `per_epoch` logged points per epoch. `drop` is the size of the
step at each boundary; `slope` the fall inside an epoch (per epoch); shapes that are not a staircase (sawtooth,
learning-rate restarts, spikes, early collapse, wandering noise) are built to be hard; so are the staircases a
person marks at a glance but a shared-slope fit misses (a drop spread over the first fifth of the epoch and then
a slide; a run stopped soon after its only boundary, after an epoch that climbed and flattened).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from losscli.frame import EPOCH, TRAIN_LOSS, Run, make_frame


@dataclass(frozen=True)
class Curve:
    per_epoch: int = 50
    epochs: float = 4.0
    start: float = 2.0
    drop: float = 0.0  # step at every boundary
    slope: float = 0.0  # fall per epoch inside epochs
    decay: float = 0.0  # smooth exponential fall by this much in all, with time constant `tau` epochs
    tau: float = 0.8
    noise: float = 0.05
    noise_kind: str = "gauss"  # "spiky": gaussian plus rare large spikes; "wander": AR(1) noise with correlation `phi`
    phi: float = 0.9  # lag-1 correlation of "wander" noise (of the underlying steps, before `smoothing`)
    lag: float = 0.0  # fraction of an epoch over which each drop happens, after the boundary
    # part of each drop that comes as a slower slide after the fast part, ending at `slide_until` (fraction of
    # the epoch): a memorizing run without reshuffling falls fast for the first fifth of the epoch, then slides
    slide: float = 0.0
    slide_until: float = 0.6
    climb: float = 0.0  # the loss climbs by this much over the first `climb_until` of epoch 1, then flattens
    climb_until: float = 0.5
    smoothing: int = 1  # the logged value is the mean of this many underlying steps
    sawtooth: float = 0.0  # amplitude of a sawtooth whose period is not the epoch
    sawtooth_period: float = 0.37  # in epochs
    restart: float = 0.0  # fall per epoch under a learning rate that restarts each epoch (cosine): no drop
    collapse: bool = False  # the loss collapses within the first tenth of epoch 1, then stays flat
    boundary_spike: float = 0.0  # one logged point just after each boundary sits this far below the curve
    seed: int = 0


def level(c: Curve, e: np.ndarray) -> np.ndarray:
    """The noiseless curve at fractional epochs `e`."""
    k = np.floor(e - 1e-12).clip(min=0)  # completed epochs before this point
    inside = e - k
    y = c.start - c.slope * e
    if c.decay:
        y = y - c.decay * (1 - np.exp(-e / c.tau))
    steps = k.copy()
    if c.lag > 0 or c.slide > 0:
        fast = np.clip(inside / c.lag, 0, 1) if c.lag > 0 else np.ones_like(inside)
        slow = np.clip((inside - c.lag) / (c.slide_until - c.lag), 0, 1) if c.slide > 0 else np.zeros_like(inside)
        steps = np.where(k >= 1, k - 1 + (1 - c.slide) * fast + c.slide * slow, 0)
    y = y - c.drop * steps
    if c.climb:
        y = y + c.climb * np.clip(e / c.climb_until, 0, 1)
    if c.sawtooth:
        y = y + c.sawtooth * ((e / c.sawtooth_period) % 1.0)
    if c.restart:
        frac = e - np.floor(e)
        lr_integral = 0.5 * (frac + np.sin(np.pi * frac) / np.pi)  # integral of 0.5 (1 + cos(pi f)) df
        y = y - c.restart * (np.floor(e) + 2 * lr_integral)  # falls fast after each restart, continuous
    if c.collapse:
        y = y - (c.start - 0.05) * (1 - np.exp(-e / 0.03))
    return y


def sample(c: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step, epoch, loss) as a logger would record them: each logged value averages `smoothing` steps."""
    rng = np.random.default_rng(c.seed)
    n = int(round(c.per_epoch * c.epochs))
    fine = n * c.smoothing
    e_fine = np.arange(1, fine + 1) / (c.per_epoch * c.smoothing)
    y = level(c, e_fine) + rng.normal(0, c.noise * np.sqrt(c.smoothing), fine)
    if c.noise_kind == "wander":
        walk = np.zeros(fine)
        shocks = rng.normal(0, c.noise * np.sqrt(c.smoothing) * np.sqrt(1 - c.phi**2), fine)
        walk[0] = rng.normal(0, c.noise * np.sqrt(c.smoothing))
        for i in range(1, fine):
            walk[i] = c.phi * walk[i - 1] + shocks[i]
        y = level(c, e_fine) + walk
    if c.noise_kind == "spiky":
        spikes = rng.random(fine) < 0.02
        y = y + spikes * rng.exponential(8 * c.noise * np.sqrt(c.smoothing), fine)
    logged = y.reshape(n, c.smoothing).mean(axis=1)
    epochs = e_fine.reshape(n, c.smoothing)[:, -1]
    if c.boundary_spike:
        after = np.flatnonzero(np.diff(np.floor(epochs - 1e-9)) > 0) + 1
        logged[after] -= c.boundary_spike
    steps = np.arange(1, n + 1) * c.smoothing
    return steps, epochs, logged


def make_run(c: Curve, name: str = "synthetic", with_epochs: bool = True) -> Run:
    steps, epochs, values = sample(c)
    n = len(steps)
    epoch_col = epochs if with_epochs else np.full(n, np.nan)
    metric = [TRAIN_LOSS] * n + ([EPOCH] * n if with_epochs else [])
    tag = ["loss"] * n + (["epoch"] * n if with_epochs else [])
    frame = make_frame(
        metric,
        tag,
        np.r_[steps, steps] if with_epochs else steps,
        np.r_[epoch_col, epoch_col] if with_epochs else epoch_col,
        np.r_[values, epochs] if with_epochs else values,
        np.full(len(metric), np.nan),
    )
    return Run(name=name, path=Path(name), format="synthetic", scalars=frame)
