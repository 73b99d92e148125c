"""Judge one run: find its epoch boundaries, measure each, decide, and say why in one line."""

from __future__ import annotations

import math

import numpy as np

from losscli.analysis import boundaries as bounds
from losscli.analysis.epoch_levels import epoch_level_model
from losscli.analysis.eval_findings import eval_finding
from losscli.analysis.evidence import Measurement, measure, placebo_ts, settling, step_flags
from losscli.analysis.fits import fit_slope
from losscli.analysis.infer import infer_period
from losscli.analysis.result import INCONCLUSIVE, SMOOTH, STEPPED, Analysis, Boundary
from losscli.analysis.settings import Settings
from losscli.frame import EVAL_LOSS, TRAIN_LOSS, Run


def analyze(run: Run, settings: Settings | None = None) -> Analysis:
    """The verdict on `run`'s train-loss curve, with the evidence at every boundary and the eval-loss findings."""
    settings = settings or Settings()
    train = run.series(TRAIN_LOSS)
    steps = train.step.astype(np.float64)
    values = train.value
    ok = np.isfinite(values)
    dropped = int((~ok).sum())
    x, y = steps[ok], values[ok]
    notes = [f"{dropped} train-loss points were NaN or infinite and were left out"] if dropped else []

    all_epochs = run.columns().epoch
    known = all_epochs[np.isfinite(all_epochs)]
    epochs_covered = float(known.max()) if len(known) else None
    ev = run.series(EVAL_LOSS)
    finding = eval_finding(ev.step, ev.value, ev.epoch, run.meta) if len(ev) else None

    def result(
        verdict: str,
        reason: str,
        score: float = 0.0,
        found: bounds.Boundaries | None = None,
        measured: tuple[Boundary, ...] = (),
        late: tuple[int, ...] = (),
    ) -> Analysis:
        covered = found.covered if found is not None and found.covered is not None else epochs_covered
        if covered is None and found is not None and len(x):
            covered = float(x[-1] / found.steps_per_epoch)
        memorization = bool(verdict == STEPPED and finding is not None and finding.rises)
        return Analysis(
            verdict=verdict,
            score=round(float(score), 3),
            reason=reason,
            epochs=None if covered is None else round(covered, 3),
            points=len(x),
            boundary_source=found.source if found else None,
            steps_per_epoch=round(found.steps_per_epoch, 3) if found else None,
            boundaries=measured,
            eval=finding,
            memorization=memorization,
            late_epoch_rise=late,
            notes=tuple(notes),
        )

    if len(x) < 2 * settings.min_points_per_side:
        return result(INCONCLUSIVE, f"only {len(x)} train-loss points" if len(x) else "no train loss logged")

    found = _find_boundaries(run, x, y, settings)
    if found is None:
        return result(
            INCONCLUSIVE,
            "no epoch information: no epoch values, no steps per epoch in the log, "
            "and no recurring drops (give --steps-per-epoch)",
        )
    crossed = found.steps[(found.steps > x[0]) & (found.steps < x[-1])]
    if len(crossed) == 0:
        return result(INCONCLUSIVE, "the run never crosses an epoch boundary (one epoch or less)", found=found)

    epoch_len = found.steps_per_epoch
    interval = float(np.median(np.diff(x)))
    settle = settling(epoch_len, interval, settings)
    placebo = placebo_ts(x, y, crossed, epoch_len, settings, settle)
    placebo_level = float(np.sqrt(np.mean(np.square(np.maximum(placebo, 0.0))))) if len(placebo) >= 2 else 0.0
    first = found.first_epoch + int(np.flatnonzero(found.steps == crossed[0])[0])
    measured: list[tuple[int, Measurement]] = []
    for i, b in enumerate(crossed):
        m = measure(x, y, float(b), epoch_len, settings, settle=settle)
        if m is not None:
            measured.append((first + i, m))
    # The whole-run model of epoch levels: the only measurement when epochs have too few points for their own
    # fits, and a second test otherwise (it pools the slope inside epochs over the whole run).
    levels = (
        epoch_level_model(x, y, crossed, epoch_len, settle if measured else interval) if len(crossed) >= 2 else None
    )
    level_measured = [(first + int(np.flatnonzero(crossed == m.at)[0]), m) for m in levels.drops] if levels else []
    level_ok = levels is not None and levels.advantage >= settings.min_advantage
    if not measured and level_measured:
        measured, placebo_level = level_measured, 0.0
        notes.append("few points per epoch: drops measured from a model of epoch levels, not per boundary")
    if not measured:
        per_epoch = len(x) / max(len(crossed) + 1, 1)
        return result(
            INCONCLUSIVE,
            f"too few points per epoch to measure a boundary (about {per_epoch:.0f})",
            found=found,
        )

    flags = step_flags([m for _, m in measured], settings, placebo_level)
    from_levels = measured is level_measured
    if from_levels and not level_ok:
        flags = [False] * len(flags)
    elif not any(flags) and levels is not None and level_ok:
        level_flags = step_flags([m for _, m in level_measured], settings, 0.0)
        if any(level_flags):
            measured, flags, from_levels = level_measured, level_flags, True
            notes.append(
                f"the steps show in a whole-run model of epoch levels, which explains the curve better "
                f"than a smooth curve (by {levels.advantage:.0f} BIC units), not at single boundaries"
            )
    records = tuple(
        Boundary(
            epoch=k,
            step=round(m.at, 2),
            before=m.before,
            after=m.after,
            drop=m.drop,
            relative_drop=m.relative_drop,
            z=m.z,
            t=m.t,
            share=m.share,
            stepped=flag,
        )
        for (k, m), flag in zip(measured, flags)
    )
    steps_found = [b for b in records if b.stepped]
    is_stepped = bool(steps_found)
    late = _late_rises(x, y, records, epoch_len, settings) if is_stepped else ()
    score = _score(records, settings, is_stepped)
    if is_stepped:
        return result(STEPPED, _stepped_reason(steps_found, records, late), score, found, records, late)
    return result(SMOOTH, _smooth_reason(records, placebo_level, settings), score, found, records)


