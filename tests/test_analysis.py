"""The analyzer on curves with known truth: the staircase, and the shapes that only look like it."""

from __future__ import annotations

import pytest
from conftest import corpus
from synthetic import Curve, make_run

import losscli
from losscli.analysis import Settings, analyze


def verdict(curve: Curve, **settings: float) -> str:
    return analyze(make_run(curve), settings=Settings(**settings)).verdict


@pytest.mark.parametrize("seed", range(5))
def test_a_staircase_is_stepped(seed: int) -> None:
    a = analyze(make_run(Curve(drop=0.3, noise=0.05, seed=seed)))
    assert a.verdict == "stepped"
    assert [b.epoch for b in a.boundaries] == [1, 2, 3]
    for b in a.boundaries:
        assert b.drop == pytest.approx(0.3, abs=0.06)
        assert b.stepped and b.share > 0.8
    assert a.boundary_source == "logged epoch values"
    assert "drops of" in a.reason and "epoch 1, 2 and 3 boundaries" in a.reason


@pytest.mark.parametrize("seed", range(5))
def test_a_steadily_falling_curve_is_smooth(seed: int) -> None:
    assert verdict(Curve(slope=0.3, noise=0.05, seed=seed)) == "smooth"
    assert verdict(Curve(decay=1.5, noise=0.02, seed=seed)) == "smooth"


def test_five_noise_widths_with_ten_points_an_epoch_is_found() -> None:
    # 4 epochs of 10 points, drops of 5 noise widths: found in most seeds; the same slope spread evenly never
    hits = sum(verdict(Curve(per_epoch=10, drop=0.25, noise=0.05, seed=s)) == "stepped" for s in range(20))
    false = sum(verdict(Curve(per_epoch=10, slope=0.25, noise=0.05, seed=s)) == "stepped" for s in range(20))
    assert hits >= 16
    assert false == 0


@pytest.mark.parametrize("seed", range(5))
def test_shapes_that_are_not_a_staircase(seed: int) -> None:
    # a sawtooth whose period is not the epoch (length-grouped batches)
    assert verdict(Curve(sawtooth=0.4, sawtooth_period=0.37, slope=0.1, noise=0.02, seed=seed)) != "stepped"
    # an early collapse, then flat
    assert verdict(Curve(decay=3.0, noise=0.01, seed=seed)) != "stepped"


def test_a_spike_at_a_boundary_is_not_a_step() -> None:
    run = make_run(Curve(slope=0.1, noise=0.03, seed=3))
    frame = run.scalars
    at = frame.index[(frame["metric"] == "train/loss") & (frame["step"].isin([50, 100, 150]))]
    frame.loc[at, "value"] += 2.0
    assert analyze(run).verdict == "smooth"


def test_a_drop_spread_over_the_first_tenth_still_counts() -> None:
    assert verdict(Curve(drop=0.3, lag=0.1, noise=0.05, seed=1)) == "stepped"


def test_one_crossed_boundary_is_enough() -> None:
    a = analyze(make_run(Curve(epochs=1.4, drop=0.5, noise=0.05, per_epoch=60)))
    assert a.verdict == "stepped"
    assert len(a.boundaries) == 1


def test_one_epoch_is_inconclusive() -> None:
    a = analyze(make_run(Curve(epochs=0.9, slope=0.3)))
    assert a.verdict == "inconclusive" and "never crosses" in a.reason


@pytest.mark.parametrize("seed", range(3))
def test_without_epochs_the_period_is_inferred_only_for_a_staircase(seed: int) -> None:
    a = analyze(make_run(Curve(drop=0.3, noise=0.05, seed=seed), with_epochs=False))
    assert a.verdict == "stepped"
    assert a.boundary_source == "inferred from recurring drops"
    assert a.steps_per_epoch == pytest.approx(50, abs=2)
    for curve in (
        Curve(slope=0.3, noise=0.05, seed=seed),
        Curve(sawtooth=0.4, slope=0.1, noise=0.02, seed=seed),
    ):
        a = analyze(make_run(curve, with_epochs=False))
        assert a.verdict == "inconclusive" and "no epoch information" in a.reason


def test_steps_per_epoch_setting_is_used_without_epoch_values() -> None:
    a = analyze(
        make_run(Curve(drop=0.3, noise=0.05, per_epoch=40), with_epochs=False), settings=Settings(steps_per_epoch=40)
    )
    assert a.verdict == "stepped"


def test_sparse_logging_is_judged_from_epoch_levels() -> None:
    a = analyze(make_run(Curve(per_epoch=3, epochs=6, drop=0.3, noise=0.03)))
    assert a.verdict == "stepped"
    assert any("epoch levels" in note for note in a.notes)
    assert analyze(make_run(Curve(per_epoch=3, epochs=6, slope=0.3, noise=0.03))).verdict == "smooth"


def test_too_few_points_per_epoch_is_inconclusive() -> None:
    a = analyze(make_run(Curve(per_epoch=1, epochs=12, drop=0.3)))
    assert a.verdict == "inconclusive"


def test_real_staircase_whose_eval_rise_starts_before_the_steps_is_not_memorization() -> None:
    # The eval loss is lowest at step 200 (epoch 0.87) and rises from there; the train loss first steps at the
    # epoch 2 boundary (step 461): a rise that starts before the steps is not the memorization pattern.
    [run] = losscli.load(corpus("ts-medimind-10ep"))
    a = analyze(run)
    assert a.verdict == "stepped"
    assert [b.epoch for b in a.boundaries if b.stepped] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert a.eval is not None and a.eval.rises
    assert a.eval.best_step == 200 and a.eval.best_epoch is not None and a.eval.best_epoch < 1
    assert not a.memorization


def test_real_smooth_run() -> None:
    [run] = losscli.load(corpus("ts-kgllm"))
    assert analyze(run).verdict == "smooth"


def test_thresholds_change_the_verdict() -> None:
    curve = Curve(drop=0.3, noise=0.05, seed=2)
    assert verdict(curve) == "stepped"
    assert verdict(curve, min_t=1000.0) == "smooth"


@pytest.mark.parametrize("seed", range(3))
def test_restarts_spikes_and_collapse_are_not_steps(seed: int) -> None:
    assert verdict(Curve(restart=0.5, noise=0.03, seed=seed)) != "stepped"
    assert verdict(Curve(slope=0.2, boundary_spike=0.5, noise=0.03, seed=seed)) != "stepped"
    assert verdict(Curve(collapse=True, noise=0.01, seed=seed)) != "stepped"
    assert verdict(Curve(decay=1.5, noise=0.05, noise_kind="wander", seed=seed)) != "stepped"


def test_loss_climbing_back_late_in_epochs_is_its_own_finding() -> None:
    # a learning rate that restarts every epoch: a sharp drop, then the loss climbs back inside the epoch
    a = analyze(make_run(Curve(drop=0.3, sawtooth=0.4, sawtooth_period=1.0, noise=0.03, seed=1)))
    assert a.verdict == "stepped"
    assert a.late_epoch_rise == (2, 3, 4)
    assert "climbs back late in epochs 2, 3 and 4" in a.reason
    assert analyze(make_run(Curve(drop=0.3, noise=0.03, seed=1))).late_epoch_rise == ()
