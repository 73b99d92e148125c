"""Frame-level checks every run gets (`losscli.log_checks`): an epoch count that starts again, negative values.

Logs are written at test time by tensorboardX's SummaryWriter, as a training loop logs (`train/loss` and
`train/epoch` at each step), or are committed real logs (tests/data/SOURCES.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthetic import Curve, sample
from tensorboardX import SummaryWriter

import losscli
from losscli.frame import EPOCH, TRAIN_LOSS

DATA = Path(__file__).resolve().parent / "data"


def write_loop(folder: Path, step: np.ndarray, epoch: np.ndarray, loss: np.ndarray) -> Path:
    """What a training loop logs with tensorboardX: the loss and the epoch at every step."""
    writer = SummaryWriter(str(folder))
    for s, e, y in zip(step.tolist(), epoch.tolist(), loss.tolist()):
        writer.add_scalar("train/loss", y, s, walltime=1_700_000_000.0 + s)
        writer.add_scalar("train/epoch", e, s, walltime=1_700_000_000.0 + s)
    writer.close()
    return folder


def evidence(analysis: losscli.analysis.result.Analysis) -> tuple:
    return (analysis.verdict, analysis.score, analysis.epochs, analysis.boundaries, analysis.steps_per_epoch)


def test_an_epoch_count_that_starts_again_is_continued(tmp_path: Path) -> None:
    """A script restarted from its checkpoint: the global step goes on, the epoch loop counts from 0 again. The
    verdict and every boundary's evidence are those of the same losses logged with the count going on."""
    step, epoch, loss = sample(Curve(per_epoch=64, epochs=5, drop=0.25, noise=0.03, seed=3))  # 1/64: exact floats
    step = step.astype(np.int64)
    again = np.where(epoch > 3, epoch - 3, epoch)  # the second start logs epochs 0.02, ... 2.0 again
    [plain] = losscli.load(write_loop(tmp_path / "plain", step, epoch, loss))
    [restarted] = losscli.load(write_loop(tmp_path / "restarted", step, again, loss))

    expected = losscli.analyze(plain)
    assert expected.verdict == "stepped" and len(expected.boundaries) == 4
    assert evidence(losscli.analyze(restarted)) == evidence(expected)
    assert np.array_equal(restarted.columns().epoch, plain.columns().epoch)
    [warning] = restarted.warnings
    assert "the epoch count starts again once while the steps go on (at step 193: epoch 3 then 0.015625" in warning
    assert warning.endswith("so epoch 0.015625 there is read as 3.01562")
    assert plain.warnings == []


def test_a_count_started_again_after_a_whole_run_stopped_mid_epoch(tmp_path: Path) -> None:
    """The first training stopped at epoch 2.5: the second one's epochs begin at the next whole epoch, 3."""
    step = np.arange(1, 161)
    epoch = np.r_[np.arange(1, 81) / 32, np.arange(1, 81) / 32]  # 2.5 epochs, then 2.5 epochs counted from 0
    loss = 2.0 - step / 200
    [run] = losscli.load(write_loop(tmp_path / "run", step, epoch, loss))
    series = run.series(TRAIN_LOSS)
    assert series.epoch[79] == 2.5 and series.epoch[80] == 3 + 1 / 32 and series.epoch[-1] == 5.5
    assert "epoch 2.5 then 0.03125" in run.warnings[0]


def test_a_wandb_loop_restarted_with_its_epoch_index_from_0() -> None:
    """A real W&B run (tests/data/wandb-epoch-reset): the 0-based epoch index logged 0, 1, then 0, 1 again while
    the step goes on. Read as epochs 0 to 3 with three boundaries, as the log says, not one."""
    [run] = losscli.load(DATA / "wandb-epoch-reset")
    analysis = losscli.analyze(run)
    assert [b.epoch for b in analysis.boundaries] == [1, 2, 3]
    assert [b.step for b in analysis.boundaries] == [8.5, 16.5, 24.5]
    assert "starts again once while the steps go on (at step 17: epoch 1 then 0;" in run.warnings[0]
    assert run.series(EPOCH).value.tolist() == [0.0] * 8 + [1.0] * 8 + [0.0] * 8 + [1.0] * 8  # logged, kept


def test_a_lone_stray_epoch_value_is_not_a_new_count(tmp_path: Path) -> None:
    step = np.arange(1, 101)
    epoch = step / 25
    epoch[40] = 55.0  # one damaged value far above the others
    [run] = losscli.load(write_loop(tmp_path / "run", step, epoch, 2.0 - step / 100))
    assert run.warnings == []
    assert np.array_equal(run.series(TRAIN_LOSS).epoch[42:], (step / 25)[42:].astype(np.float32))


def test_negative_epochs_and_steps_are_warned_about(tmp_path: Path) -> None:
    step = np.arange(-3, 40)
    [run] = losscli.load(write_loop(tmp_path / "run", step, step / 10, 2.0 - step / 100))
    assert len(run.warnings) == 2
    assert "6 points have a negative step (down to -3)" in run.warnings[0]
    assert "6 points have a negative epoch (the first at step -3: -0.3)" in run.warnings[1]
