"""Each finding rule on shapes where it must fire and where it must not: spikes against staircases and the climb
back late in an epoch, divergence against spikes and noise, plateaus against treads and slow decay, the NaN
filter's stand-ins against losses that really reach 0, drops after evaluation against drops at boundaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from synthetic import Curve, level, make_run, sample

from losscli.analysis import analyze
from losscli.analysis.result import (
    Analysis,
    DivergenceFinding,
    EvalDropsFinding,
    NanFinding,
    PlateauFinding,
    SpikeFinding,
)
from losscli.analysis.values import stand_ins
from losscli.frame import EPOCH, EVAL_LOSS, GRAD_NORM, LEARNING_RATE, TRAIN_LOSS, Run, make_frame


def run_of(
    steps: np.ndarray,
    loss: np.ndarray,
    *,
    per_epoch: float | None = None,
    evals: tuple[np.ndarray, np.ndarray] | None = None,
    lr: np.ndarray | None = None,
    grad: np.ndarray | None = None,
) -> Run:
    """A run with a train loss at `steps` (epochs from `per_epoch`), and optionally eval loss, learning rate and
    grad norm (at the train steps)."""
    rows: list[tuple[str, np.ndarray, np.ndarray]] = [(TRAIN_LOSS, steps, loss)]
    if evals is not None:
        rows.append((EVAL_LOSS, *evals))
    if lr is not None:
        rows.append((LEARNING_RATE, steps, lr))
    if grad is not None:
        rows.append((GRAD_NORM, steps, grad))
    if per_epoch is not None:
        rows.append((EPOCH, steps, steps / per_epoch))
    metric = np.concatenate([[m] * len(s) for m, s, _ in rows])
    step = np.concatenate([s for _, s, _ in rows]).astype(np.int64)
    value = np.concatenate([v for _, _, v in rows]).astype(np.float64)
    epoch = step / per_epoch if per_epoch else np.full(len(step), np.nan)
    frame = make_frame(metric, metric, step, epoch, value, np.full(len(step), np.nan))
    return Run(name="shape", path=Path("shape"), format="synthetic", scalars=frame)


def kinds(a: Analysis) -> list[str]:
    return [f.kind for f in a.findings]


def noisy(n: int, seed: int, sigma: float = 0.03) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, sigma, n)


# --- spikes ------------------------------------------------------------------------------------------------


def spiked(seed: int, *, at: int = 130, height: float = 0.6, decay: float = 3.0, per_epoch: int = 50) -> Run:
    """A smooth decline with a jump of `height` at step `at` that decays with time constant `decay` steps."""
    steps = np.arange(1, 4 * per_epoch + 1)
    base = 3.0 - 1.5 * (1 - np.exp(-steps / 80))
    bump = np.where(steps >= at, height * np.exp(-(steps - at) / decay), 0.0)
    return run_of(steps, base + bump + noisy(len(steps), seed), per_epoch=per_epoch)


@pytest.mark.parametrize("seed", range(5))
def test_a_jump_that_recovers_is_one_spike_at_its_step(seed: int) -> None:
    a = analyze(spiked(seed))
    spikes = [f for f in a.findings if isinstance(f, SpikeFinding)]
    assert [s.step for s in spikes] == [130]
    assert spikes[0].height == pytest.approx(0.6, abs=0.1) and spikes[0].recovered_step <= 140


def test_a_jump_that_does_not_recover_within_its_epoch_is_no_spike() -> None:
    a = analyze(spiked(0, at=140, decay=100.0))  # still high at the boundary at step 150
    assert "spike" not in kinds(a)


def test_a_spike_right_after_a_boundary_is_found_and_a_jump_before_one_needs_its_recovery() -> None:
    a = analyze(spiked(1, at=106))  # six points into epoch 3
    assert [f.step for f in a.findings if f.kind == "spike"] == [106]


@pytest.mark.parametrize("per_epoch", [10, 20, 50, 300])
@pytest.mark.parametrize("seed", range(3))
def test_staircases_have_no_spikes(per_epoch: int, seed: int) -> None:
    for curve in (
        Curve(per_epoch=per_epoch, epochs=5, drop=0.3, noise=0.03, seed=seed),
        Curve(per_epoch=per_epoch, epochs=5, drop=0.3, lag=0.2, slide=0.3, noise=0.02, seed=seed),
        Curve(per_epoch=per_epoch, epochs=5, drop=0.5, noise=0.01, seed=seed),  # drops of 50 noise widths
    ):
        a = analyze(make_run(curve))
        assert "spike" not in kinds(a), (curve, a.findings)


@pytest.mark.parametrize("per_epoch", [10, 20, 50, 300])
def test_the_climb_back_late_in_an_epoch_is_no_spike(per_epoch: int) -> None:
    """Flat, then the loss creeps up at the end of the epoch, then drops at the boundary (the seed post)."""
    steps = np.arange(1, 5 * per_epoch + 1)
    position = (steps - 1) % per_epoch / per_epoch
    epoch = (steps - 1) // per_epoch
    loss = 3.0 - 0.3 * epoch + 0.25 * np.clip((position - 0.6) / 0.4, 0, 1) ** 2 + noisy(len(steps), per_epoch, 0.01)
    a = analyze(run_of(steps, loss, per_epoch=per_epoch))
    assert "spike" not in kinds(a)


def test_learning_rate_restarts_are_no_spikes() -> None:
    for per_epoch in (10, 50, 300):
        a = analyze(make_run(Curve(per_epoch=per_epoch, restart=0.5, noise=0.03, seed=per_epoch)))
        assert "spike" not in kinds(a)


def test_one_unusual_batch_must_stand_twice_as_high() -> None:
    steps = np.arange(1, 201)
    loss = 2.0 + noisy(200, 3, 0.02)
    loss[110] += 0.2  # ten noise widths, one point
    assert "spike" not in kinds(analyze(run_of(steps, loss, per_epoch=50)))
    loss[110] += 0.4  # thirty
    assert [f.step for f in analyze(run_of(steps, loss, per_epoch=50)).findings] == [111]


# --- divergence --------------------------------------------------------------------------------------------


def test_a_loss_that_climbs_and_stays_up_diverges_from_where_it_left_its_lowest() -> None:
    steps = np.arange(1, 201)
    loss = 3.0 - 1.0 * (1 - np.exp(-steps / 30)) + np.where(steps > 150, np.expm1((steps - 150) / 8), 0.0)
    a = analyze(run_of(steps, loss + noisy(200, 5), per_epoch=100))
    [d] = [f for f in a.findings if isinstance(f, DivergenceFinding)]
    assert 145 <= (d.step or 0) <= 160 and d.last > 100 and not d.ends_non_finite


def test_a_loss_that_climbs_to_nan_diverges_to_nan() -> None:
    steps = np.arange(1, 101)
    loss = np.r_[2.0 - np.arange(60) * 0.01, 2.0 * 3.0 ** np.arange(1, 11), np.full(30, np.nan)]
    a = analyze(run_of(steps, loss, per_epoch=50))
    assert kinds(a) == ["divergence", "nan"]
    d = a.findings[0]
    assert isinstance(d, DivergenceFinding) and d.ends_non_finite and d.step == 61


@pytest.mark.parametrize("seed", range(5))
def test_no_divergence_in_spikes_noise_or_decay(seed: int) -> None:
    for run in (
        spiked(seed),
        make_run(Curve(per_epoch=50, decay=1.5, noise=0.05, noise_kind="wander", seed=seed)),
        make_run(Curve(per_epoch=50, noise=0.05, noise_kind="spiky", seed=seed)),
        make_run(Curve(per_epoch=30, epochs=5, drop=0.3, noise=0.03, seed=seed)),
    ):
        assert "divergence" not in kinds(analyze(run))


def test_a_loss_that_rises_a_little_after_its_lowest_is_not_divergence() -> None:
    """Overfitting of the train loss's own kind (a rise of a tenth of the fall) is not divergence."""
    steps = np.arange(1, 301)
    loss = 3.0 - 2.0 * (1 - np.exp(-steps / 40)) + 0.2 * np.clip((steps - 200) / 100, 0, 1)
    assert "divergence" not in kinds(analyze(run_of(steps, loss + noisy(300, 1, 0.01), per_epoch=100)))


