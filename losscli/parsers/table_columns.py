"""Which column of a loss table is the step, the loss, the epoch and the eval loss.

A column is recognised by a usual name: the step as `step`, `steps`, `global_step`, `iteration`, `iter` (or
`train/global_step`, `trainer/global_step`); the losses, the learning rate and the epoch by the one naming rule
(`metric_names.canonical_metric`: `loss`, `train_loss`, `train/loss`, ..., `eval_loss`, `val_loss`, ...,
`lr`, `learning_rate`, `epoch`). A wall-clock column may be `wall_time` or `timestamp` (seconds). The user names
the others (`--step-col`, `--loss-col`, `--epoch-col`, `--eval-col`); a named column that the table does not have
is said in a note, and the usual names are used. When no step or no loss can be found, reading fails with one
error that lists the columns the table has, so that the right option can be given at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from losscli.errors import ParseError
from losscli.frame import EPOCH, EVAL_LOSS, TRAIN_LOSS
from losscli.metric_names import canonical_metric, columns_to_read
from losscli.parsers.base import ReadOptions

STEP_NAMES = ("step", "steps", "global_step", "iteration", "iter", "train/global_step", "trainer/global_step")
WALL_NAMES = ("wall_time", "timestamp")
OPTIONS = {"step": "--step-col", "loss": "--loss-col", "epoch": "--epoch-col", "eval": "--eval-col"}
_SHOWN = 40  # columns listed in the error


def _key(name: str) -> str:
    return name.strip().lower()


def usual_step(names: list[str]) -> str | None:
    """The first column named like a step."""
    return next((n for n in names if _key(n) in STEP_NAMES), None)


def has_loss(names: list[str]) -> bool:
    return any(canonical_metric(n) == TRAIN_LOSS for n in names)


def looks_like_loss_table(names: list[str], options: ReadOptions | None = None) -> bool:
    """A header with a step column and a loss column, by their usual names or the names the user gave."""
    chosen = options.chosen_columns() if options else {}
    step = chosen.get("step") in names or usual_step(names) is not None
    loss = chosen.get("loss") in names or has_loss(names)
    return step and loss


@dataclass
class Plan:
    """The role of each column of one table: the step, the epoch and wall time (not metrics), and the metrics
    (`name` per column: the canonical name for columns the user chose, else the column name itself, which the
    naming rule decides later)."""

    step: str
    epoch: str | None
    wall: str | None
    metrics: dict[str, str]  # column -> name
    fixed: frozenset[str]  # names the user chose a column for (the naming rule leaves them alone)
    notes: list[str] = field(default_factory=list)


def plan_columns(path: Path, names: list[str], options: ReadOptions) -> Plan:
    """The plan for a table with columns `names` (module docstring); a ParseError listing them when there is no
    step or no loss."""
    chosen = options.chosen_columns()
    notes = []
    for role, column in chosen.items():
        if column not in names:
            notes.append(f"{OPTIONS[role]} {column}: the table has no such column; the usual names were used")
    present = {role: column for role, column in chosen.items() if column in names}
    step = present.get("step") or usual_step(names)
    loss = present.get("loss")
    missing = [role for role, found in (("step", step), ("loss", loss or has_loss(names))) if not found]
    if missing or step is None:
        raise ParseError(path, _cannot_tell(names, missing, chosen))
    epoch = present.get("epoch") or next((n for n in names if canonical_metric(n) == EPOCH and n != step), None)
    wall = next((n for n in names if _key(n) in WALL_NAMES and n not in present.values()), None)
    always = [c for c in (step, epoch, wall, *present.values()) if c]
    metrics = {n: n for n in columns_to_read(names, always=always) if n and n not in (step, epoch, wall)}
    fixed = set()
    if loss is not None:
        metrics[loss] = TRAIN_LOSS
        fixed.add(TRAIN_LOSS)
    if present.get("eval"):
        metrics[present["eval"]] = EVAL_LOSS
        fixed.add(EVAL_LOSS)
    return Plan(step, epoch, wall, metrics, frozenset(fixed), notes)


def _cannot_tell(names: list[str], missing: list[str], chosen: dict[str, str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN]) + (f", ... ({len(names)} in all)" if len(names) > _SHOWN else "")
    flags = " and ".join(f"{OPTIONS[role]} NAME" for role in missing)
    given = "; given: " + ", ".join(f"{OPTIONS[r]} {c}" for r, c in chosen.items()) if chosen else ""
    return (
        f"cannot tell which column is the {' and which the '.join(missing)}: the table's columns are "
        f"{shown or '(none)'}; name {'it' if len(missing) == 1 else 'them'} with {flags} "
        f"(and --epoch-col, --eval-col){given}"
    )
