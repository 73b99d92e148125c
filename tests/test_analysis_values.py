"""Values that are not measurements (NaN, infinities, 1e308) never flip a verdict: left out with a warning, and a
measurement that is not finite is missing evidence, never a veto and never a reason to call a run smooth."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_LOGS
from synthetic import Curve, make_run

import losscli
from losscli.analysis import Settings, analyze
from losscli.frame import EVAL_LOSS, TRAIN_LOSS, Run, make_columns


def with_values(run: Run, metric: str, index: slice | list[int], value: float) -> Run:
    """A copy of `run` whose `metric` points at `index` (in step order) hold `value`."""
    cols = run.columns()
    rows = np.flatnonzero(cols.metric == metric)[np.argsort(cols.step[cols.metric == metric], kind="stable")]
    values = cols.value.copy()
    values[rows[index]] = value
    damaged = make_columns(cols.metric, cols.tag, cols.step, cols.epoch, values, cols.wall_time)
    return Run(run.name, run.path, run.format, damaged, meta=dict(run.meta))


def stepped_sample_with_huge_losses(tmp_path: Path, count: int = 30, value: float = 1e308) -> Path:
    document = json.loads((SAMPLE_LOGS / "hf-stepped" / "trainer_state.json").read_text())
    for entry in [e for e in document["log_history"] if "loss" in e][:count]:
        entry["loss"] = value
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "trainer_state.json").write_text(json.dumps(document))
    return folder / "trainer_state.json"


def test_huge_losses_in_a_real_stepped_run_are_left_out_with_a_warning(tmp_path: Path) -> None:
    # 30 values of 1e308 (the first epoch and a half) once made two boundaries measure NaN and an infinite
    # placebo veto the rest: the run came out smooth, with no warning.
    path = stepped_sample_with_huge_losses(tmp_path)
    with np.errstate(all="raise"):  # nothing may overflow on the way
        [run] = losscli.load(path)
        a = analyze(run)
    assert a.verdict == "stepped"
    assert a.points == 70
    assert [b.epoch for b in a.boundaries] == [2, 3, 4]  # the first usable point comes after the epoch 1 boundary
    assert all(b.stepped for b in a.boundaries)
    for b in a.boundaries:
        assert all(math.isfinite(v) for v in (b.before, b.after, b.drop, b.z, b.t, b.share))
        assert 0.1 < b.drop < 0.3
    [warning] = a.warnings
    assert str(path) in warning
    assert "30 train-loss values left out" in warning
    assert "absurdly large" in warning and "the first at step 1" in warning
    assert a.epochs == 5.0


def test_the_warning_reaches_the_result_through_the_library(tmp_path: Path) -> None:
    path = stepped_sample_with_huge_losses(tmp_path)
    [result] = losscli.classify([path], jobs=1).results
    assert result.verdict == "stepped"
    assert any("30 train-loss values left out" in w for w in result.warnings)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e308, -1e308, 1e200])
def test_bad_values_inside_a_staircase_change_nothing(bad: float) -> None:
    run = make_run(Curve(drop=0.3, noise=0.05, epochs=5, seed=3))
    clean = analyze(run)
    damaged = analyze(with_values(run, TRAIN_LOSS, [10, 60, 61, 62, 160], bad))
    assert damaged.verdict == clean.verdict == "stepped"
    assert [b.stepped for b in damaged.boundaries] == [b.stepped for b in clean.boundaries]
    assert damaged.points == clean.points - 5
    [warning] = damaged.warnings
    assert "5 train-loss values left out" in warning and "the first at step 11" in warning
    assert ("NaN or infinite" in warning) == (not math.isfinite(bad))


def test_large_but_real_losses_are_kept() -> None:
    # a loss that starts at 1e4 (an unnormalised regression) and falls is a curve, not broken values
    run = make_run(Curve(decay=9999.0, start=10000.0, tau=0.3, noise=0.5, seed=1))
    a = analyze(run)
    assert a.points == 200 and a.warnings == ()


def test_a_run_whose_boundaries_all_lost_their_points_is_inconclusive_not_smooth() -> None:
    # Two usable points an epoch: no boundary can be measured, so nothing is called smooth.
    run = make_run(Curve(drop=0.3, noise=0.05, epochs=4, per_epoch=50))
    broken = [i for i in range(200) if i % 50 not in (20, 30)]
    a = analyze(with_values(run, TRAIN_LOSS, broken, math.inf))
    assert a.verdict == "inconclusive"
    assert a.boundaries == ()
    assert a.reason == "no epoch boundary could be measured once 192 values that are not measurements were left out"
    assert a.warnings == (
        "synthetic: 192 train-loss values left out of the analysis (192 NaN or infinite), the first at step 1",
    )


def test_a_boundary_that_lost_its_points_is_missing_evidence_not_a_veto() -> None:
    # A hole of broken values around the epoch 2 boundary takes the sides of boundaries 1 to 3 (each side is a
    # whole epoch); boundary 4 steps on its own, and the run is stepped, not smooth.
    run = make_run(Curve(drop=0.3, noise=0.05, epochs=5, per_epoch=50))
    a = analyze(with_values(run, TRAIN_LOSS, slice(55, 145), math.nan))
    assert a.verdict == "stepped"
    assert [(b.epoch, b.stepped) for b in a.boundaries] == [(4, True)]
    assert "the epoch 1, 2 and 3 boundaries could not be measured: values around them were left out" in a.notes


def test_broken_eval_values_are_left_out_of_the_eval_finding() -> None:
    run = make_run(Curve(drop=0.3, noise=0.05))
    cols = run.columns()
    steps = np.array([50, 100, 150, 200])
    evals = make_columns(
        np.r_[cols.metric, [EVAL_LOSS] * 4],
        np.r_[cols.tag, ["eval_loss"] * 4],
        np.r_[cols.step, steps],
        np.r_[cols.epoch, steps / 50],
        np.r_[cols.value, [1.9, 1.8, 1e308, 1.7]],
        np.r_[cols.wall_time, np.full(4, np.nan)],
    )
    a = analyze(Run("r", Path("r"), "synthetic", evals))
    assert a.eval is not None
    assert a.eval.points == 3 and a.eval.best_value == 1.7 and a.eval.last_value == 1.7 and not a.eval.rises
    assert any("1 eval-loss values left out" in w and "step 150" in w for w in a.warnings)


def test_settings_decide_what_is_absurd() -> None:
    run = with_values(make_run(Curve(drop=0.3, noise=0.05)), TRAIN_LOSS, [5], 500.0)
    assert analyze(run).warnings == ()
    assert "1 train-loss values left out" in analyze(run, settings=Settings(max_deviation=100)).warnings[0]