# --- plateau -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_epoch", [10, 50, 300])
def test_a_collapse_then_flat_is_a_plateau(per_epoch: int) -> None:
    a = analyze(make_run(Curve(per_epoch=per_epoch, collapse=True, noise=0.01, seed=per_epoch)))
    [p] = [f for f in a.findings if isinstance(f, PlateauFinding)]
    assert p.epoch is not None and p.epoch < 1.0 and p.end_epoch is not None and p.end_epoch > 3.5


@pytest.mark.parametrize("per_epoch", [10, 50, 300])
@pytest.mark.parametrize("seed", range(3))
def test_the_treads_of_a_staircase_and_a_steady_decay_are_no_plateau(per_epoch: int, seed: int) -> None:
    for curve in (
        Curve(per_epoch=per_epoch, epochs=5, drop=0.3, noise=0.03, seed=seed),
        Curve(per_epoch=per_epoch, epochs=5, drop=0.3, noise=0.03, restart=0.3, seed=seed),
        Curve(per_epoch=per_epoch, slope=0.3, noise=0.03, seed=seed),
        Curve(per_epoch=per_epoch, decay=1.5, tau=2.0, noise=0.02, seed=seed),
    ):
        assert "plateau" not in kinds(analyze(make_run(curve))), curve


def test_a_curve_that_never_fell_has_no_plateau() -> None:
    steps = np.arange(1, 401)
    assert "plateau" not in kinds(analyze(run_of(steps, 1.0 + noisy(400, 2), per_epoch=100)))


# --- NaN and the Trainer's NaN filter ----------------------------------------------------------------------


