"""Which logged column is the train loss (and the eval loss, learning rate, grad norm, epoch): one rule for every
reader.

Frameworks give one quantity many names (`loss`, `train_loss`, `train/loss`, `train_loss_step`, ...), so a
canonical name may be claimed by several columns of one log: Lightning's `loss` beside `train_loss`, or
`train_loss_step` beside `train_loss_epoch`; nanoGPT's `train/loss`, logged only at evaluations, beside its
per-iteration `train/step_loss`. Mixing two such columns into one curve would read as one metric logged twice at
every step, which is what a resumed run looks like. So `name_metrics` gives each canonical name to ONE column, by
this rule, in order:

1. a per-step series beats a per-epoch aggregate (a name that says `epoch`: `train_loss_epoch`, `epoch_loss`);
2. the denser series beats the sparser (more points);
3. the more explicit spelling beats the others: the canonical name itself, then the order of the aliases below
   (`train_loss` before a bare `loss`);
4. the column logged first.

The other columns keep their logged names (a logged name that is the canonical name itself gets a suffix saying why
it lost, e.g. `train/loss (sparser)`), and each decision is a note on the run. Summary values that look like
curves (`train/train_loss`, the Trainer's mean over the whole run) are deliberately not aliases, so they never
compete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from losscli.frame import EPOCH, EVAL_LOSS, GRAD_NORM, LEARNING_RATE, TRAIN_LOSS

_ALIASES: dict[str, str] = {}
_PREFERENCE: dict[str, int] = {}  # the position of an alias in its list: lower is more explicit


def _alias(canonical: str, *names: str) -> None:
    for position, name in enumerate((canonical, *names)):
        _ALIASES[name] = canonical
        _PREFERENCE.setdefault(name, position)


_alias(
    TRAIN_LOSS,
    "train_loss",
    "training_loss",
    "training/loss",
    "train/step_loss",
    "train_loss_step",
    "train/loss_step",
    "loss/train",
    "losses/train",
    "train-loss",
    "trainloss",
    "train/batch_loss",
    "batch_loss",
    "loss",
    "train/epoch_loss",
    "epoch_loss",
    "train_loss_epoch",
    "train/loss_epoch",
)
_alias(
    EVAL_LOSS,
    "eval_loss",
    "val/loss",
    "val_loss",
    "valid/loss",
    "valid_loss",
    "validation/loss",
    "validation_loss",
    "loss/val",
    "loss/valid",
    "loss/eval",
    "loss/validation",
    "losses/val",
    "eval-loss",
    "val-loss",
    "test/loss",
    "test_loss",
    "validation/epoch_loss",
    "eval/epoch_loss",
    "val_loss_epoch",
)
_alias(LEARNING_RATE, "learning_rate", "train/lr", "lr", "learning-rate", "train_lr")
_alias(GRAD_NORM, "grad_norm", "gradient_norm", "train/gradient_norm")
_alias(EPOCH, "epoch")

_LIGHTNING_LR = re.compile(r"^lr-[\w.]+$")  # LearningRateMonitor: `lr-AdamW`, `lr-SGD/pg1`
_PER_EPOCH = re.compile(r"(^|[/_\-.])epoch[_\-]|[_\-]epoch$")
SUFFIXES = {"per_epoch": " (per epoch)", "sparser": " (sparser)", "spelling": " (other spelling)"}


def canonical_metric(tag: str) -> str:
    """The canonical name for a logged tag, or the tag itself when it is not one the analyzer uses."""
    key = tag.strip().lower()
    found = _ALIASES.get(key)
    if found is not None:
        return found
    if _LIGHTNING_LR.match(key):
        return LEARNING_RATE
    return tag


def aliases(canonical: str) -> tuple[str, ...]:
    """Every usual name of a canonical metric (itself first), as the rule above knows them."""
    return tuple(name for name, metric in _ALIASES.items() if metric == canonical)


def is_per_epoch(tag: str) -> bool:
    """Whether a name says it is an aggregate over an epoch (`train_loss_epoch`, `epoch_loss`), not a step."""
    return canonical_metric(tag) != EPOCH and bool(_PER_EPOCH.search(tag.strip().lower()))


@dataclass(frozen=True)
class Naming:
    """Each column's metric, in the order the columns were given, and a note for each decided collision."""

    metrics: list[str]
    notes: list[str] = field(default_factory=list)


def name_metrics(tags: Sequence[str], *, points: Sequence[int]) -> Naming:
    """The metric of each logged column (`tags`, with `points` points each), by the rule in the module docstring."""
    metrics = [canonical_metric(t) for t in tags]
    claimants: dict[str, list[int]] = {}
    for i, metric in enumerate(metrics):
        if metric != tags[i] or metric in _ALIASES:
            claimants.setdefault(metric, []).append(i)
    notes: list[str] = []
    for canonical, found in claimants.items():
        if len(found) < 2:
            continue

        def rank(i: int) -> tuple[bool, int, int, int]:
            return (is_per_epoch(tags[i]), -int(points[i]), _preference(tags[i]), i)

        winner = min(found, key=rank)
        for i in found:
            if i == winner:
                continue
            reason = _why(rank(i), rank(winner))
            metrics[i] = tags[i] + SUFFIXES[reason] if tags[i] == canonical else tags[i]
        losers = ", ".join(f"`{tags[i]}` ({int(points[i])})" for i in found if i != winner)
        notes.append(
            f"`{tags[winner]}` ({int(points[winner])} points) is taken as {canonical}; {losers} "
            f"{'keeps its' if len(found) == 2 else 'keep their'} own name (one column per metric: per step before "
            "per epoch, then denser, then the more explicit name)"
        )
    return Naming(metrics, notes)


def _preference(tag: str) -> int:
    key = tag.strip().lower()
    return _PREFERENCE.get(key, len(_PREFERENCE))


def _why(loser: tuple[bool, int, int, int], winner: tuple[bool, int, int, int]) -> str:
    if loser[0] != winner[0]:
        return "per_epoch"
    if loser[1] != winner[1]:
        return "sparser"
    return "spelling"


WIDE_TABLE = 256  # columns: wider tables are read for the columns the analysis and outputs need only


def columns_to_read(names: Sequence[str], *, always: Sequence[str] = ()) -> list[str]:
    """The columns of a table to read: all of them up to `WIDE_TABLE`; of a wider one (a log of thousands of
    per-class metrics), only `always` (step, epoch, time) and those the analysis, the outputs and the naming rule
    use: every name of a canonical metric, and every loss."""
    if len(names) <= WIDE_TABLE:
        return list(names)
    return [n for n in names if n in always or needed_column(n)]


def needed_column(name: str) -> bool:
    """Whether a column is one the analysis, the outputs or the naming rule use (a canonical metric's name,
    or a loss)."""
    return canonical_metric(name) != name or name.strip().lower() in _ALIASES or "loss" in name.lower()


def unread_note(total: int, *, read: int) -> list[str]:
    """The note a run gets when columns of a wide table were left unread."""
    if read >= total:
        return []
    return [
        f"{total - read} of the table's {total} columns were not read: of a table wider than {WIDE_TABLE} "
        "columns only the losses, learning rate, grad norm, epoch and step are read"
    ]
