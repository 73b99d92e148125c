"""The records an analysis returns: data every reporter renders, never text to parse back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED, VERDICTS

if TYPE_CHECKING:
    from losscli.config.record import RunConfig

__all__ = [
    "ERROR",
    "INCONCLUSIVE",
    "SMOOTH",
    "STEPPED",
    "VERDICTS",
    "Advice",
    "Analysis",
    "Boundary",
    "Cause",
    "EvalFinding",
    "Finding",
    "LrSchedule",
    "RunResult",
]


@dataclass(frozen=True)
class Boundary:
    """The evidence at one epoch boundary.

    `before` and `after` are the loss levels fitted on each side at the boundary step; `drop` is their difference
    (positive when the loss falls); `z` is the drop over the noise of single points inside the neighbouring epochs;
    `t` is the drop over its own standard error; `share` is the part of the epoch-to-epoch decrease that happens at
    the boundary rather than gradually inside the epochs (1: all at the boundary, 0: none). `view` says which
    measurement speaks for the boundary (docs/method.md): "epochs" reads both levels at `step`; "near" reads them
    `settle` steps after it, where the drop has settled; "levels" is the whole-run model of epoch levels.
    """

    epoch: int
    step: float
    before: float
    after: float
    drop: float
    relative_drop: float
    z: float
    t: float
    share: float
    stepped: bool
    view: str = ""
    settle: float = 0.0


@dataclass(frozen=True)
class EvalFinding:
    """What the eval loss says: where it was lowest, and whether it rose while train loss kept falling."""

    points: int
    best_value: float
    best_step: int
    best_epoch: float | None
    best_checkpoint: str | None
    last_value: float
    rises: bool


@dataclass(frozen=True, kw_only=True)
class Finding:
    """Something else the loss log says, of one `kind` (one subclass per kind, docs/method.md section 7): where it
    starts (`step`, `epoch`), the loss value that locates it (`value`), and `message`, its sentence (written by
    the explaining step from these fields). The subclasses add the numbers each kind is judged by."""

    kind: ClassVar[str] = ""
    step: float | None
    epoch: float | None
    value: float | None
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class NanFinding(Finding):
    """Train or eval losses that are NaN or infinite, or logged as 0.0 by the Trainer's NaN filter in their
    place; `step` is the first of them."""

    kind: ClassVar[str] = "nan"
    count: int  # all of them, train and eval
    train: int  # train losses NaN or infinite
    eval: int  # eval losses NaN or infinite
    filtered: int  # train losses logged as 0.0 for a non-finite step (logging_nan_inf_filter)


@dataclass(frozen=True, kw_only=True)
class DivergenceFinding(Finding):
    """The loss left its running minimum for good: `step` is where it started to climb, `value` the loss there."""

    kind: ClassVar[str] = "divergence"
    lowest: float  # the running minimum it climbed from (smoothed)
    lowest_step: float
    last: float | None  # the level at the end of the usable points (None: it ended in non-finite values)
    last_step: float
    rise: float  # last - lowest, in loss units
    ends_non_finite: bool  # the run ends in NaN or infinite losses (or the filter's stand-ins)


@dataclass(frozen=True, kw_only=True)
class SpikeFinding(Finding):
    """An isolated jump up that recovers: `step` is the jump's first point, `value` the highest point; `metric`
    is the train loss, or the gradient norm when it jumps without the loss (the loss's own spike covers both)."""

    kind: ClassVar[str] = "spike"
    metric: str = "train/loss"
    base: float  # the loss the local trend predicts at the jump
    height: float  # value - base
    z: float  # height over the local noise of single points
    recovered_step: float  # the first point back near the base
    points: int  # points above the recovery level, the jump included
    lr_factor: float | None  # the learning rate at the jump over its usual level, when logged and far from 1


@dataclass(frozen=True, kw_only=True)
class PlateauFinding(Finding):
    """No progress from `step` to `end_step`, after the loss had fallen: `value` is the level held."""

    kind: ClassVar[str] = "plateau"
    end_step: float
    end_epoch: float | None
    change: float  # how much the loss fell over the stretch (smoothed ends; negative when it rose)
    before: float  # how much it had fallen from the start of the run to the stretch


@dataclass(frozen=True, kw_only=True)
class EvalRiseFinding(Finding):
    """Eval loss rising from its lowest point: `step`, `epoch` and `value` are that lowest point."""

    kind: ClassVar[str] = "eval_rise"
    checkpoint: str | None  # the saved checkpoint nearest the lowest eval loss
    last: float
    last_step: float
    rise: float


@dataclass(frozen=True, kw_only=True)
class StepsBackwardsFinding(Finding):
    """The step fell back in the log and it was not a resume (`losscli.restarts`): `step` is where it fell to."""

    kind: ClassVar[str] = "steps_backwards"
    how: str  # "started over", "step count restarted", "out of order"
    from_step: float
    times: int  # falls of this kind (counted once across metrics)
    metric: str


@dataclass(frozen=True, kw_only=True)
class EvalDropsFinding(Finding):
    """Train-loss drops right after evaluation steps. `timing` says how they were told from epoch boundaries:
    "evaluations" (evaluation steps away from every boundary carry the drops) or "boundaries" (evaluation runs at
    every boundary, so timing cannot tell, and the eval loss falls with the train loss, as after a leak)."""

    kind: ClassVar[str] = "drops_after_eval"
    timing: str
    evaluations: int  # evaluation steps measured (away from boundaries, or at them for "boundaries")
    dropping: int  # of which the train loss drops right after
    mean_drop: float  # the mean drop after those that drop (loss units)
    drop_steps: tuple[float, ...]  # the evaluation steps the train loss drops after ("boundaries": those steps)
    eval_change: float | None  # eval loss first minus last ("boundaries": its fall over the run)
    train_change: float | None  # train loss fall over the same evaluations ("boundaries")


@dataclass(frozen=True)
class LrSchedule:
    """The learning-rate schedule read from the logged learning rate (docs/method.md section 8): `kind` is
    constant, linear, cosine, restarts or other, after a warm-up of `warmup_steps` (0: none)."""

    kind: str
    warmup_steps: float
    peak: float
    last: float
    restarts: tuple[float, ...] = ()  # steps where the schedule starts again
    at_boundaries: int = 0  # of the restarts, those at an epoch boundary
    excursions: tuple[tuple[float, float, float], ...] = ()  # (first step, last step, factor) of brief jumps


@dataclass(frozen=True)
class Cause:
    """What the logs show about where a staircase comes from (`kind`), with the numbers it rests on in `evidence`
    and its sentence in `message`."""

    kind: str  # memorization, lr_restarts, learning_during_eval, resume_at_boundary, no_reshuffle
    evidence: tuple[tuple[str, Any], ...] = ()
    message: str = ""


@dataclass(frozen=True)
class Advice:
    """The evidence-based next step: the checkpoint to keep, how many epochs would have kept it, and for
    memorization the usual remedies (`remedies`)."""

    checkpoint: str | None
    step: float | None
    epoch: float | None
    epochs: int | None  # epochs of training that end at or after the lowest eval loss
    remedies: bool
    message: str = ""


@dataclass(frozen=True)
class Analysis:
    """The verdict with its evidence. `notes` help read it; `warnings` are problems with the input that the
    analysis worked around (values left out, an option that overrides the log)."""

    verdict: str
    score: float
    reason: str
    epochs: float | None
    points: int
    boundary_source: str | None
    steps_per_epoch: float | None
    boundaries: tuple[Boundary, ...] = ()
    eval: EvalFinding | None = None
    memorization: bool = False
    late_epoch_rise: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    lr_schedule: LrSchedule | None = None
    causes: tuple[Cause, ...] = ()
    advice: Advice | None = None


@dataclass(frozen=True)
class RunResult:
    """One row of output: which run, from where, what it was (`config`, read from the files around it), and its
    analysis or the error that stopped it."""

    run: str
    path: str
    format: str
    analysis: Analysis | None
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)
    meta: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # thinned, for display only
    config: RunConfig | None = None  # None: not read (a process that died reading the run)

    @property
    def verdict(self) -> str:
        return self.analysis.verdict if self.analysis else ERROR
