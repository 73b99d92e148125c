"""Explain the findings, causes and advice: one sentence each, from their own fields.

Nothing is measured or decided here; every number in a sentence is a field of the record it describes.
"""

from __future__ import annotations

from dataclasses import replace

from losscli.analysis.result import (
    Advice,
    Cause,
    DivergenceFinding,
    EvalDropsFinding,
    EvalRiseFinding,
    Finding,
    NanFinding,
    PlateauFinding,
    SpikeFinding,
    StepsBackwardsFinding,
)
from losscli.frame import TRAIN_LOSS

REMEDIES = (
    "against memorization: fewer epochs, more or deduplicated data, a lower learning rate, or more "
    "regularization (dropout, weight decay), with early stopping on the eval loss"
)


def _g(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "?"
    return f"{v:.{digits}g}" if abs(v) < 1e5 else f"{v:.3g}"


def _step(v: float | None) -> str:
    return "?" if v is None else f"{v:g}"


def _at(step: float | None, epoch: float | None) -> str:
    return f"step {_step(step)}" + (f" (epoch {epoch:g})" if epoch is not None else "")


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def with_messages(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The findings, each with its sentence."""
    return tuple(replace(f, message=finding_message(f)) for f in findings)


def finding_message(f: Finding) -> str:
    if isinstance(f, NanFinding):
        return _nan(f)
    if isinstance(f, DivergenceFinding):
        then = "then NaN" if f.ends_non_finite else "and does not come back"
        return (
            f"the loss diverges from {_at(f.step, f.epoch)}: it climbs from its lowest level {_g(f.lowest)} "
            f"(step {_step(f.lowest_step)}) to {_g(f.last)} at step {_step(f.last_step)}, {then}"
        )
    if isinstance(f, SpikeFinding):
        what = "the gradient norm" if f.metric != TRAIN_LOSS else "the loss"
        text = (
            f"spike at {_at(f.step, f.epoch)}: {what} jumps from {_g(f.base)} to {_g(f.value)} "
            f"(+{_g(f.height, 2)}, {f.z:.0f} noise widths) and recovers by step {_step(f.recovered_step)}"
        )
        if f.lr_factor is not None:
            text += f", the learning rate {_g(f.lr_factor, 2)} times its usual level just before"
        return text
    if isinstance(f, PlateauFinding):
        epochs = ""
        if f.epoch is not None and f.end_epoch is not None:
            epochs = f", {f.end_epoch - f.epoch:.2g} epochs"
        return (
            f"plateau from {_at(f.step, f.epoch)} to step {_step(f.end_step)}{epochs}: the loss stays near "
            f"{_g(f.value)} (it falls by {_g(f.change, 2)} there, after falling {_g(f.before, 2)} before)"
        )
    if isinstance(f, EvalRiseFinding):
        keep = f"; the checkpoint nearest it is {f.checkpoint}" if f.checkpoint else ""
        return (
            f"eval loss rises from its lowest {_g(f.value, 4)} at {_at(f.step, f.epoch)} "
            f"to {_g(f.last, 4)} at step {_step(f.last_step)}{keep}"
        )
    if isinstance(f, StepsBackwardsFinding):
        return _backwards(f)
    if isinstance(f, EvalDropsFinding):
        return _eval_drops(f)
    return f.kind


def _nan(f: NanFinding) -> str:
    parts = []
    if f.train:
        parts.append(f"{f.train} train loss{'es' if f.train > 1 else ''} NaN or infinite")
    if f.filtered:
        parts.append(
            f"{f.filtered} train loss{'es' if f.filtered > 1 else ''} logged as 0.0 by the Trainer's NaN filter "
            "(logging_nan_inf_filter) in place of NaN: the grad norm or the log around them says NaN"
        )
    if f.eval:
        parts.append(f"{f.eval} eval loss{'es' if f.eval > 1 else ''} NaN or infinite")
    return f"non-finite loss from {_at(f.step, f.epoch)}: " + "; ".join(parts)


def _backwards(f: StepsBackwardsFinding) -> str:
    if f.how == "started over":
        return (
            f"the log holds a second run: the step goes back from {_step(f.from_step)} to {_step(f.step)} "
            "and starts over; only the later run is analysed"
        )
    if f.how == "step count restarted":
        return (
            f"the step count starts again {_times(f.times)} while the epoch goes on (first from step "
            f"{_step(f.from_step)} to {_step(f.step)}): a step that counts batches within the epoch? Only the "
            "points after the last restart can be placed, so only they are analysed"
        )
    return (
        f"steps logged out of order {_times(f.times)} (step {_step(f.step)} after step {_step(f.from_step)}); "
        "the points are kept in step order"
    )


def _eval_drops(f: EvalDropsFinding) -> str:
    if f.timing == "boundaries":
        return (
            "evaluation runs at every epoch boundary, so timing cannot tell drops after evaluation from drops at "
            f"the boundaries; the eval loss falls by {_g(f.eval_change)} while the train loss falls by "
            f"{_g(f.train_change)} over the same evaluations, as when evaluation trains the model or the "
            "evaluation set is part of the training set"
        )
    return (
        f"the train loss drops right after {f.dropping} of {f.evaluations} evaluations away from the epoch "
        f"boundaries (by {_g(f.mean_drop)} on average), from {_at(f.step, f.epoch)}: is the model learning during "
        "evaluation?"
    )


def cause_message(c: Cause) -> str:
    e = dict(c.evidence)
    if c.kind == "memorization":
        where = f"epoch {e['best_epoch']:g}" if e.get("best_epoch") is not None else f"step {e['best_step']}"
        text = (
            f"memorization: the eval loss rises from its lowest {_g(e['best_loss'], 4)} at {where} to "
            f"{_g(e['last_loss'], 4)} while the train loss steps down at the boundaries"
        )
        if e.get("eval_at_boundaries"):
            text += (
                "; evaluation runs at every boundary, but an eval loss that rises is not what learning during "
                "evaluation gives"
            )
        return text
    if c.kind == "lr_restarts":
        return (
            f"learning-rate restarts: the learning rate starts again at {e['stepped_with_restart']} of the "
            f"{e['stepped_boundaries']} stepped boundaries"
        )
    if c.kind == "learning_during_eval":
        if e.get("timing") == "boundaries":
            return (
                "learning during evaluation suspected: evaluation runs at every boundary and the eval loss falls "
                f"with the train loss ({_g(e.get('eval_change'))} against {_g(e.get('train_change'))}); timing "
                "alone cannot tell"
            )
        return (
            f"learning during evaluation suspected: the train loss drops right after {e['dropping']} of "
            f"{e['evaluations']} evaluations away from the boundaries"
        )
    if c.kind == "resume_at_boundary":
        return (
            f"a resume at the boundary at step {_step(e['boundary_step'])} (the step goes back from "
            f"{e['from_step']} to {e['to_step']}): a resumed run that reloads or reorders its data can step there"
        )
    if c.kind == "no_reshuffle":
        return (
            f"data not reshuffled: {e['where']} sets {e['key']} = {e['value']}, so every epoch repeats the same order"
        )
    return c.kind


def causes_with_messages(causes: tuple[Cause, ...]) -> tuple[Cause, ...]:
    return tuple(replace(c, message=cause_message(c)) for c in causes)


def advice_message(a: Advice) -> str:
    if a.step is None:
        return (
            "no eval loss in the log: evaluate held-out data every epoch to tell memorization (an eval loss that "
            "rises while the train loss steps down) from learning"
        )
    where = a.checkpoint or f"the checkpoint nearest step {_step(a.step)}"
    epoch = f", epoch {a.epoch:g}" if a.epoch is not None else ""
    text = f"keep {where} (the lowest eval loss, at step {_step(a.step)}{epoch})"
    if a.epochs is not None:
        text += f"; {a.epochs} epoch{'s' if a.epochs != 1 else ''} of training would have kept it"
    if a.remedies:
        text += "; " + REMEDIES
    return text


def advice_with_message(a: Advice | None) -> Advice | None:
    return None if a is None else replace(a, message=advice_message(a))
