"""Explain: the one-line reason, the notes and the warnings, in words, from what was measured and decided.

Nothing is measured or decided here; every number in a sentence is a field of the records.
"""

from __future__ import annotations

from dataclasses import dataclass

from losscli.analysis import measure as m
from losscli.analysis.decide import Decision
from losscli.analysis.result import Boundary
from losscli.analysis.settings import Settings
from losscli.analysis.values import Usable
from losscli.verdicts import STEPPED


@dataclass(frozen=True)
class Explanation:
    """Why the verdict is what it is, in words for a person: the reason, notes and warnings of a result."""

    reason: str
    notes: tuple[str, ...]
    warnings: tuple[str, ...]


def explain(measured: m.Measured, *, decision: Decision, settings: Settings) -> Explanation:
    if measured.problem is not None:
        reason = _inconclusive_reason(measured)
    elif decision.verdict == STEPPED:
        reason = _stepped_reason(decision)
    else:
        reason = _smooth_reason(decision.boundaries, measured.placebo, settings)
    return Explanation(reason, tuple(_notes(measured, decision, settings)), tuple(_warnings(measured, settings)))


def _inconclusive_reason(measured: m.Measured) -> str:
    n, lost = measured.points, measured.train.left_out
    if measured.problem == m.NO_TRAIN_LOSS:
        return f"no usable train loss: all {lost} values were left out" if lost else "no train loss logged"
    if measured.problem == m.FEW_POINTS:
        return f"only {n} train-loss points" + (f" ({lost} more left out)" if lost else "")
    if measured.problem == m.NO_EPOCHS:
        return (
            "no epoch information: no epoch values, no steps per epoch in the log, "
            "and no recurring drops (give --steps-per-epoch)"
        )
    if measured.problem == m.NOT_CROSSED:
        return "the run never crosses an epoch boundary (one epoch or less)"
    if measured.problem == m.NOT_MEASURABLE:
        return f"no epoch boundary could be measured once {lost} values that are not measurements were left out"
    per_epoch = n / max(measured.crossed + 1, 1)
    return f"too few points per epoch to measure a boundary (about {per_epoch:.0f})"


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _stepped_reason(decision: Decision) -> str:
    steps_found = [b for b in decision.boundaries if b.stepped]
    top = sorted(steps_found, key=lambda b: b.epoch)[:4]
    drops = _join([_fmt(b.drop) for b in top])
    where = _join([str(b.epoch) for b in top])
    zs = _join([f"{b.z:.0f}" if b.z >= 10 else f"{b.z:.1f}" for b in top])
    plural = "s" if len(top) > 1 else ""
    more = f" (+{len(steps_found) - len(top)} more)" if len(steps_found) > len(top) else ""
    late = decision.late_epoch_rise
    if late:
        inside = f"the loss climbs back late in epoch{'s' if len(late) > 1 else ''} {_join([str(e) for e in late])}"
    else:
        inside = "flat inside epochs" if all(b.share >= 0.8 for b in top) else "falling less inside epochs"
    return (
        f"drop{plural} of {drops} at the epoch {where} boundar{'ies' if plural else 'y'}{more} (z {zs}), "
        f"{inside}; {len(steps_found)} of {len(decision.boundaries)} boundaries step"
    )


def _smooth_reason(records: tuple[Boundary, ...], placebo: float, settings: Settings) -> str:
    largest = max(records, key=lambda b: b.drop)
    if largest.drop <= 0:
        detail = "the loss does not fall at any boundary"
    else:
        why = []
        if largest.t < settings.min_t:
            why.append(f"t {largest.t:.1f}")
        if largest.share < settings.min_share:
            why.append(f"only {largest.share:.0%} of the decrease at the boundary")
        if largest.z < settings.placebo_factor * placebo:
            why.append("no larger than mid-epoch changes")
        if largest.relative_drop < settings.min_relative_drop:
            why.append(f"only {largest.relative_drop:.1%} of the level")
        if not why:
            why.append(f"t {largest.t:.1f}, the only boundary of {len(records)} that drops")
        detail = f"largest drop {_fmt(largest.drop)} at epoch {largest.epoch} (z {largest.z:.1f}; {', '.join(why)})"
    n = len(records)
    return f"no concentrated drop at {n} epoch boundar{'ies' if n > 1 else 'y'}: {detail}"


def _notes(measured: m.Measured, decision: Decision, settings: Settings) -> list[str]:
    notes = []
    k = measured.train.bin_size
    if k > 1:
        notes.append(
            f"the train loss is averaged over every {k} consecutive points (as logging every {k} steps would): "
            f"{measured.points} points analysed"
        )
    if decision.from_levels and not measured.evidence:
        notes.append("few points per epoch: drops measured from a model of epoch levels, not per boundary")
    elif decision.from_levels:
        notes.append(
            f"the steps show in a whole-run model of epoch levels, which explains the curve better "
            f"than a smooth curve (by {measured.level_advantage:.0f} BIC units), not at single boundaries"
        )
    if measured.unmeasured and measured.train.left_out and measured.problem is None:
        epochs = _join([str(k) for k in measured.unmeasured])
        which = "boundaries" if len(measured.unmeasured) > 1 else "boundary"
        notes.append(f"the epoch {epochs} {which} could not be measured: values around them were left out")
    if measured.user_steps == m.NOT_USED and measured.found is not None:
        notes.append(
            f"--steps-per-epoch {settings.steps_per_epoch:g} not used: the log states its epochs "
            f"({measured.found.steps_per_epoch:g} steps each)"
        )
    return notes


def _warnings(measured: m.Measured, settings: Settings) -> list[str]:
    warnings = [
        w
        for w in (
            _left_out(measured.where, "train-loss", measured.train, settings),
            _left_out(measured.where, "eval-loss", measured.eval_points, settings),
        )
        if w
    ]
    if measured.user_steps == m.OVERRIDES:
        warnings.append(
            f"{measured.where}: --steps-per-epoch {settings.steps_per_epoch:g} overrides the epochs the log "
            "records (they place no boundary); check that it is right"
        )
    return warnings


def _left_out(where: str, what: str, points: Usable | None, settings: Settings) -> str | None:
    if points is None or not points.left_out:
        return None
    kinds = []
    if points.non_finite:
        kinds.append(f"{points.non_finite} NaN or infinite")
    if points.stand_ins:
        kinds.append(f"{points.stand_ins} logged as 0.0 by the Trainer's NaN filter in place of NaN")
    if points.absurd:
        kinds.append(f"{points.absurd} absurdly large, beyond {settings.max_deviation:g} times the curve's scale")
    return (
        f"{where}: {points.left_out} {what} values left out of the analysis ({_join(kinds)}), "
        f"the first at step {points.first_left_out}"
    )
