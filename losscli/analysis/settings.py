"""Every decision the method makes, as one number each, with the defaults that `benchmarks/evaluate.py` justifies.

The command line sets the first few (`losscli classify --help`); the rest are here so that a reader sees every
threshold in one place and a study can vary them (`benchmarks/evaluate.py` prints a sweep of the main ones).
Which of them are heuristics, and why each default, is in docs/method.md ("The numbers").
Numerical-safety constants (floors that keep a division finite, iteration caps) stay in the modules that use
them and say so; they do not change a verdict on any data a logger writes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Every threshold the analysis decides with, in one place (`benchmarks/evaluate.py` prints the table behind each
    default)."""

    # --- A boundary steps when its drop passes all of these -------------------------------------------------
    min_t: float = 4.0  # the drop is this many of its own standard errors (it is not chance)
    min_z: float = 1.0  # ... and at least this many times the noise of single points (it is visible)
    min_share: float = 0.5  # ... and at least this part of the epoch-to-epoch decrease happens at the boundary
    min_relative_drop: float = 0.001  # ... and the loss falls by at least this fraction of its level
    # ... and its size, in noise widths (z), is this many times the typical "drop" measured in the middle of
    # the epochs, where nothing should happen (root mean square of the positive ones): an effect size, so
    # windows of any length compare like for like.
    placebo_factor: float = 2.0
    # --- Evidence pooled over boundaries ---------------------------------------------------------------------
    # Consecutive boundaries whose drops pass all but `min_t` (each t >= pool_fraction x min_t) step together
    # when their combined t (Stouffer: sum over sqrt(count)) reaches min_combined_t: the same drop recurring
    # epoch after epoch is evidence no single boundary gives.
    min_combined_t: float = 5.0
    pool_fraction: float = 0.5
    # One stepping boundary makes a run stepped when the run has at most this many measurable boundaries, or
    # when its t reaches strong_factor x min_t; otherwise a second boundary (or pooled evidence) must agree.
    lone_step_boundaries: int = 2
    strong_factor: float = 2.0
    # The whole-run model of epoch levels counts only when it explains the curve better than a smooth curve
    # with as many parameters by this many BIC units (10: "very strong" evidence) ...
    min_advantage: float = 10.0
    # ... and it needs this many points in a typical epoch (fewer cannot tell a slope from steps).
    min_points_per_level: int = 3
    # --- What is measured where ------------------------------------------------------------------------------
    min_points_per_side: int = 4  # a side of a boundary with fewer points is not measured
    lag: float = 0.1  # fraction of an epoch after a boundary left out of the fits: a drop may take this long
    # A drop spread over more of the new epoch (a memorizing run without reshuffling: its first batches are
    # the ones it has seen longest ago) is also measured with this longer settling time, from the half epochs
    # next to the boundary.
    max_lag: float = 0.2
    # Those local fits reach this fraction of an epoch from the boundary; the placebo uses the same windows in
    # the middle of each epoch, so more than 0.5 would reach the next boundary (it is capped there).
    near_width: float = 0.5
    lead: float = 0.03  # fraction before the boundary left out: logging and shuffling blur the last steps
    # A trend term beyond level and slope (a change of slope at the boundary, a shared curvature) enters a fit
    # only when its estimate is this many standard errors from zero: the data must show it.
    trend_term_t: float = 2.0
    huber_k: float = 1.345  # residuals beyond this many noise widths are down-weighted (95% efficiency)
    # Residuals that move together in time widen standard errors by (1 + r) / (1 - r) for a lag-1 correlation r,
    # counted up to this r (beyond it the estimate from one window is not trustworthy anyway).
    max_autocorrelation: float = 0.995
    # --- Values that are not measurements -------------------------------------------------------------------
    # A loss further from the curve's median than this many times its robust scale (the larger of 1.4826 x MAD
    # and |median|) is a broken value (an overflow, a logging bug), left out with a warning.
    max_deviation: float = 1e6
    # An epoch value more than this many usual increments above both neighbours that falls back is a stray.
    epoch_spike_factor: float = 10.0
    # A train loss logged at more points than this is averaged over runs of consecutive points to this many, as a
    # Trainer logging every k steps averages its k losses: beyond a few thousand points an epoch, more points
    # add no evidence about a step at a boundary, only time (a run logged at every one of 100k steps).
    max_points: int = 10_000
    # A train loss of exactly 0 where no grad norm says NaN is the Trainer's NaN filter's stand-in when zeros last
    # to the end of the log and the smallest of the last `stand_in_context` non-zero losses before them is at
    # least `stand_in_fraction` of the curve's 90th percentile (a loss that really reaches 0 gets there slowly).
    stand_in_context: int = 5
    stand_in_fraction: float = 0.01
    # --- Epoch length inferred from the curve (logs without epochs) -----------------------------------------
    infer_candidates: int = 4  # the largest drops of the smoothed curve that propose a period
    infer_divisors: tuple[int, ...] = (1, 2, 3)  # a drop at step s proposes s, s/2, s/3
    infer_margin: float = 2.0  # added to min_combined_t for having searched several candidate periods
    infer_min_stepping: float = 2 / 3  # this part of the measured boundaries (and at least two) must step
    infer_max_climb: float = 0.5  # the loss may climb back inside periods by at most this part of the drops
    infer_min_epochs: int = 3  # the run must cover this many candidate periods
    # --- Findings --------------------------------------------------------------------------------------------
    # A stepped epoch "climbs back" when its second half rises significantly (min_t) by at least this part of
    # the drop that started it.
    late_rise_fraction: float = 0.25
    # Eval loss "rises" when its last value stands above its lowest by more than this many typical
    # point-to-point changes and by at least this fraction of the level ...
    eval_rise_noise: float = 2.0
    eval_rise_relative: float = 0.005
    eval_min_points: int = 3  # ... with at least this many eval points
    # --- Findings besides the staircase (findings/) -------------------------------------------------------
    # A spike's first point stands this many noise widths of single points above the trend of the points before
    # it in its epoch ...
    spike_z: float = 6.0
    spike_min_relative: float = 0.05  # ... and this fraction of the level above it
    spike_context: int = 8  # points before a jump its trend is read from
    # It recovers when the loss is back to the predicted level plus this part of the spike's height ...
    spike_recovery: float = 0.5
    spike_max_width: float = 0.25  # ... within this part of an epoch (of the run, without epochs)
    # A spike of one point (a single unusual batch) must stand this many times higher than spike_z.
    spike_single_factor: float = 2.0
    # Divergence: the loss at the end stands above its lowest (smoothed) level by at least this part of what it
    # had fallen before ...
    divergence_rise: float = 0.5
    divergence_relative: float = 0.5  # ... and this fraction of the lowest level's size ...
    divergence_z: float = 5.0  # ... and this many noise widths of single points
    divergence_start_z: float = 2.5  # it starts after the last point this close (noise widths) to the lowest
    # Plateau: a stretch of at least this part of the run (and, with epochs, this many epochs: longer than the
    # tread of a staircase) over which the loss falls by at most plateau_progress of what it had fallen before,
    # after a fall of at least plateau_fall_z noise widths.
    plateau_min_length: float = 0.25
    plateau_min_epochs: float = 1.5
    plateau_progress: float = 0.02
    plateau_fall_z: float = 5.0
    # Drops after evaluation: at least this many evaluations away from the boundaries are measured, and this
    # part of them (and at least two) drop by the step rule ...
    eval_drops_min: int = 3
    eval_drops_share: float = 0.5
    # ... or, with evaluation at every boundary of a stepped run, the eval loss falls by at least this part of
    # the train loss's fall over the same evaluations.
    eval_leak_share: float = 0.5
    # --- The learning-rate schedule (lr_schedule.py) ---------------------------------------------------------
    lr_peak_tolerance: float = 0.02  # a rate within this fraction of the peak is at the peak (warm-up ends)
    lr_constant_tolerance: float = 0.02  # a rate that varies by at most this fraction of the peak is constant
    lr_fit_tolerance: float = 0.02  # a line or cosine fits when its RMS residual is within this part of the peak
    lr_restart_rise: float = 0.2  # a rise by this part of the peak, after the rate fell, starts a new cycle
    # A brief jump by this factor (or more) that comes back within lr_excursion_width of the points is an
    # excursion (a manual override, a glitch), not the schedule; a spike's learning rate is reported when it
    # differs from the usual by this factor.
    lr_excursion_factor: float = 3.0
    lr_excursion_width: float = 0.05
    # Learning-rate restarts cause a staircase when they fall at this part of the stepped boundaries or more.
    lr_restart_share: float = 0.5
    # --- Given by the user for logs that carry no epoch information (the log's own epochs always win) ------
    steps_per_epoch: float | None = None
