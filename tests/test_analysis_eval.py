"""The eval finding for every run with eval loss, whatever the verdict; memorization only when the eval rise starts
with the steps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from synthetic import Curve, make_run

import losscli
from losscli.analysis import analyze
from losscli.frame import EVAL_LOSS, TRAIN_LOSS, Run, make_columns

EVAL_STEPS = [25, 50, 75, 100, 125, 150, 175, 200]


def with_eval(run: Run, steps: list[int], values: list[float], checkpoints: list[int] | None = None) -> Run:
    cols = run.columns()
    n = len(steps)
    joined = make_columns(
        np.r_[cols.metric, [EVAL_LOSS] * n],
        np.r_[cols.tag, ["eval_loss"] * n],
        np.r_[cols.step, steps],
        np.r_[cols.epoch, np.full(n, np.nan)],
        np.r_[cols.value, values],
        np.r_[cols.wall_time, np.full(n, np.nan)],
    )
    meta = {**run.meta, "checkpoints": checkpoints or []}
    return Run(run.name, run.path, run.format, joined, meta=meta)


def train_only(steps: np.ndarray, values: np.ndarray, epochs: np.ndarray | None = None) -> Run:
    n = len(steps)
    epochs = np.full(n, np.nan) if epochs is None else epochs
    cols = make_columns([TRAIN_LOSS] * n, ["loss"] * n, steps, epochs, values, np.full(n, np.nan))
    return Run("r", Path("r"), "synthetic", cols)


RISING = [1.90, 1.85, 1.84, 1.86, 1.90, 1.95, 2.00, 2.05]  # lowest at step 75
RUNS = {
    "no train loss": train_only(np.array([], dtype=int), np.array([])),
    "only 5 train-loss points": train_only(np.arange(1, 6), np.linspace(2, 1, 5)),
    "no epoch information": make_run(Curve(slope=0.3, noise=0.05), with_epochs=False),
    "never crosses a boundary": make_run(Curve(epochs=0.9, slope=0.3)),
    "too few points per epoch": make_run(Curve(per_epoch=1, epochs=12, drop=0.3)),
    # every train step logged as 0 and no epochs: the search for an epoch length divided by a zero interval and
    # the analysis failed, taking the eval finding with it
    "every step logged as 0": train_only(np.zeros(60, dtype=int), np.linspace(2, 1, 60)),
    "train values all broken": train_only(np.arange(1, 61), np.full(60, math.nan), np.arange(1, 61) / 20),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_an_inconclusive_run_still_gets_its_eval_finding(name: str) -> None:
    a = analyze(with_eval(RUNS[name], EVAL_STEPS, RISING, checkpoints=[50, 100, 150, 200]))
    assert a.verdict == "inconclusive"
    assert a.eval is not None
    assert (a.eval.points, a.eval.best_step, a.eval.best_value, a.eval.last_value) == (8, 75, 1.84, 2.05)
    assert a.eval.best_checkpoint == "checkpoint-50"  # the nearest saved checkpoint (ties go to the earlier)
    assert a.eval.rises
    assert not a.memorization


def test_a_real_one_epoch_run_gets_its_best_checkpoint() -> None:
    [run] = losscli.load("benchmarks/eval_runs/gen-markov-1ep")
    a = analyze(run)
    assert a.verdict == "inconclusive" and "never crosses" in a.reason
    assert a.eval is not None and a.eval.best_step == 128 and a.eval.best_checkpoint == "checkpoint-128"


STAIRCASE = Curve(drop=0.3, noise=0.05, epochs=4, per_epoch=50)  # boundaries at steps 50, 100, 150


def test_memorization_when_the_eval_rise_starts_at_the_first_step() -> None:
    # eval lowest at step 50, the first (stepped) boundary, then rising: the memorization pattern
    values = [1.90, 1.80, 1.85, 1.90, 1.95, 2.00, 2.05, 2.10]
    a = analyze(with_eval(make_run(STAIRCASE), EVAL_STEPS, values))
    assert a.verdict == "stepped" and a.boundaries[0].stepped
    assert a.eval is not None and a.eval.rises and a.eval.best_step == 50
    assert a.memorization


def test_no_memorization_when_the_eval_rise_starts_before_the_steps() -> None:
    # eval lowest at step 25, in the middle of epoch 1, rising from there: the rise began before the train loss
    # stepped down at all (step 50), so it is not the memorization pattern
    values = [1.80, 1.85, 1.86, 1.90, 1.95, 2.00, 2.05, 2.10]
    a = analyze(with_eval(make_run(STAIRCASE), EVAL_STEPS, values))
    assert a.verdict == "stepped"
    assert a.eval is not None and a.eval.rises and a.eval.best_step == 25
    assert not a.memorization


def test_no_memorization_without_a_step() -> None:
    values = [1.90, 1.80, 1.85, 1.90, 1.95, 2.00, 2.05, 2.10]
    a = analyze(with_eval(make_run(Curve(slope=0.3, noise=0.05)), EVAL_STEPS, values))
    assert a.verdict == "smooth" and a.eval is not None and a.eval.rises
    assert not a.memorization