def _find_boundaries(run: Run, x: np.ndarray, y: np.ndarray, settings: Settings) -> bounds.Boundaries | None:
    cols = run.columns()
    found = bounds.from_epoch_values(cols.step, cols.epoch)
    if found is not None:
        return found
    per_epoch = bounds.steps_per_epoch_from_meta(run.meta)
    if per_epoch:
        return bounds.from_steps_per_epoch(per_epoch, float(x[-1]), bounds.FROM_META)
    if settings.steps_per_epoch:
        return bounds.from_steps_per_epoch(settings.steps_per_epoch, float(x[-1]), bounds.FROM_USER)
    period = infer_period(x, y, settings)
    if period:
        return bounds.from_steps_per_epoch(period, float(x[-1]), bounds.FROM_CURVE)
    return None


def _score(records: tuple[Boundary, ...], settings: Settings, stepped: bool) -> float:
    """0..1, how strongly stepped: the mean strength of the strongest third of the boundaries, placed in the
    upper half for a stepped run and the lower half otherwise, so that sorting by score sorts by verdict first."""
    strengths = sorted(
        (
            max(0.0, min(1.0, b.share)) * (1 - math.exp(-max(b.t, 0.0) / settings.min_t)) * min(1.0, max(b.z, 0.0))
            for b in records
        ),
        reverse=True,
    )
    top = strengths[: max(1, math.ceil(len(strengths) / 3))]
    strength = sum(top) / len(top)
    return 0.5 + 0.5 * strength if stepped else 0.5 * strength


def _late_rises(
    x: np.ndarray, y: np.ndarray, records: tuple[Boundary, ...], epoch_len: float, settings: Settings
) -> tuple[int, ...]:
    """Epochs in which the loss climbs back over their second half after a step down at their start."""
    rising = []
    for b in records:
        if not b.stepped:
            continue
        mask = (x > b.step + 0.5 * epoch_len) & (x <= b.step + epoch_len - settings.lead * epoch_len)
        if mask.sum() < settings.min_points_per_side:
            continue
        slope, slope_se, _ = fit_slope(x[mask], y[mask])
        climb, se = slope * 0.5 * epoch_len, slope_se * 0.5 * epoch_len
        if climb > 0 and climb >= settings.min_t * se and climb >= 0.25 * b.drop:
            rising.append(b.epoch + 1)
    return tuple(rising)


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _stepped_reason(steps_found: list[Boundary], records: tuple[Boundary, ...], late: tuple[int, ...]) -> str:
    top = sorted(steps_found, key=lambda b: b.epoch)[:4]
    drops = _join([_fmt(b.drop) for b in top])
    where = _join([str(b.epoch) for b in top])
    zs = _join([f"{b.z:.0f}" if b.z >= 10 else f"{b.z:.1f}" for b in top])
    plural = "s" if len(top) > 1 else ""
    more = f" (+{len(steps_found) - len(top)} more)" if len(steps_found) > len(top) else ""
    if late:
        inside = f"the loss climbs back late in epoch{'s' if len(late) > 1 else ''} {_join([str(e) for e in late])}"
    else:
        inside = "flat inside epochs" if all(b.share >= 0.8 for b in top) else "falling less inside epochs"
    return (
        f"drop{plural} of {drops} at the epoch {where} boundar{'ies' if plural else 'y'}{more} (z {zs}), "
        f"{inside}; {len(steps_found)} of {len(records)} boundaries step"
    )


def _smooth_reason(records: tuple[Boundary, ...], placebo_level: float, settings: Settings) -> str:
    largest = max(records, key=lambda b: b.drop)
    if largest.drop <= 0:
        detail = "the loss does not fall at any boundary"
    else:
        why = []
        if largest.t < settings.min_t:
            why.append(f"t {largest.t:.1f}")
        if largest.share < settings.min_share:
            why.append(f"only {largest.share:.0%} of the decrease at the boundary")
        if largest.t < settings.placebo_factor * placebo_level:
            why.append("no larger than mid-epoch changes")
        if largest.relative_drop < settings.min_relative_drop:
            why.append(f"only {largest.relative_drop:.1%} of the level")
        if not why:
            why.append(f"t {largest.t:.1f}, the only boundary of {len(records)} that drops")
        detail = (
            f"largest drop {_fmt(largest.drop)} at epoch {largest.epoch} (z {largest.z:.1f}"
            + (f"; {', '.join(why)}" if why else "")
            + ")"
        )
    n = len(records)
    return f"no concentrated drop at {n} epoch boundar{'ies' if n > 1 else 'y'}: {detail}"
