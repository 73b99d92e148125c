"""`trainer.evaluate()` after `trainer.train()`: the last evaluation is logged twice, which is not a restart.

tests/data/hf-evaluate-after is a real Hugging Face Trainer run (scripts/make_parser_fixtures.py): 3 epochs of 8
steps, an evaluation each epoch, then `trainer.evaluate()` once more, logged to `trainer_state.json`, TensorBoard
(whose writer, closed at the end of training, starts a second event file for it) and W&B offline.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import losscli
from losscli.frame import EVAL_LOSS, TRAIN_LOSS

FOLDER = Path(__file__).resolve().parent / "data" / "hf-evaluate-after"
STATE = json.loads((FOLDER / "trainer_state.json").read_text())
EVALS = [e for e in STATE["log_history"] if "eval_loss" in e]
FORMATS = ("trainer_state", "tensorboard", "wandb_run")


def runs() -> dict[str, losscli.frame.Run]:
    return {run.format: run for run in losscli.load(FOLDER)}


def test_the_fixture_evaluates_twice_at_the_last_step() -> None:
    assert [e["step"] for e in EVALS] == [8, 16, 24, 24]
    assert EVALS[2]["eval_runtime"] != EVALS[3]["eval_runtime"]  # what differs: the runtimes


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_second_evaluation_at_the_last_step_is_not_a_restart(fmt: str) -> None:
    run = runs()[fmt]
    assert run.warnings == []
    assert "replaced_points" not in run.meta
    eval_loss = run.series(EVAL_LOSS)
    assert eval_loss.step.tolist() == [8, 16, 24]
    assert eval_loss.value.tolist() == pytest.approx([e["eval_loss"] for e in EVALS[:3]], rel=1e-6)
    runtime = run.series("eval/runtime")
    assert runtime.value[-1] == pytest.approx(EVALS[2]["eval_runtime"], rel=1e-6)  # the first one logged stays
    assert any("3 points were logged a second time at the same step" in n for n in run.notes)
    assert len(run.series(TRAIN_LOSS)) == 24


def test_every_format_of_the_run_gets_the_same_verdict() -> None:
    found = {fmt: losscli.analyze(run) for fmt, run in runs().items()}
    assert set(found) == set(FORMATS)
    verdicts = {a.verdict for a in found.values()}
    assert len(verdicts) == 1 and verdicts != {"error"}
    assert len({tuple(b.epoch for b in a.boundaries) for a in found.values()}) == 1
    best = {a.eval.best_step for a in found.values()}
    assert best == {8}
