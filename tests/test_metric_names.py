"""One rule for which logged column is the train loss (and eval loss, ...), whatever the reader.

Real files: Lightning 2.6.6 CSVLogger logs in tests/data/lightning-two-losses (scripts/make_parser_fixtures.py),
the nanoGPT W&B history of tests/data/wandb/corpus; TensorBoard files written at test time by tensorboardX.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter

import losscli
from losscli.frame import EVAL_LOSS, TRAIN_LOSS
from losscli.metric_names import WIDE_TABLE, canonical_metric, name_metrics

LIGHTNING = Path(__file__).resolve().parent / "data" / "lightning-two-losses"


def column(path: Path, name: str) -> list[tuple[int, float]]:
    with path.open() as handle:
        return [(int(r["step"]), float(r[name])) for r in csv.DictReader(handle) if r[name]]


@pytest.mark.parametrize(
    ("tags", "points", "expected"),
    [
        # per step before per epoch, even when the per-epoch name is the canonical one
        (["train_loss_epoch", "train_loss_step"], [4, 100], ["train_loss_epoch", "train/loss"]),
        (["train/loss_epoch", "train/loss"], [50, 10], ["train/loss_epoch", "train/loss"]),
        # denser before sparser, and a canonical name that loses says why
        (["train/loss", "train/step_loss"], [21, 501], ["train/loss (sparser)", "train/loss"]),
        # on a tie, the more explicit name; then the first
        (["loss", "train_loss"], [200, 200], ["loss", "train/loss"]),
        (["val_loss", "eval_loss"], [4, 4], ["val_loss", "eval/loss"]),
        (["Loss/train", "loss/train"], [3, 3], ["train/loss", "loss/train"]),
        # no collision: nothing renamed
        (
            ["loss", "val_loss", "lr", "accuracy"],
            [9, 3, 9, 3],
            [TRAIN_LOSS, EVAL_LOSS, "train/learning_rate", "accuracy"],
        ),
    ],
)
def test_one_column_per_canonical_name(tags: list[str], points: list[int], expected: list[str]) -> None:
    naming = name_metrics(tags, points=points)
    assert naming.metrics == expected
    collided = len({canonical_metric(t) for t in tags}) < len(tags)
    assert len(naming.notes) == (1 if collided else 0)


def test_lightning_loss_and_train_loss_are_two_curves_not_a_restart() -> None:
    path = LIGHTNING / "version_0" / "metrics.csv"
    [run] = losscli.load(path)
    assert run.warnings == []
    train = run.metric(TRAIN_LOSS)
    assert set(train["tag"]) == {"train_loss"}
    assert list(zip(train["step"], train["value"])) == column(path, "train_loss")
    other = run.metric("loss")
    assert list(zip(other["step"], other["value"])) == column(path, "loss")
    assert len(train) == len(other) == 100
    assert any(n.startswith("`train_loss` (100 points) is taken as train/loss; `loss` (100)") for n in run.notes)


def test_lightning_step_and_epoch_variants() -> None:
    path = LIGHTNING / "version_1" / "metrics.csv"
    [run] = losscli.load(path)
    assert run.warnings == []
    assert set(run.metric(TRAIN_LOSS)["tag"]) == {"train_loss_step"} and len(run.metric(TRAIN_LOSS)) == 100
    assert len(run.metric("train_loss_epoch")) == 4 and len(run.metric(EVAL_LOSS)) == 4


def test_tensorboard_applies_the_same_rule(tmp_path: Path) -> None:
    """`train/loss` logged every tenth step beside a per-step `train/step_loss`: the denser is the curve."""
    writer = SummaryWriter(str(tmp_path))
    for step in range(1, 101):
        writer.add_scalar("train/step_loss", 2.0 - step / 100, step)
        if step % 10 == 0:
            writer.add_scalar("train/loss", 1.0, step)
    writer.close()
    [run] = losscli.load(tmp_path)
    assert run.warnings == []
    assert len(run.metric(TRAIN_LOSS)) == 100 and set(run.metric(TRAIN_LOSS)["tag"]) == {"train/step_loss"}
    assert len(run.metric("train/loss (sparser)")) == 10


def test_a_wide_table_is_read_for_the_columns_that_are_used() -> None:
    """Lightning's CSVLogger with 300 more columns logged once an epoch: only the losses, step and epoch are read,
    and the run says so; the curves are those of the narrow log of the same training."""
    [wide] = losscli.load(LIGHTNING / "version_2" / "metrics.csv")
    [narrow] = losscli.load(LIGHTNING / "version_1" / "metrics.csv")
    header = (LIGHTNING / "version_2" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert len(header) > WIDE_TABLE
    assert set(wide.metrics()) == {TRAIN_LOSS, EVAL_LOSS, "train_loss_epoch"}
    assert wide.metric(TRAIN_LOSS).equals(narrow.metric(TRAIN_LOSS))
    assert any(n.startswith("300 of the table's 305 columns were not read") for n in wide.notes)
