"""The command line through typer's runner: verdicts, output formats, exit codes, errors on stderr."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import REQUIRED_KEYS, ROOT, corpus
from typer.testing import CliRunner

from losscli._version import __version__
from losscli.cli import ExitStatus, app

runner = CliRunner()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A stepped run, a smooth run and an LFS pointer, under one folder."""
    for name in ("ts-yc1999-alpaca", "ts-kgllm", "ts-observer-lfs-pointer"):
        shutil.copytree(corpus(name), tmp_path / "runs" / name)
    return tmp_path / "runs"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"losscli {__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("classify", "show", "report"):
        assert command in result.stdout


def test_jsonl_has_the_contract_keys_and_right_verdicts(tree: Path) -> None:
    result = runner.invoke(app, ["classify", str(tree), "--format", "jsonl", "--jobs", "1"])
    assert result.exit_code == ExitStatus.RUN_FAILED  # the LFS pointer
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["run"] for r in records] == ["ts-kgllm", "ts-observer-lfs-pointer", "ts-yc1999-alpaca"]
    for record in records:
        assert REQUIRED_KEYS <= record.keys()
    by_run = {r["run"]: r for r in records}
    assert by_run["ts-yc1999-alpaca"]["verdict"] == "stepped"
    assert by_run["ts-kgllm"]["verdict"] == "smooth"
    assert by_run["ts-observer-lfs-pointer"]["verdict"] == "error"
    assert "Git LFS pointer" in by_run["ts-observer-lfs-pointer"]["error"]
    stepped = by_run["ts-yc1999-alpaca"]
    assert [b["epoch"] for b in stepped["boundaries"]] == [1, 2]
    assert all(b["drop"] > 0.3 and b["stepped"] for b in stepped["boundaries"])
    # the error line names the file, on stderr, once
    assert result.stderr.count("Git LFS pointer") == 1
    assert "ts-observer-lfs-pointer/trainer_state.json" in result.stderr


def test_json_is_valid_with_failures_and_csv_has_one_row_per_run(tree: Path) -> None:
    result = runner.invoke(app, ["classify", str(tree), "-f", "json", "-j", "1"])
    data = json.loads(result.stdout)
    assert len(data) == 3 and {d["verdict"] for d in data} == {"stepped", "smooth", "error"}
    result = runner.invoke(app, ["classify", str(tree), "-f", "csv", "-j", "1"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3
    assert rows[2]["verdict"] == "stepped" and rows[2]["stepped_boundaries"] == "1;2"


def test_table_in_a_pipe_is_plain_and_summarised(tree: Path) -> None:
    result = runner.invoke(app, ["classify", str(tree), "-j", "1"])
    assert "\x1b[" not in result.stdout
    assert "ts-yc1999-alpaca" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "3 runs: 1 stepped, 1 smooth, 1 error"


def test_fail_on_makes_the_exit_code_non_zero() -> None:
    path = str(corpus("ts-yc1999-alpaca"))
    assert runner.invoke(app, ["classify", path]).exit_code == ExitStatus.OK
    assert runner.invoke(app, ["classify", path, "--fail-on", "stepped"]).exit_code == ExitStatus.FAIL_ON
    assert runner.invoke(app, ["classify", path, "--fail-on", "smooth"]).exit_code == ExitStatus.OK


def test_no_runs_and_missing_paths_have_their_own_codes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    result = runner.invoke(app, ["classify", str(tmp_path)])
    assert result.exit_code == ExitStatus.NO_RUNS
    assert "no training logs found" in result.stderr
    result = runner.invoke(app, ["classify", str(tmp_path / "missing")])
    assert result.exit_code == ExitStatus.USAGE
    assert "missing" in result.stderr and "Traceback" not in result.stderr


def test_steps_per_epoch_option_gives_boundaries_to_logs_without_epochs(tmp_path: Path) -> None:
    state = json.loads(corpus("ts-yc1999-alpaca").joinpath("trainer_state.json").read_text())
    for entry in state["log_history"]:
        entry.pop("epoch", None)
    for key in ("num_train_epochs", "max_steps", "epoch"):
        state.pop(key)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "trainer_state.json").write_text(json.dumps(state))
    plain = json.loads(runner.invoke(app, ["classify", str(tmp_path / "r"), "-f", "jsonl"]).stdout)
    assert plain["boundary_source"] != "--steps-per-epoch"
    given = json.loads(
        runner.invoke(app, ["classify", str(tmp_path / "r"), "-f", "jsonl", "--steps-per-epoch", "406"]).stdout
    )
    assert given["verdict"] == "stepped"
    assert given["boundary_source"] == "--steps-per-epoch"


def test_show_lists_metrics_and_files() -> None:
    result = runner.invoke(app, ["show", str(corpus("ts-medimind-10ep")), "-f", "json"])
    assert result.exit_code == 0
    [item] = json.loads(result.stdout)
    assert item["metrics"]["train/loss"] == 230 and item["metrics"]["eval/loss"] == 23
    assert item["steps"] == [10, 2300]
    assert item["files"][0].endswith("trainer_state.json")


def test_sample_logs_verdicts() -> None:
    result = runner.invoke(app, ["classify", str(ROOT / "sample_logs"), "-f", "jsonl", "-j", "2"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    verdicts = {r["run"]: r["verdict"] for r in records}
    assert verdicts["hf-stepped"] == "stepped"
    assert verdicts["hf-smooth"] == "smooth"
    assert result.exit_code == ExitStatus.OK, result.stderr


def test_a_worker_that_dies_costs_only_its_run(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import losscli.api

    real_read = losscli.api._read

    def dying_read(source, root, options):  # type: ignore[no-untyped-def]
        if source.path.name == "ts-kgllm":
            os._exit(1)  # as a worker killed by the out-of-memory killer would end
        return real_read(source, root, options)

    monkeypatch.setattr(losscli.api, "_read", dying_read)
    outcome = losscli.api.classify([tree], jobs=2, display_points=0)
    by_run = {r.run: r for r in outcome.results}
    assert set(by_run) == {"ts-kgllm", "ts-observer-lfs-pointer", "ts-yc1999-alpaca"}
    assert "process reading it stopped" in (by_run["ts-kgllm"].error or "")
    assert by_run["ts-yc1999-alpaca"].verdict == "stepped"