def test_zeros_where_the_grad_norm_is_nan_are_stand_ins_wherever_they_are() -> None:
    steps = np.arange(1, 11)
    loss = np.array([3.0, 2.9, 0.0, 2.8, 2.7, 0.0, 0.0, 2.6, 2.5, 2.4])
    grad = np.array([1.0, 1.0, np.nan, 1.0, 1.0, np.inf, np.nan, 1.0, 1.0, 1.0])
    mask = stand_ins(steps, loss, grad_steps=steps, grad_values=grad, context=5, fraction=0.01)
    assert mask.tolist() == [False, False, True, False, False, True, True, False, False, False]


def test_zeros_to_the_end_after_losses_far_from_zero_are_stand_ins() -> None:
    steps = np.arange(1, 21)
    loss = np.r_[np.linspace(4, 3, 12), np.zeros(8)]
    assert stand_ins(steps, loss, context=5, fraction=0.01).tolist() == [False] * 12 + [True] * 8


def test_a_loss_that_reaches_zero_gradually_or_zeros_among_losses_are_real() -> None:
    steps = np.arange(1, 21)
    converging = np.r_[2.0 * 0.1 ** np.arange(15), np.zeros(5)]  # 2, 0.2, ..., 2e-14, then 0
    assert not stand_ins(steps, converging, context=5, fraction=0.01).any()
    hinge = np.where(np.arange(20) % 3 == 0, 0.0, 0.4)  # a margin loss: zero for easy batches
    assert not stand_ins(steps, hinge, context=5, fraction=0.01).any()


def test_stand_ins_are_left_out_and_counted_as_the_filters() -> None:
    steps = np.arange(1, 101)
    loss = np.r_[3.0 - np.arange(70) * 0.01 + noisy(70, 4, 0.01), np.zeros(30)]
    grad = np.r_[np.ones(70), np.full(30, np.nan)]
    a = analyze(run_of(steps, loss, per_epoch=50, grad=grad))
    assert a.points == 70
    [nan] = [f for f in a.findings if isinstance(f, NanFinding)]
    assert (nan.step, nan.train, nan.filtered) == (71, 0, 30)
    assert "largest drop" not in a.reason


# --- drops after evaluation --------------------------------------------------------------------------------


def leaky(seed: int, *, evals_at: np.ndarray, leak: float, per_epoch: int = 20, epochs: int = 4) -> Run:
    """A slow decline whose train loss falls by `leak` right after each evaluation step (held-out eval loss flat)."""
    steps = np.arange(1, per_epoch * epochs + 1)
    drops = leak * np.searchsorted(evals_at, steps, side="left")  # evaluations strictly before each step
    loss = 5.8 - 0.002 * steps - drops + noisy(len(steps), seed, 0.02)
    evals = (evals_at.astype(float), 5.8 + 0.001 * evals_at)
    return run_of(steps, loss, per_epoch=per_epoch, evals=evals)


@pytest.mark.parametrize("seed", range(4))
def test_drops_right_after_evaluations_away_from_boundaries(seed: int) -> None:
    a = analyze(leaky(seed, evals_at=np.arange(9, 80, 9), leak=0.15))
    [f] = [f for f in a.findings if isinstance(f, EvalDropsFinding)]
    assert f.timing == "evaluations" and f.dropping >= 0.5 * f.evaluations
    assert set(f.drop_steps) <= set(range(9, 80, 9))


@pytest.mark.parametrize("seed", range(4))
def test_no_drops_after_evaluation_without_a_leak_or_in_a_staircase_evaluated_elsewhere(seed: int) -> None:
    assert "drops_after_eval" not in kinds(analyze(leaky(seed, evals_at=np.arange(9, 80, 9), leak=0.0)))
    staircase = Curve(per_epoch=20, epochs=4, drop=0.3, noise=0.02, seed=seed)
    steps, epochs, values = sample(staircase)
    evals = (np.arange(9, 80, 9).astype(float), np.full(8, 3.0))
    a = analyze(run_of(steps, values, per_epoch=20, evals=evals))
    assert a.verdict == "stepped" and "drops_after_eval" not in kinds(a)


def test_evaluation_at_every_boundary_tells_a_leak_by_the_eval_loss() -> None:
    curve = Curve(per_epoch=20, epochs=4, drop=0.3, noise=0.02, seed=1)
    steps, epochs, values = sample(curve)
    at = np.array([20.0, 40.0, 60.0, 80.0])
    train_level = level(curve, at / 20 - 1e-9)
    falling = analyze(run_of(steps, values, per_epoch=20, evals=(at, train_level + 0.05)))
    [f] = [f for f in falling.findings if isinstance(f, EvalDropsFinding)]
    assert f.timing == "boundaries" and [c.kind for c in falling.causes] == ["learning_during_eval"]
    rising = analyze(run_of(steps, values, per_epoch=20, evals=(at, np.array([3.0, 3.05, 3.1, 3.15]))))
    assert "drops_after_eval" not in kinds(rising) and rising.memorization
    assert [c.kind for c in rising.causes] == ["memorization"]
