"""Where boundaries come from: the log's own epochs always win over `--steps-per-epoch`, which is for logs without
epoch information; where it does override what a log records, the result says so loudly."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_LOGS
from synthetic import Curve, make_run

import losscli
from losscli.analysis import Settings, analyze
from losscli.frame import EPOCH, TRAIN_LOSS, Run, make_columns


def summary(run: Run, settings: Settings | None = None) -> tuple:
    a = analyze(run, settings=settings)
    return a.verdict, a.boundary_source, a.steps_per_epoch, [(b.epoch, b.step, b.stepped) for b in a.boundaries]


@pytest.mark.parametrize("given", [7.0, 33.0, 50.0, 1000.0])
def test_logged_epochs_keep_their_boundaries_and_verdict(given: float) -> None:
    for curve in (Curve(drop=0.3, noise=0.05), Curve(slope=0.3, noise=0.05)):
        run = make_run(curve)
        a = analyze(run, settings=Settings(steps_per_epoch=given))
        assert summary(run, Settings(steps_per_epoch=given)) == summary(run)
        assert a.boundary_source == "logged epoch values" and a.warnings == ()
        told = [n for n in a.notes if n.startswith("--steps-per-epoch")]
        if given == 50.0:
            assert told == []  # the same as the log's: nothing to say
        else:
            assert told == [f"--steps-per-epoch {given:g} not used: the log states its epochs (50 steps each)"]


def test_a_real_run_keeps_the_boundaries_its_log_states() -> None:
    path = SAMPLE_LOGS / "hf-stepped" / "trainer_state.json"
    [plain] = losscli.classify([path], jobs=1).results
    [given] = losscli.classify([path], settings=Settings(steps_per_epoch=7), jobs=1).results
    assert plain.analysis is not None and given.analysis is not None
    assert given.verdict == plain.verdict == "stepped"
    assert given.analysis.boundaries == plain.analysis.boundaries
    assert given.analysis.steps_per_epoch == 20
    assert "--steps-per-epoch 7 not used: the log states its epochs (20 steps each)" in given.analysis.notes


def test_where_it_overrides_recorded_epochs_it_warns() -> None:
    # A loop that logs the epoch index but never advanced it (every row says epoch 0): the log records epochs
    # that place no boundary. The user's value places them, and the result says loudly that it overrode the log.
    c = Curve(drop=0.3, noise=0.05, per_epoch=40)
    run = make_run(c, with_epochs=False)
    cols = run.columns()
    n = len(cols)
    stuck = make_columns(
        np.r_[cols.metric, [EPOCH] * n],
        np.r_[cols.tag, ["epoch"] * n],
        np.r_[cols.step, cols.step],
        np.zeros(2 * n),
        np.r_[cols.value, np.zeros(n)],
        np.full(2 * n, np.nan),
    )
    run = Run("stuck", run.path, run.format, stuck)
    assert analyze(run).boundary_source == "inferred from recurring drops"
    a = analyze(run, settings=Settings(steps_per_epoch=40))
    assert a.verdict == "stepped" and a.boundary_source == "--steps-per-epoch"
    assert a.warnings == (
        "synthetic: --steps-per-epoch 40 overrides the epochs the log records (they place no boundary); "
        "check that it is right",
    )


def test_without_epoch_information_it_is_used_silently() -> None:
    run = make_run(Curve(drop=0.3, noise=0.05, per_epoch=40), with_epochs=False)
    a = analyze(run, settings=Settings(steps_per_epoch=40))
    assert a.verdict == "stepped" and a.boundary_source == "--steps-per-epoch"
    assert a.warnings == () and not any("steps-per-epoch" in n for n in a.notes)


def test_train_loss_without_epochs_in_a_run_that_has_them() -> None:
    # the epoch column of other metrics (the Trainer logs epoch on every row) places the train loss's boundaries
    run = make_run(Curve(drop=0.3, noise=0.05))
    cols = run.columns()
    keep = cols.metric == EPOCH
    epochs_elsewhere = make_columns(
        cols.metric,
        cols.tag,
        cols.step,
        np.where(keep, cols.epoch, np.nan),
        cols.value,
        cols.wall_time,
    )
    a = analyze(Run("r", run.path, run.format, epochs_elsewhere), settings=Settings(steps_per_epoch=7))
    assert a.boundary_source == "logged epoch values" and a.steps_per_epoch == 50
    assert a.verdict == "stepped"
    assert TRAIN_LOSS in set(cols.metric)
