"""`losscli watch` from the command line: lines and JSON events, `--exit-on` (4), `--until-idle` (0, or 3 when
nothing was ever found), usage errors (2), Ctrl-C (130, quietly), and a job stopped while its log is written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS
from tensorboardX import SummaryWriter
from watching import staircase

from losscli.cli import app

pytestmark = pytest.mark.timeout(120)
LOSSCLI = [sys.executable, "-m", "losscli"]


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    for name in ("hf-stepped", "hf-smooth", "findings/eval-clean-at-epochs"):
        target = tmp_path / Path(name).name
        shutil.copytree(SAMPLE_LOGS / name, target, symlinks=True)  # W&B's latest-run stays a link
    return tmp_path


def test_until_idle_prints_one_line_per_run_and_exits_0(samples: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(samples / "hf-smooth"), "--until-idle", "0.3", "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # the Trainer's state, its TensorBoard run and its W&B run: each found once
    assert all(line.split("  ")[2].startswith("smooth: ") for line in lines)
    assert "watching 3 runs under" in result.stderr


def test_jsonl_events(samples: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(samples / "hf-stepped"), "-f", "jsonl", "--until-idle", "0.2"])
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {tuple(e)[:4] for e in events} == {("time", "run", "event", "verdict")}
    found = next(e for e in events if e["run"] == "hf-stepped" and e["event"] == "found")
    assert found["verdict"] == "stepped"
    assert found["first_step"] == {
        "epoch": 1,
        "step": 20.0,
        "drop": pytest.approx(0.1567, abs=5e-4),  # the robust fit's, to its convergence
        "relative_drop": pytest.approx(0.0268, abs=1e-4),
    }
    # its eval loss rises from step 5, before the first stair: an eval rise, not memorization
    rise = next(e for e in events if e["run"] == "hf-stepped" and e["event"] == "finding" and e["kind"] == "eval_rise")
    assert rise["step"] == 5 and not any(e["event"] == "memorization" for e in events)
    result = CliRunner().invoke(
        app, ["watch", str(samples / "eval-clean-at-epochs"), "-f", "jsonl", "--until-idle", "0.2"]
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]
    # evaluated at each epoch's end: lowest at the first stair (step 20), rising after it
    memorized = next(e for e in events if e["run"] == "eval-clean-at-epochs" and e["event"] == "memorization")
    assert memorized["best_checkpoint"] == "checkpoint-20" and memorized["best_step"] == 20


def test_exit_on_a_condition_met_exits_4(samples: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(samples), "--exit-on", "memorization", "--interval", "0.1"])
    assert result.exit_code == 4
    assert "eval-clean-at-epochs: memorization; exiting (--exit-on)" in result.stderr


def test_exit_on_a_condition_not_met_idles_out(samples: Path) -> None:
    args = [
        "watch",
        str(samples / "hf-smooth"),
        "--exit-on",
        "stepped,nan",
        "--exit-on",
        "spike",
        "--until-idle",
        "0.2",
    ]
    assert CliRunner().invoke(app, args).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [["--exit-on", "bogus"], ["--until-idle", "soon"], ["--until-idle", "0"], ["--interval", "0"], ["--format", "csv"]],
)
def test_usage_errors_exit_2(samples: Path, args: list[str]) -> None:
    assert CliRunner().invoke(app, ["watch", str(samples), *args]).exit_code == 2


def test_a_path_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(tmp_path / "nope"), "--until-idle", "1"])
    assert result.exit_code == 2
    assert "nope" in result.stderr


def test_nothing_found_until_idle_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(tmp_path), "--until-idle", "0.2", "--interval", "0.05"])
    assert result.exit_code == 3
    assert "no training logs found" in result.stderr


def wait_for_line(process: subprocess.Popen[str], *, timeout: float = 60) -> str:
    end = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < end:
        line = process.stdout.readline()
        if line:
            return line
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError("no line from losscli watch")


def interruptible() -> None:
    """Ctrl-C as at a terminal, even under a test runner started in the background (which ignores SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_exits_130_quietly(samples: Path) -> None:
    process = subprocess.Popen(
        [*LOSSCLI, "watch", str(samples / "hf-stepped"), "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    try:
        wait_for_line(process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_a_wrapper_stops_the_job_at_its_first_stair(tmp_path: Path) -> None:
    """A job writes its log while `losscli watch --exit-on stepped` follows it: watch exits 4 during the second
    epoch, with the first stepped boundary on stdout."""
    run = tmp_path / "runs" / "job"
    writer = SummaryWriter(str(run))
    points = staircase(epochs=5)
    for step, loss in points[:10]:
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/epoch", step / 20, step)
    writer.flush()
    watch = subprocess.Popen(
        [*LOSSCLI, "watch", str(tmp_path / "runs"), "--exit-on", "stepped", "--interval", "0.1", "-f", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert json.loads(wait_for_line(watch))["verdict"] == "inconclusive"
        written = 10
        while watch.poll() is None and written < len(points):
            step, loss = points[written]
            writer.add_scalar("train/loss", loss, step)
            writer.add_scalar("train/epoch", step / 20, step)
            writer.flush()
            written += 1
            time.sleep(0.05)
        out, _ = watch.communicate(timeout=60)
    finally:
        watch.kill()
        writer.close()
    assert watch.returncode == 4
    assert written < len(points)  # stopped before the job ended
    change = json.loads(out.splitlines()[-1])
    assert change["event"] == "verdict" and change["verdict"] == "stepped"
    assert change["first_step"]["step"] == 20
