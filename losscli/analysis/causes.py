"""Causes of a staircase, and the next step: what the logs show about where the steps come from, and what to do.

Only what the run holds is used, and every cause carries the numbers it rests on (`Cause.evidence`):

- `memorization`: the eval loss rises while the train loss steps down (decide.py's `memorization`), with the
  lowest eval loss and its epoch; evaluation at every boundary is noted, since timing then cannot tell a leak,
  but a rising eval loss is not what learning during evaluation gives.
- `lr_restarts`: the logged learning rate starts again (lr_schedule.py) within the boundary tolerance of at
  least `lr_restart_share` of the stepped boundaries.
- `learning_during_eval`: the train loss drops right after evaluations, or evaluation runs at every boundary and
  the eval loss falls with the train loss (the `drops_after_eval` finding).
- `resume_at_boundary`: the run was resumed (the restart rule's `resumed` falls, in the run's meta) at a stepped
  boundary.
- `no_reshuffle`: the configuration the reader found says the training data is not shuffled (a key with
  `shuffle` in its name set to false, or one that disables shuffling set to true).

`advise` gives the next step: where the eval loss rose, the checkpoint with the lowest eval loss and how many
epochs of training would have kept it, and the usual remedies when the run memorizes; for a stepped run with no
eval loss, to evaluate held-out data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from losscli.analysis.decide import Decision
from losscli.analysis.findings.context import Context
from losscli.analysis.result import Advice, Cause, EvalDropsFinding, Finding, LrSchedule
from losscli.analysis.settings import Settings
from losscli.frame import TRAIN_LOSS, ConfigSource
from losscli.restarts import RESUMED
from losscli.verdicts import STEPPED

_DEPTH = 4  # numerical: nested configuration levels searched for a shuffle key
_FALSE = frozenset({"false", "0", "no", "off"})
_TRUE = frozenset({"true", "1", "yes", "on"})


def find_causes(
    context: Context,
    *,
    decision: Decision,
    findings: tuple[Finding, ...],
    schedule: LrSchedule | None,
    configs: list[ConfigSource],
    settings: Settings,
) -> tuple[Cause, ...]:
    """The causes the logs show for a stepped run (none for other verdicts)."""
    if decision.verdict != STEPPED or not context.stepped:
        return ()
    causes = []
    evaluated_at_boundaries = all(_near(context.eval_steps, b, context.tolerance) for b in context.stepped)
    if decision.memorization and context.eval is not None:
        e = context.eval
        causes.append(
            Cause(
                "memorization",
                (
                    ("best_loss", e.best_value),
                    ("best_step", e.best_step),
                    ("best_epoch", e.best_epoch),
                    ("last_loss", e.last_value),
                    ("eval_at_boundaries", evaluated_at_boundaries),
                ),
            )
        )
    if schedule is not None and schedule.restarts:
        restarts = np.asarray(schedule.restarts)
        with_restart = sum(_near(restarts, b, context.tolerance) for b in context.stepped)
        if with_restart and with_restart >= settings.lr_restart_share * len(context.stepped):
            causes.append(
                Cause(
                    "lr_restarts",
                    (("stepped_with_restart", with_restart), ("stepped_boundaries", len(context.stepped))),
                )
            )
    causes.extend(
        Cause(
            "learning_during_eval",
            (
                ("timing", f.timing),
                ("evaluations", f.evaluations),
                ("dropping", f.dropping),
                ("eval_change", f.eval_change),
                ("train_change", f.train_change),
            ),
        )
        for f in findings
        if isinstance(f, EvalDropsFinding)
    )
    resumed = _resume_at_boundary(context)
    if resumed is not None:
        causes.append(Cause("resume_at_boundary", tuple(resumed.items())))
    for where, key, value in _no_shuffle(configs):
        causes.append(Cause("no_reshuffle", (("where", where), ("key", key), ("value", value))))
        break
    return tuple(causes)


def advise(context: Context, *, decision: Decision) -> Advice | None:
    """The next step for a run whose eval loss rose (any verdict), or a stepped run without eval loss."""
    e = context.eval
    if e is not None and e.rises:
        epochs = math.ceil(e.best_epoch - 1e-9) if e.best_epoch is not None and e.best_epoch > 0 else None
        remedies = decision.memorization or decision.verdict == STEPPED
        return Advice(e.best_checkpoint, float(e.best_step), e.best_epoch, epochs, remedies)
    if decision.verdict == STEPPED and e is None:
        return Advice(None, None, None, None, remedies=False)
    return None


def _near(steps: np.ndarray, at: float, tolerance: float) -> bool:
    return bool(len(steps)) and bool(np.min(np.abs(np.asarray(steps, dtype=np.float64) - at)) <= tolerance)


def _resume_at_boundary(context: Context) -> dict[str, Any] | None:
    listed = context.meta.get("step_falls")
    falls = [f for f in listed if isinstance(f, dict)] if isinstance(listed, list) else []
    resumes = [f for f in falls if f.get("kind") == RESUMED and isinstance(f.get("to_step"), int)]
    resumes = [f for f in resumes if f.get("metric") == TRAIN_LOSS] or resumes
    for f in resumes:
        for b in context.stepped:
            if abs(f["to_step"] - b) <= context.tolerance:
                return {"from_step": f["from_step"], "to_step": f["to_step"], "boundary_step": b}
    return None


def _no_shuffle(configs: list[ConfigSource]) -> Iterator[tuple[str, str, Any]]:
    """(where, key, value) of every setting that says the training data is not shuffled."""
    for source in configs:
        for key, value in _items(source.values, "", _DEPTH):
            name = key.lower().rsplit(".", 1)[-1]
            if "shuffle" not in name or "eval" in name or "val" in name.split("_") or "test" in name:
                continue
            flag = _flag(value)
            if flag is None:
                continue
            disables = name.startswith(("no_", "disable", "skip")) or "no_shuffle" in name
            if flag == disables:
                yield source.where, key, value


def _items(values: Any, prefix: str, depth: int) -> Iterator[tuple[str, Any]]:
    if not isinstance(values, dict) or depth <= 0:
        return
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if set(value) == {"value"} or "value" in value and "desc" in value:  # W&B's {"value": ...} records
                yield name, value["value"]
            else:
                yield from _items(value, name + ".", depth - 1)
        else:
            yield name, value


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FALSE | _TRUE:
        return value.strip().lower() in _TRUE
    return None
