"""The records an analysis returns: data every reporter renders, never text to parse back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED, VERDICTS

if TYPE_CHECKING:
    from losscli.config.record import RunConfig

__all__ = ["ERROR", "INCONCLUSIVE", "SMOOTH", "STEPPED", "VERDICTS", "Analysis", "Boundary", "EvalFinding", "RunResult"]


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
