"""Map the many names frameworks give the same quantity to the frame's canonical metric names.

The analyzer only needs train loss, eval loss, learning rate, grad norm and epoch; every other tag keeps its logged
name. Summary values that look like curves (`train/train_loss`, the Trainer's mean over the whole run) are
deliberately not mapped, so they never enter the curve.
"""

from __future__ import annotations

import re

from losscli.frame import EPOCH, EVAL_LOSS, GRAD_NORM, LEARNING_RATE, TRAIN_LOSS

_ALIASES: dict[str, str] = {}


def _alias(canonical: str, *names: str) -> None:
    for name in names:
        _ALIASES[name] = canonical


_alias(
    TRAIN_LOSS,
    "train/loss",
    "loss",
    "train_loss",
    "train_loss_step",
    "train/loss_step",
    "loss/train",
    "losses/train",
    "training_loss",
    "training/loss",
    "train/step_loss",
    "train/epoch_loss",
    "epoch_loss",
    "train-loss",
    "trainloss",
)
_alias(
    EVAL_LOSS,
    "eval/loss",
    "eval_loss",
    "val_loss",
    "val/loss",
    "valid_loss",
    "valid/loss",
    "validation_loss",
    "validation/loss",
    "validation/epoch_loss",
    "loss/val",
    "loss/valid",
    "loss/eval",
    "loss/validation",
    "losses/val",
    "test_loss",
    "test/loss",
    "eval-loss",
    "val-loss",
    "val_loss_epoch",
    "eval/epoch_loss",
)
_alias(LEARNING_RATE, "train/learning_rate", "learning_rate", "lr", "train/lr", "learning-rate", "train_lr")
_alias(GRAD_NORM, "train/grad_norm", "grad_norm", "gradient_norm", "train/gradient_norm")
_alias(EPOCH, "train/epoch", "epoch")

_LIGHTNING_LR = re.compile(r"^lr-[\w.]+$")


def canonical_metric(tag: str) -> str:
    """The canonical name for a logged tag, or the tag itself when it is not one the analyzer uses."""
    key = tag.strip().lower()
    found = _ALIASES.get(key)
    if found is not None:
        return found
    if _LIGHTNING_LR.match(key):
        return LEARNING_RATE
    return tag
