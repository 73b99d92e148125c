"""Console captures of HF Trainer runs, as batch jobs keep them (stdout and stderr of the real Trainer, bars and
all; scripts/make_console_samples.py):

    sample_logs/console/hf-stepped.log           the stepped run of sample_logs/hf-stepped, printed
    sample_logs/console/hf-smooth.log            the smooth run
    sample_logs/console/hf-nan.log               a run that diverges to NaN (the NaN filter off)
    sample_logs/console/hf-nan-filtered.log      the same with the Trainer's default NaN filter: loss printed as 0
    sample_logs/console/hf-stepped-ddp.log       two ranks on CPU (torchrun), only rank 0 prints dicts
    sample_logs/console/hf-stepped-ddp-tee.log   the same with `torchrun --tee 3`: `[default0]:` on every line
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS

import losscli
from losscli.cli import app
from losscli.frame import EPOCH, EVAL_LOSS, TRAIN_LOSS
from losscli.parsers.console_lines import ConsoleLines
from losscli.parsers.line_logs import LineBuffer, feed_file

CONSOLE = SAMPLE_LOGS / "console"
VERDICTS = {
    "hf-stepped.log": "stepped",
    "hf-stepped-ddp.log": "stepped",
    "hf-stepped-ddp-tee.log": "stepped",
    "hf-smooth.log": "smooth",
    "hf-nan.log": "inconclusive",
}


def load(name: str) -> losscli.frame.Run:
    [run] = losscli.load(CONSOLE / name)
    assert run.format == "console"
    return run


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdicts_with_their_evidence(name: str) -> None:
    analysis = losscli.analyze(load(name))
    assert analysis.verdict == VERDICTS[name], analysis.reason
    if VERDICTS[name] == "stepped":
        assert [b.epoch for b in analysis.boundaries if b.stepped] == [1, 2, 3, 4]
        assert analysis.boundary_source == "logged epoch values"


def test_the_printed_run_is_the_trainer_state_to_four_digits() -> None:
    printed, state = load("hf-stepped.log"), losscli.load(SAMPLE_LOGS / "hf-stepped")[0]
    assert printed.metrics() == state.metrics()  # the same metrics, names and point counts
    for metric in (TRAIN_LOSS, EVAL_LOSS, EPOCH, "train/grad_norm"):
        a, b = printed.series(metric), state.series(metric)
        assert a.step.tolist() == b.step.tolist(), metric
        np.testing.assert_allclose(a.value, b.value, rtol=5e-4)  # printed with 4 significant digits
        np.testing.assert_allclose(a.epoch, b.epoch, rtol=5e-4)
    assert printed.meta["steps_per_epoch"] == 20 and printed.meta["logging_steps"] == 1
    assert printed.meta["max_steps"] == 100 and printed.meta["printed_values"] == "4 significant digits"
    assert any("the printed dicts carry no step" in note for note in printed.notes)
    assert printed.meta["summary"]["train_loss"] == 5.535
    smooth = load("hf-smooth.log")
    assert smooth.meta["logging_steps"] == 2  # every other step, as the smooth recipe logs
    assert smooth.series(TRAIN_LOSS).step.tolist() == list(range(2, 193, 2))


def test_two_ranks_with_and_without_tee_give_the_same_run() -> None:
    plain, tee = load("hf-stepped-ddp.log"), load("hf-stepped-ddp-tee.log")
    assert plain.metrics() == tee.metrics()
    for metric in (TRAIN_LOSS, EVAL_LOSS, EPOCH, "train/grad_norm", "train/learning_rate"):  # not the timings
        a, b = plain.series(metric), tee.series(metric)
        assert a.step.tolist() == b.step.tolist()
        np.testing.assert_array_equal(a.value, b.value)
    assert len(plain.series(TRAIN_LOSS)) == 50


def test_nan_is_a_point_and_the_nan_filters_zero_is_kept_as_printed() -> None:
    nan = load("hf-nan.log").series(TRAIN_LOSS)
    assert len(nan) == 40 and np.isnan(nan.value).sum() == 36  # NaN points, not dropped lines
    filtered = load("hf-nan-filtered.log")
    loss = filtered.series(TRAIN_LOSS)
    assert len(loss) == 40 and (loss.value == 0).sum() > 10  # what the Trainer's NaN filter printed
    assert np.isnan(filtered.series("train/grad_norm").value).any()


def python_printed(entries: list[dict[str, float]]) -> str:
    """What transformers 4.x's PrinterCallback wrote: `print(logs)` of the raw floats, so `str(dict)`."""
    return "".join(f"{entry}\n" for entry in entries)


def test_4x_dicts_with_bare_nan_and_inf_and_no_closing_summary_are_counted() -> None:
    entries = [{"loss": 2.0 - 0.1 * i, "learning_rate": 1e-5, "epoch": round(0.25 * (i + 1), 2)} for i in range(8)]
    entries[3]["loss"] = math.nan
    entries[4]["grad_norm"] = math.inf
    text = "Some warning\n" + python_printed(entries) + "{'eval_loss': nan, 'epoch': 2.0}\n"
    assert "'loss': nan" in text and "'grad_norm': inf" in text  # what ast.literal_eval would reject
    parser = ConsoleLines(Path("train.log"))
    parser.feed(text.splitlines())
    run = parser.run()
    loss = run.series(TRAIN_LOSS)
    assert loss.step.tolist() == list(range(1, 9))  # the run died before its summary: steps are log counts
    assert math.isnan(loss.value[3]) and loss.epoch.tolist() == [e["epoch"] for e in entries]
    assert run.series("train/grad_norm").value.tolist() == [math.inf]
    assert run.series(EVAL_LOSS).step.tolist() == [8]
    assert any("count of train logs printed" in note for note in run.notes)
    assert run.meta["printed_values"] == "as printed"


def test_a_run_that_stopped_before_its_summary_counts_its_logs(tmp_path: Path) -> None:
    text = (CONSOLE / "hf-stepped.log").read_text()
    cut = tmp_path / "slurm-17.out"
    cut.write_text(text[: text.index("{'train_runtime'")])
    [run] = losscli.load(cut)
    assert run.series(TRAIN_LOSS).step.tolist() == list(range(1, 101))
    assert losscli.analyze(run).verdict == "stepped"  # the epochs are printed: boundaries as before


def test_followed_line_by_line_it_is_the_same_run() -> None:
    raw = (CONSOLE / "hf-stepped-ddp-tee.log").read_bytes()
    whole = feed_file(ConsoleLines(CONSOLE / "hf-stepped-ddp-tee.log")).run()
    follow, buffer = ConsoleLines(CONSOLE / "hf-stepped-ddp-tee.log"), LineBuffer()
    rng = random.Random(5)
    pos = 0
    while pos < len(raw):
        size = rng.randint(1, 5000)
        follow.feed(buffer.add(raw[pos : pos + size]))
        pos += size
        if rng.random() < 0.05:
            follow.run() if follow.records() else None  # asked for the run half-way, as watch does
    follow.feed_cut(buffer.pending)
    a, b = whole.columns(), follow.run().columns()
    assert a.metric.tolist() == b.metric.tolist() and a.step.tolist() == b.step.tolist()
    np.testing.assert_array_equal(a.value, b.value)


def test_a_text_log_without_trainer_dicts_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "train.log").write_text("epoch 1 loss 0.5\n{'lr': 0.1, 'model': 'gpt2'}\n")
    result = CliRunner().invoke(app, ["classify", str(tmp_path), "-j", "1"])
    assert result.exit_code == 3
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "train.log"), "-j", "1"])
    assert result.exit_code == 3 and "not a training log losscli can read" in result.stderr
