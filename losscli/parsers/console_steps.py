"""The step of each dict the HF Trainer printed, which the dicts themselves do not carry.

The Trainer prints a train dict every `logging_steps` steps and its `epoch` is `step / steps_per_epoch` (printed to
4 significant digits by transformers 5, 2 decimals by 4.x). So once the steps of an epoch are known, each dict's
step is its epoch times that, snapped to a multiple of `logging_steps`: the step of the first log that is not at
step 1 (`logging_first_step`) is a multiple of it, and rounding the printed epoch moves a step by less than half of
it. The length of an epoch comes, in this order of trust, from

1. the planned steps over the epochs they cover: the steps are the banner's `Total optimization steps = N`, else
   the closing summary's `train_steps_per_second × train_runtime` (both computed by the Trainer from `max_steps`),
   else the total of the training progress bar (`37/100`); the epochs are the summary's `epoch` (exact progress at
   the end), else the banner's `Num Epochs`;
2. nothing: then the steps are the count of train dicts printed (1, 2, 3, ...), that is steps in units of
   `logging_steps`, which the analysis can use since epochs are read from the dicts themselves.

An eval dict printed right after a train dict of the same epoch is at that dict's step (the Trainer evaluates
after logging, at the same step); another at its epoch times the epoch length. Each run says in a note how its
steps were found. A dict that prints `step` or `global_step` itself is at that step.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from losscli.parsers.records import usable_step

TRAIN, EVAL = "train", "eval"
_EXPLICIT = ("step", "global_step")


@dataclass(frozen=True)
class Entry:
    """One dict the Trainer printed: a train or an evaluation log call, without its step."""

    kind: str  # TRAIN or EVAL
    values: dict[str, float | None]

    @property
    def epoch(self) -> float | None:
        value = self.values.get("epoch")
        return value if value is not None and math.isfinite(value) else None


@dataclass
class Clock:
    """Each entry's step, and what was learnt about the run on the way."""

    steps: list[int]
    note: str
    steps_per_epoch: float | None = None
    logging_steps: int | None = None
    max_steps: int | None = None


@dataclass(frozen=True)
class Plan:
    """What the log says about the length of the run (module docstring)."""

    banner_steps: int | None = None
    banner_epochs: float | None = None
    summary: dict[str, float | None] | None = None
    bar_total: int | None = None

    def max_steps(self) -> tuple[int | None, str]:
        if self.banner_steps:
            return self.banner_steps, "the banner's `Total optimization steps`"
        summary = self.summary or {}
        rate, runtime = summary.get("train_steps_per_second"), summary.get("train_runtime")
        if rate and runtime and rate > 0 and runtime > 0 and math.isfinite(rate * runtime):
            return round(rate * runtime), "the closing summary (steps per second × runtime)"
        if self.bar_total:
            return self.bar_total, "the training progress bar's total"
        return None, ""

    def epochs(self) -> float | None:
        end = (self.summary or {}).get("epoch")
        if end is not None and math.isfinite(end) and end > 0:
            return end
        return self.banner_epochs if self.banner_epochs and self.banner_epochs > 0 else None


def assign_steps(entries: list[Entry], plan: Plan) -> Clock:
    """The step of every entry, in order (module docstring)."""
    explicit = [_explicit(e) for e in entries]
    if entries and all(step is not None for step in explicit):
        return Clock([s for s in explicit if s is not None], "steps as the printed dicts give them")
    max_steps, source = plan.max_steps()
    epochs = plan.epochs()
    train = [e.epoch for e in entries if e.kind == TRAIN and e.epoch is not None]
    if max_steps and epochs and train:
        per_epoch = max_steps / epochs
        if max(train) * per_epoch <= max_steps * 1.01 + 1:  # else the plan is not this run's (a second training)
            return _from_epochs(entries, per_epoch, max_steps, source)
    return _counted(entries, max_steps)


def _explicit(entry: Entry) -> int | None:
    for key in _EXPLICIT:
        step = usable_step(entry.values.get(key))
        if step is not None:
            return step
    return None


def _from_epochs(entries: list[Entry], per_epoch: float, max_steps: int | None, source: str) -> Clock:
    train = [e.epoch for e in entries if e.kind == TRAIN and e.epoch is not None]
    gaps = [b - a for a, b in zip(train, train[1:]) if b > a]
    every = max(1, round(statistics.median(gaps) * per_epoch)) if gaps else 1
    steps: list[int] = []
    last: Entry | None = None
    for entry in entries:
        epoch = entry.epoch
        if entry.kind == EVAL and last is not None and last.epoch == epoch:
            steps.append(steps[-1])  # evaluated right after the train log at that step
        elif epoch is None:
            steps.append((steps[-1] if steps else 0) + (every if entry.kind == TRAIN else 0))
        else:
            exact = epoch * per_epoch
            multiple = round(exact / every) * every
            steps.append(multiple if entry.kind == TRAIN and multiple >= 1 else max(round(exact), 1 if steps else 0))
        last = entry
    note = (
        f"the printed dicts carry no step: each is at its epoch × {per_epoch:g} steps per epoch ({max_steps} steps "
        f"from {source}), snapped to logging_steps {every}"
    )
    return Clock(steps, note, per_epoch, every, max_steps)


def _counted(entries: list[Entry], max_steps: int | None) -> Clock:
    steps: list[int] = []
    count = 0
    for entry in entries:
        if entry.kind == TRAIN:
            count += 1
        steps.append(count)
    note = (
        "the printed dicts carry no step and the log does not say how long an epoch is: the steps are the count "
        "of train logs printed (1, 2, 3, ...), in units of the run's logging_steps; epochs are as printed"
    )
    return Clock(steps, note, max_steps=max_steps)
