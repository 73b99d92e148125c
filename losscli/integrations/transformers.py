"""A Hugging Face Trainer callback that judges the run while it trains, and can stop it at its first stair.

    from losscli.integrations.transformers import StaircaseCallback

    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=held_out)
    trainer.add_callback(StaircaseCallback(stop_on="memorization", trainer=trainer))
    trainer.train()

At each log and each epoch end the callback judges the Trainer's own `state.log_history` (no files: the history
becomes a run exactly as a `trainer_state.json` does, `parsers.trainer_logs.state_run`), logs `losscli/score`
and `losscli/verdict` (1 stepped, 0 smooth, -1 inconclusive) through the Trainer's loggers (TensorBoard, W&B,
...: `trainer.log`, so it needs the `trainer`; without it the values only reach loggers added after the callback),
and warns once (`StaircaseWarning`), with the reason, when the run becomes stepped.

With `stop_on="stepped"` (or `"memorization"`: stepped while the eval loss rises), once the analysis says so the
callback has the Trainer save a checkpoint and stop (`control.should_save`, `control.should_training_stop`),
and says which checkpoint to keep: the one with the lowest eval loss so far. It never stops a run the analysis
does not call stepped; it uses the same analysis and thresholds (`Settings`) as `losscli classify`.

Cost: a judgement reads the whole history, so after the first hundred train-loss points the run is judged
again only when it has a `growth` share more points (1 %: a 10,000-point run every 100 points), and at every epoch
end and evaluation. Every rank judges the same history the same way, so that all of them stop together.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from transformers import TrainerCallback
except ImportError as exc:  # the optional extra is missing
    raise ImportError(
        "losscli.integrations.transformers needs the Hugging Face transformers package: "
        "pip install 'losscli[transformers]'"
    ) from exc

from losscli.verdicts import INCONCLUSIVE, SMOOTH, STEPPED

if TYPE_CHECKING:
    from transformers import Trainer, TrainerControl, TrainerState, TrainingArguments

    from losscli.analysis.result import Analysis
    from losscli.analysis.settings import Settings
    from losscli.frame import Run

VERDICT_CODES = {STEPPED: 1.0, SMOOTH: 0.0, INCONCLUSIVE: -1.0}
SCORE_KEY, VERDICT_KEY = "losscli/score", "losscli/verdict"
STOP_ON = ("stepped", "memorization")
_EVERY_POINT = 100  # below this many train-loss points, every log is judged


class StaircaseWarning(UserWarning):
    """The train loss of the run being trained falls in a staircase at epoch boundaries (memorization)."""


class StaircaseCallback(TrainerCallback):
    """Judge the run at each log and epoch end; with `stop_on`, stop it once it is stepped (module docstring)."""

    def __init__(
        self,
        stop_on: str | None = None,
        *,
        trainer: Trainer | None = None,
        settings: Settings | None = None,
        growth: float = 0.01,
    ) -> None:
        if stop_on not in (None, *STOP_ON):
            raise ValueError(f"stop_on must be None, 'stepped' or 'memorization', not {stop_on!r}")
        self.stop_on = stop_on
        self.trainer = trainer
        self.settings = settings
        self.growth = growth
        self.analysis: Analysis | None = None  # the last judgement
        self.judged_at: int | None = None  # the global step of the last judgement
        self.stepped_at: int | None = None  # the global step of the first judgement that said stepped
        self.stopped_at: int | None = None  # the global step at which it stopped the training
        self.keep: str | None = None  # the checkpoint to keep, once stopped
        self.checkpoints: list[int] = []  # steps of the checkpoints saved so far
        self._points = 0  # train-loss points at the last judgement
        self._logging = False

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if state.global_step not in self.checkpoints:
            self.checkpoints.append(state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if self._logging:  # our own values, logged through the Trainer
            return
        evaluation = logs is not None and any(k.startswith("eval_") for k in logs)
        self._judge(args, state, control, logs, always=evaluation)

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._judge(args, state, control, None, always=True)

    def _judge(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None,
        *,
        always: bool,
    ) -> None:
        from losscli.frame import TRAIN_LOSS

        if self.stopped_at is not None:
            return
        run = self._run(args, state)
        points = int((run.columns().metric == TRAIN_LOSS).sum())
        if points <= self._points and not always:
            return
        if not always and points > _EVERY_POINT and points < self._points * (1 + self.growth):
            return
        analysis = _analyze(run, self.settings)
        if analysis is None:
            return
        self.analysis, self.judged_at, self._points = analysis, state.global_step, points
        self._log(state, analysis, logs)
        if analysis.verdict == STEPPED and self.stepped_at is None:
            self.stepped_at = state.global_step
            if state.is_world_process_zero:
                warnings.warn(f"losscli: the run is stepped: {analysis.reason}", StaircaseWarning, stacklevel=2)
        if self._should_stop(analysis):
            self._stop(args, state, control, analysis)

    def _run(self, args: TrainingArguments, state: TrainerState) -> Run:
        from losscli.log_checks import check_run
        from losscli.parsers.trainer_logs import STATE_FIELDS, state_run

        history = [e for e in state.log_history if not (isinstance(e, dict) and SCORE_KEY in e)]  # not ours
        fields = {k: getattr(state, k, None) for k in STATE_FIELDS}
        output = Path(args.output_dir or ".")
        run = state_run({**fields, "log_history": history}, name=args.run_name or output.name, path=output)
        if self.checkpoints:
            run.meta["checkpoints"] = sorted(self.checkpoints)
        check_run(run)
        return run

    def _log(self, state: TrainerState, analysis: Analysis, logs: dict[str, float] | None) -> None:
        values = {SCORE_KEY: analysis.score, VERDICT_KEY: VERDICT_CODES.get(analysis.verdict, -1.0)}
        if self.trainer is None:
            if logs is not None:
                logs.update(values)  # seen by the loggers after this callback
            return
        self._logging = True
        try:
            self.trainer.log(values)
        finally:
            self._logging = False

    def _should_stop(self, analysis: Analysis) -> bool:
        if self.stop_on == "stepped":
            return analysis.verdict == STEPPED
        if self.stop_on == "memorization":
            return analysis.memorization
        return False

    def _stop(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, analysis: Analysis) -> None:
        control.should_save = True
        control.should_training_stop = True
        self.stopped_at = state.global_step
        self.keep, why = _checkpoint_to_keep(analysis, [*self.checkpoints, state.global_step])
        if state.is_world_process_zero:
            warnings.warn(
                f"losscli: stopping at step {state.global_step} ({self.stop_on}): {analysis.reason}. A checkpoint is "
                f"saved now (checkpoint-{state.global_step}); keep {self.keep} ({why}).",
                StaircaseWarning,
                stacklevel=2,
            )


def _analyze(run: Run, settings: Settings | None) -> Analysis | None:
    """The analysis, or None when it fails: the callback never stops a training by raising."""
    import numpy as np

    from losscli.analysis.classify import analyze

    try:
        with np.errstate(all="ignore"):
            return analyze(run, settings=settings)
    except Exception:
        return None


def _checkpoint_to_keep(analysis: Analysis, checkpoints: list[int]) -> tuple[str, str]:
    """The checkpoint with the lowest eval loss so far; without an eval loss, the last one before the first
    stepped boundary (the model before it saw any example twice), else the one saved now."""
    best = analysis.eval
    if best is not None and best.best_checkpoint:
        return best.best_checkpoint, f"lowest eval loss {best.best_value:.4g}, at step {best.best_step}"
    first = next((b for b in analysis.boundaries if b.stepped), None)
    before = [c for c in checkpoints if first is not None and c <= first.step]
    if before:
        return f"checkpoint-{max(before)}", "no eval loss: the last checkpoint before the first stepped boundary"
    return f"checkpoint-{checkpoints[-1]}", "no eval loss and no checkpoint before the first stepped boundary"
