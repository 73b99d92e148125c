"""Per-boundary evidence that matches the plot: the staircases a person marks at a glance are found, and the
shapes that only look like one (learning-rate restarts, wandering noise, one-point spikes, sawtooth) are not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from synthetic import Curve, make_run

import losscli
from losscli.analysis import analyze

# A memorizing run without reshuffling: each drop falls fast over the first fifth of the new epoch (70 % of it),
# then slides more slowly until 0.6 of the epoch, then the loss is flat. A drop of 15 noise widths.
SPREAD = Curve(per_epoch=50, epochs=5, drop=0.3, lag=0.2, slide=0.3, slide_until=0.6, noise=0.02)
# A run stopped a third of an epoch after its only boundary: the loss climbed over the first half of epoch 1
# and flattened; at the boundary it drops by six noise widths.
SHORT_TAIL = Curve(per_epoch=60, epochs=4 / 3, drop=0.3, noise=0.05, climb=1.0, climb_until=0.5)


@pytest.mark.parametrize("seed", range(4))
def test_a_drop_spread_over_the_first_fifth_then_a_slide_steps_at_every_boundary(seed: int) -> None:
    # The shared-slope fit over whole epochs gave part of each drop to the slope: three of four boundaries came
    # out `stepped: false` with share 0.33-0.43.
    a = analyze(make_run(replace(SPREAD, seed=seed)))
    assert a.verdict == "stepped"
    assert [b.stepped for b in a.boundaries] == [True] * 4
    for b in a.boundaries:
        assert 0.5 * 0.3 <= b.drop <= 0.3 + 0.05  # at least the fast part of the drop, at most all of it
        assert b.share >= 0.5 and b.z >= 5 and b.t >= 4


@pytest.mark.parametrize("seed", range(8))
def test_one_boundary_shortly_before_the_end_after_a_climb_that_flattened(seed: int) -> None:
    a = analyze(make_run(replace(SHORT_TAIL, seed=seed)))
    assert a.verdict == "stepped", a.reason
    [b] = a.boundaries
    assert b.stepped and b.epoch == 1
    assert b.drop == pytest.approx(0.3, abs=0.1)
    assert b.t >= 4 and b.z >= 3


def test_the_real_run_without_reshuffling_steps_at_every_boundary() -> None:
    [run] = losscli.load("benchmarks/eval_runs/mem-noshuffle")
    a = analyze(run)
    assert a.verdict == "stepped"
    assert [b.stepped for b in a.boundaries] == [True] * 4
    assert all(0.2 < b.drop < 0.35 and b.share > 0.9 for b in a.boundaries)


HARD = {
    "learning-rate restarts": Curve(restart=0.5, noise=0.03),
    "one-point spikes at boundaries": Curve(slope=0.2, boundary_spike=0.5, noise=0.03),
    "sawtooth of period 0.37 epoch": Curve(sawtooth=0.4, sawtooth_period=0.37, slope=0.1, noise=0.02),
    # teeth at every boundary and in the middle of every epoch: the boundaries are nothing special
    "sawtooth of period half an epoch": Curve(sawtooth=0.2, sawtooth_period=0.5, noise=0.02, epochs=5),
    "wandering noise": Curve(decay=1.5, noise=0.05, noise_kind="wander"),
    "exponential decay": Curve(decay=1.5, noise=0.02),
}


@pytest.mark.parametrize("per_epoch", [5, 20, 50, 300])
@pytest.mark.parametrize("name", list(HARD))
def test_shapes_that_only_look_like_a_staircase_are_not_stepped(name: str, per_epoch: int) -> None:
    stepped = [
        s for s in range(6) if analyze(make_run(replace(HARD[name], per_epoch=per_epoch, seed=s))).verdict == "stepped"
    ]
    assert stepped == []


def test_placebo_drops_compare_as_effect_sizes() -> None:
    # Teeth every half epoch: the drops at boundaries are as large (in noise widths) as those mid-epoch. With
    # 300 points an epoch the whole-run model of epoch levels saw a staircase in 7 of 10 seeds, because no
    # placebo applied to it; every measurement now compares with the mid-epoch drops, like for like.
    for seed in range(10):
        a = analyze(make_run(Curve(per_epoch=300, epochs=5, sawtooth=0.2, sawtooth_period=0.5, noise=0.02, seed=seed)))
        assert a.verdict == "smooth"
        assert "no larger than mid-epoch changes" in a.reason


@pytest.mark.slow
@pytest.mark.parametrize("per_epoch", [100])
@pytest.mark.parametrize("phi", [0.97, 0.99, 0.995])
def test_autocorrelated_noise_is_not_a_staircase(phi: float, per_epoch: int) -> None:
    # AR(1) noise that wanders for tens to hundreds of steps, over ten epochs: a smooth exponential was called
    # stepped in 2-4 of 40 seeds (13 of 40 with 1000 points an epoch; benchmarks/evaluate.py tries more). Nine
    # boundaries give wandering noise many chances to drop at two of them; the drops must also show over all
    # boundaries together, and degrees of freedom shrink with the correlation.
    curve = Curve(per_epoch=per_epoch, epochs=10, decay=1.5, noise=0.05, noise_kind="wander", phi=phi)
    stepped = [s for s in range(40) if analyze(make_run(replace(curve, seed=s))).verdict == "stepped"]
    assert stepped == []
