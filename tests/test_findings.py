"""Findings besides the staircase on logs the real writers wrote: the HF Trainer runs of sample_logs/findings
(each made to show one finding, by scripts/make_sample_logs.py), their TensorBoard files, the console logs, and
every stepped sample (no spike at its boundaries)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_LOGS

import losscli
from losscli.analysis import analyze
from losscli.analysis.result import (
    Analysis,
    DivergenceFinding,
    EvalDropsFinding,
    EvalRiseFinding,
    Finding,
    NanFinding,
    PlateauFinding,
    SpikeFinding,
    StepsBackwardsFinding,
)

FINDINGS = SAMPLE_LOGS / "findings"
WRITERS = ("trainer_state.json", "runs")  # the same run as the Trainer's state and as its TensorBoard file


def judged(path: Path) -> Analysis:
    [run] = losscli.load(path)
    return analyze(run)


def only(a: Analysis, kind: type[Finding]) -> list[Finding]:
    return [f for f in a.findings if isinstance(f, kind)]


@pytest.mark.parametrize("writer", WRITERS)
def test_a_learning_rate_spike_is_one_spike_that_recovers_with_its_learning_rate(writer: str) -> None:
    """LR x100 for steps 80-83: the loss jumps from about 2.45 to 3.80 at step 81 and recovers by about 93."""
    a = judged(FINDINGS / "lr-spike" / writer)
    [spike] = only(a, SpikeFinding)
    assert isinstance(spike, SpikeFinding)
    assert spike.step == 81 and spike.value == pytest.approx(3.80, abs=0.01)
    assert spike.base == pytest.approx(2.44, abs=0.05) and spike.z > 10
    assert 81 < spike.recovered_step <= 93
    assert spike.lr_factor is not None and spike.lr_factor > 50
    assert [f.kind for f in a.findings] == ["spike"]
    assert "the learning rate 92 times its usual level" in spike.message
    assert a.lr_schedule is not None and a.lr_schedule.kind == "linear" and a.lr_schedule.warmup_steps == 0
    [(start, end, factor)] = a.lr_schedule.excursions
    assert (start, end) == (80, 83) and factor == pytest.approx(98, rel=0.01)
    assert a.verdict == "smooth"


@pytest.mark.parametrize("name", ["diverge-nan", "diverge-nan-filtered"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_run_that_diverges_to_nan(name: str, writer: str) -> None:
    """SGD warmed to LR 3.0 without clipping: the loss climbs from about step 54 and is NaN from step 63 on (or,
    with the Trainer's default NaN filter, logged as 0.0 while grad norm and eval loss say NaN)."""
    a = judged(FINDINGS / name / writer)
    [divergence] = only(a, DivergenceFinding)
    assert isinstance(divergence, DivergenceFinding)
    assert 52 <= (divergence.step or 0) <= 56 and divergence.ends_non_finite
    assert divergence.lowest == pytest.approx(4.27, abs=0.1) and divergence.last > 1e5
    [nan] = only(a, NanFinding)
    assert isinstance(nan, NanFinding)
    assert nan.step == 63 and nan.eval == 2
    filtered = name.endswith("filtered")
    assert (nan.train, nan.filtered) == ((0, 66) if filtered else (66, 0))
    assert ("logged as 0.0 by the Trainer's NaN filter" in nan.message) == filtered
    # the filter's zeros are not losses: the run is not called smooth with a "largest drop" into them
    assert a.verdict == "inconclusive" and "largest drop" not in a.reason
    assert a.points == 61
    spikes = [(s.metric, s.step) for s in only(a, SpikeFinding) if isinstance(s, SpikeFinding)]
    # SGD's early instability, each back at once; the gradient norm's jump at step 11 moved the loss little
    assert spikes == [("train/grad_norm", 11), ("train/loss", 17), ("train/loss", 19)]
    assert a.lr_schedule is not None and (a.lr_schedule.kind, a.lr_schedule.warmup_steps) == ("constant", 60)


def test_the_filtered_run_reads_as_the_unfiltered_one() -> None:
    plain, filtered = (
        judged(FINDINGS / "diverge-nan" / WRITERS[0]),
        judged(FINDINGS / "diverge-nan-filtered" / WRITERS[0]),
    )
    assert [(f.kind, f.step) for f in plain.findings] == [(f.kind, f.step) for f in filtered.findings]
    assert (plain.verdict, plain.points) == (filtered.verdict, filtered.points)
    assert any("66 logged as 0.0 by the Trainer's NaN filter" in w for w in filtered.warnings)


@pytest.mark.parametrize(("name", "train", "filtered"), [("hf-nan.log", 36, 0), ("hf-nan-filtered.log", 0, 36)])
def test_console_logs_of_a_nan_run(name: str, train: int, filtered: int) -> None:
    """The Trainer's console: with the default filter a NaN step prints 'loss': '0' and 'grad_norm': 'nan'."""
    a = judged(SAMPLE_LOGS / "console" / name)
    [nan] = only(a, NanFinding)
    assert isinstance(nan, NanFinding)
    assert (nan.step, nan.train, nan.filtered, nan.eval) == (5, train, filtered, 4)
    assert a.verdict == "inconclusive" and a.points == 4
    [divergence] = only(a, DivergenceFinding)
    assert divergence.step == 2 and isinstance(divergence, DivergenceFinding) and divergence.ends_non_finite


@pytest.mark.parametrize("writer", WRITERS)
def test_drops_after_evaluations_away_from_the_boundaries(writer: str) -> None:
    """A leaky evaluation every 9 steps (20 an epoch): the train loss falls right after each one."""
    a = judged(FINDINGS / "eval-leak" / writer)
    [drops] = only(a, EvalDropsFinding)
    assert isinstance(drops, EvalDropsFinding)
    assert drops.timing == "evaluations" and drops.evaluations == 6 and drops.dropping >= 5
    assert set(drops.drop_steps) <= {9, 27, 36, 45, 54, 72}  # evaluations; 18 and 63 are too close to a boundary
    assert 0.1 < drops.mean_drop < 0.4
    assert a.verdict == "smooth" and a.causes == ()
    assert "is the model learning during evaluation?" in drops.message


@pytest.mark.parametrize("writer", WRITERS)
def test_evaluation_at_every_boundary_with_a_leak(writer: str) -> None:
    """Timing cannot tell; the eval loss (on training examples) falls with the train loss."""
    a = judged(FINDINGS / "eval-leak-at-epochs" / writer)
    assert a.verdict == "stepped"
    [drops] = only(a, EvalDropsFinding)
    assert isinstance(drops, EvalDropsFinding)
    assert drops.timing == "boundaries" and drops.drop_steps == (20, 40, 60)
    assert drops.eval_change == pytest.approx(5.668 - 4.700, abs=0.01)
    assert drops.eval_change > 0.5 * (drops.train_change or 0)
    assert "timing cannot tell" in drops.message
    assert [c.kind for c in a.causes] == ["learning_during_eval"]
    assert not a.memorization


@pytest.mark.parametrize("writer", WRITERS)
def test_evaluation_at_every_boundary_without_a_leak_is_memorization(writer: str) -> None:
    a = judged(FINDINGS / "eval-clean-at-epochs" / writer)
    assert a.verdict == "stepped" and a.memorization
    assert only(a, EvalDropsFinding) == []
    [rise] = only(a, EvalRiseFinding)
    assert isinstance(rise, EvalRiseFinding)
    assert (rise.step, rise.epoch) == (20, 1.0) and rise.value == pytest.approx(5.862, abs=1e-3)
    assert rise.last == pytest.approx(5.906, abs=1e-3)
    [cause] = a.causes
    assert cause.kind == "memorization" and dict(cause.evidence)["eval_at_boundaries"] is True
    assert "is not what learning during evaluation gives" in cause.message
    assert a.advice is not None and a.advice.epochs == 1 and a.advice.remedies
    if writer == "trainer_state.json":  # checkpoints are listed beside trainer_state.json, not in runs/
        assert rise.checkpoint == a.advice.checkpoint == "checkpoint-20"
    assert "1 epoch of training would have kept it" in a.advice.message


def test_a_plateau_after_the_loss_stops_falling() -> None:
    a = judged(FINDINGS / "plateau" / "trainer_state.json")
    [plateau] = only(a, PlateauFinding)
    assert isinstance(plateau, PlateauFinding)
    assert plateau.end_epoch is not None and plateau.epoch is not None
    assert plateau.end_epoch - plateau.epoch >= 1.5
    assert abs(plateau.change) <= 0.02 * plateau.before


def test_a_step_count_that_restarts_every_epoch_is_steps_going_backwards() -> None:
    """torch's SummaryWriter, step = the batch index within the epoch, train/epoch = progress."""
    a = judged(FINDINGS / "steps-restart")
    [back] = only(a, StepsBackwardsFinding)
    assert isinstance(back, StepsBackwardsFinding)
    assert back.how == "step count restarted" and back.times == 2
    assert (back.from_step, back.step) == (20, 1)
    assert "only the points after the last restart" in back.message.lower()


def stepped_samples() -> list[tuple[str, Analysis]]:
    out = []
    for run in losscli.load(SAMPLE_LOGS):
        a = analyze(run)
        if a.verdict == "stepped":
            out.append((run.name, a))
    return out


STEPPED = stepped_samples()


@pytest.mark.parametrize(("name", "a"), STEPPED, ids=[name for name, _ in STEPPED])
def test_no_stepped_sample_has_a_spike_plateau_or_divergence(name: str, a: Analysis) -> None:
    """Epoch-boundary drops are never spikes, nor is the loss climbing back late in an epoch; flat treads are not
    a plateau; a staircase does not diverge."""
    assert [f for f in a.findings if f.kind in ("spike", "plateau", "divergence")] == []


def test_every_stepped_sample_is_checked() -> None:
    assert len(STEPPED) >= 20


def test_the_logged_schedule_fills_the_configuration_where_no_file_states_it(tmp_path: Path) -> None:
    """trainer_state.json alone states no scheduler: the shape of the logged rate fills it, marked as derived;
    beside the Trainer's TensorBoard args the configured name is kept and the logged shape stays under derived."""
    shutil.copy(FINDINGS / "lr-spike" / "trainer_state.json", tmp_path / "trainer_state.json")
    [alone] = list(losscli.iter_results([tmp_path]))
    assert alone.config is not None
    assert (alone.config.get("scheduler"), alone.config.get("warmup")) == ("linear", 0)
    assert alone.config.sources["scheduler"] == "derived: the shape of the logged learning rate"
    [*_, warmup] = list(losscli.iter_results([FINDINGS / "diverge-nan"]))
    assert warmup.config is not None and warmup.config.derived["schedule"] == "constant"
    assert warmup.config.derived["warmup_steps"] == 60 and not warmup.config.sources["scheduler"].startswith("derived")


def test_a_schedule_that_restarts_every_epoch_is_a_cause_and_is_drawn() -> None:
    """The Trainer's cosine_with_restarts, one cycle an epoch, on the memorizing run: the rate is back at its
    peak at each boundary (steps 21, 41, 61 of 20-step epochs), and the restarts are lines on the rate's axis."""
    from losscli.report.html_figures import figure

    [result] = losscli.classify([FINDINGS / "lr-restarts" / "trainer_state.json"], jobs=1).results
    a = result.analysis
    assert a is not None and a.verdict == "stepped" and a.lr_schedule is not None
    assert (a.lr_schedule.kind, a.lr_schedule.restarts, a.lr_schedule.at_boundaries) == ("restarts", (21, 41, 61), 3)
    [cause] = a.causes
    stepped = sum(b.stepped for b in a.boundaries)
    assert cause.kind == "lr_restarts" and dict(cause.evidence)["stepped_with_restart"] == stepped >= 2
    fig = figure(result)
    assert fig is not None
    lines = [s for s in fig["views"]["step"]["shapes"] if s.get("name") == "learning-rate restart"]
    assert [(s["x0"], s["yref"]) for s in lines] == [(21, "y2"), (41, "y2"), (61, "y2")]
