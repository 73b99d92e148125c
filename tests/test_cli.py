"""The command line through click's runner: verdicts, output formats, exit codes, errors on stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REQUIRED_KEYS, ROOT, corpus

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
    for command in ("classify", "show", "report", "summary"):
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
    outcome = losscli.api.classify([tree], jobs=2, display_points=0)  # keyword-only past the paths
    by_run = {r.run: r for r in outcome.results}
    assert set(by_run) == {"ts-kgllm", "ts-observer-lfs-pointer", "ts-yc1999-alpaca"}
    assert "process reading it stopped" in (by_run["ts-kgllm"].error or "")
    assert by_run["ts-yc1999-alpaca"].verdict == "stepped"


# --- names that are not UTF-8 ----------------------------------------------------------------------------------

BAD = os.fsdecode(b"run-\xff\xfe")  # a folder name that is not UTF-8: Python keeps the bytes as surrogates
SHOWN = "run-\\xff\\xfe"  # how every output shows it


@pytest.fixture
def bad_tree(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    shutil.copytree(corpus("ts-yc1999-alpaca"), root / BAD)
    shutil.copytree(corpus("ts-kgllm"), root / "good")
    return root


def test_a_name_that_is_not_utf8_reads_the_same_in_every_output(bad_tree: Path, tmp_path: Path) -> None:
    table = runner.invoke(app, ["classify", str(bad_tree), "-j", "1"])
    assert table.exit_code == ExitStatus.OK, table.stderr
    assert [line.split()[0] for line in table.stdout.splitlines()[1:3]] == ["good", SHOWN]
    jsonl = runner.invoke(app, ["classify", str(bad_tree), "-j", "1", "-f", "jsonl"])
    [good, bad] = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert bad["run"] == SHOWN and bad["path"].endswith(SHOWN) and bad["verdict"] == "stepped"
    assert good["run"] == "good"
    whole = json.loads(runner.invoke(app, ["classify", str(bad_tree), "-j", "1", "-f", "json"]).stdout)
    assert [r["run"] for r in whole] == ["good", SHOWN]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["classify", str(bad_tree), "-f", "csv"]).stdout)))
    assert [r["run"] for r in rows] == ["good", SHOWN]
    shown = runner.invoke(app, ["show", str(bad_tree), "-f", "jsonl"])
    assert json.loads(shown.stdout.splitlines()[1])["run"] == SHOWN

    page = tmp_path / "report.html"
    report = runner.invoke(app, ["report", str(bad_tree), "--html", str(page), "-j", "1"])
    assert report.exit_code == ExitStatus.OK, report.stderr
    text = page.read_text(encoding="utf-8")
    assert text.count(f"{SHOWN}</a>") == 1  # the summary table's link to its plot


def test_a_message_that_names_a_bad_folder_shows_it_escaped(tmp_path: Path) -> None:
    (tmp_path / BAD).mkdir()
    (tmp_path / BAD / "trainer_state.json").write_text('{"log_history": [')
    result = runner.invoke(app, ["classify", str(tmp_path), "-f", "jsonl"])
    assert result.exit_code == ExitStatus.RUN_FAILED
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert f"{tmp_path}/{SHOWN}/trainer_state.json" in line


# --- --html -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", ".", "/", "some/where/"])
def test_html_that_is_not_a_file_name_is_one_line_and_exit_2(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "some" / "where").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", str(corpus("ts-kgllm")), "--html", value])
    assert result.exit_code == ExitStatus.USAGE
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: --html ")


def test_html_in_a_missing_folder_is_a_usage_error_before_any_run_is_read(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(corpus("ts-kgllm")), "--html", str(tmp_path / "nowhere" / "r.html")])
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr == f"Error: --html {tmp_path}/nowhere/r.html: the folder {tmp_path}/nowhere does not exist\n"


def test_html_dash_writes_the_page_to_stdout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(corpus("ts-yc1999-alpaca")), "--html", "-", "--cdn"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.rstrip().endswith("</html>")
    assert "ts-yc1999-alpaca" in result.stdout
    assert result.stderr == "1 run: 1 stepped; report written to stdout\n"
    assert not (Path.cwd() / "-").exists()


# --- exit codes ---------------------------------------------------------------------------------------------------


def test_fail_on_wins_over_a_failed_input_and_fail_on_error_counts_errors(tree: Path) -> None:
    # the tree holds a stepped run, a smooth run and an LFS pointer (an input that cannot be read)
    assert runner.invoke(app, ["classify", str(tree), "-j", "1"]).exit_code == ExitStatus.RUN_FAILED
    stepped = runner.invoke(app, ["classify", str(tree), "-j", "1", "--fail-on", "stepped"])
    assert stepped.exit_code == ExitStatus.FAIL_ON
    assert "Git LFS pointer" in stepped.stderr  # the failure is still reported
    assert runner.invoke(app, ["classify", str(tree), "--fail-on", "inconclusive"]).exit_code == ExitStatus.RUN_FAILED
    assert runner.invoke(app, ["classify", str(tree), "--fail-on", "error"]).exit_code == ExitStatus.FAIL_ON
    assert (
        runner.invoke(app, ["report", str(tree), "--html", "-", "--fail-on", "smooth"]).exit_code == ExitStatus.FAIL_ON
    )


def test_fail_on_takes_a_comma_list_and_repeats() -> None:
    path = str(corpus("ts-yc1999-alpaca"))
    assert runner.invoke(app, ["classify", path, "--fail-on", "smooth,inconclusive"]).exit_code == ExitStatus.OK
    assert runner.invoke(app, ["classify", path, "--fail-on", "smooth,stepped"]).exit_code == ExitStatus.FAIL_ON
    both = ["classify", path, "--fail-on", "smooth", "--fail-on", "stepped"]
    assert runner.invoke(app, both).exit_code == ExitStatus.FAIL_ON
    bad = runner.invoke(app, ["classify", path, "--fail-on", "stepped,flat"])
    assert bad.exit_code == ExitStatus.USAGE and "'stepped,flat' is not a verdict" in bad.stderr


def _tree_of(tmp_path: Path, copies: int) -> Path:
    root = tmp_path / "many"
    for i in range(copies):
        shutil.copytree(corpus("ts-kgllm"), root / f"run-{i:03d}")
    return root


def test_a_closed_pipe_ends_quietly_with_the_sigpipe_code(tmp_path: Path) -> None:
    root = _tree_of(tmp_path, 80)  # 80 records: more than a pipe's buffer holds
    command = [sys.executable, "-m", "losscli", "classify", str(root), "-f", "jsonl", "-j", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # as `| head -1` does
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == ExitStatus.CLOSED_PIPE == 141
    assert json.loads(first)["run"] == "run-000"
    assert err == "", err


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", ["classify", "show"])
def test_a_table_into_a_closed_pipe_ends_with_the_sigpipe_code(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module(f"losscli.cli.{command}")
    real = module.table_console
    monkeypatch.setattr(module, "table_console", lambda: real(file=ClosedPipe()))
    result = runner.invoke(app, [command, str(corpus("ts-kgllm"))])
    assert result.exit_code == ExitStatus.CLOSED_PIPE and result.stderr == ""


# --- streaming ---------------------------------------------------------------------------------------------------


def test_jsonl_writes_each_record_before_reading_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import losscli.api

    root = _tree_of(tmp_path, 3)
    real_read = losscli.api._read

    def read(source, root, options):  # type: ignore[no-untyped-def]
        if source.path.name == "run-002":
            raise KeyboardInterrupt  # Ctrl-C while the third run is read
        return real_read(source, root, options)

    monkeypatch.setattr(losscli.api, "_read", read)
    result = runner.invoke(app, ["classify", str(root), "-f", "jsonl", "-j", "1"])
    assert result.exit_code == ExitStatus.INTERRUPTED
    assert [json.loads(line)["run"] for line in result.stdout.splitlines()] == ["run-000", "run-001"]
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json"])
def test_streaming_output_keeps_no_result_in_memory(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import losscli.api
    from losscli.analysis.result import RunResult

    root = _tree_of(tmp_path, 12)
    alive: list[int] = []
    real_read = losscli.api._read

    def read(source, root, options):  # type: ignore[no-untyped-def]
        gc.collect()
        alive.append(sum(isinstance(o, RunResult) for o in gc.get_objects()))
        return real_read(source, root, options)

    monkeypatch.setattr(losscli.api, "_read", read)
    result = runner.invoke(app, ["classify", str(root), "-f", fmt, "-j", "1"])
    assert result.exit_code == ExitStatus.OK
    # at most the one just written (counted from the first read: other tests' results may be alive too)
    assert len(alive) == 12 and max(alive) - alive[0] <= 1, alive


def test_iter_results_yields_the_first_run_before_reading_the_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import losscli
    import losscli.api

    root = _tree_of(tmp_path, 3)
    read: list[str] = []
    real_read = losscli.api._read
    monkeypatch.setattr(losscli.api, "_read", lambda s, r, o: read.append(s.path.name) or real_read(s, r, o))
    results = losscli.iter_results([root], jobs=1, display_points=0)
    first = next(results)
    assert first.run == "run-000" and first.verdict == "smooth" and read == ["run-000"]
    assert [r.run for r in results] == ["run-001", "run-002"]


def test_iter_results_in_parallel_keeps_the_walk_order_and_reports_problems_in_place(tmp_path: Path) -> None:
    import losscli

    root = _tree_of(tmp_path, 6)
    (root / "run-003" / "trainer_state.json").write_text("{")
    os.symlink(root / "missing", root / "run-003" / "dangling")
    problems: list[str] = []
    runs = []
    for result in losscli.iter_results(
        [root], jobs=2, display_points=0, on_problem=lambda p: problems.append(p.message)
    ):
        runs.append(result.run)
        assert len(problems) == (result.run >= "run-003"), (result.run, problems)  # in walk order
    assert runs == [f"run-{i:03d}" for i in range(6)]
    assert len(problems) == 1 and "run-003/dangling: broken link" in problems[0]
    outcome = losscli.classify([root], jobs=2, display_points=0)
    assert [r.run for r in outcome.results] == runs and outcome.warnings == problems and outcome.errors == []
    assert outcome.results[3].verdict == "error"


# --- runs given as files -----------------------------------------------------------------------------------------


def test_runs_given_as_files_are_named_after_their_folders(tmp_path: Path) -> None:
    for name in ("a", "b"):
        shutil.copytree(corpus("ts-kgllm"), tmp_path / name)
    shutil.copytree(corpus("lt-slm-20ep"), tmp_path / "lightning_logs" / "version_0")
    files = [str(tmp_path / n / "trainer_state.json") for n in ("a", "b")]
    files.append(str(tmp_path / "lightning_logs" / "version_0" / "metrics.csv"))
    result = runner.invoke(app, ["classify", *files, "-f", "jsonl", "-j", "1"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["run"] for r in records] == ["a", "b", "version_0/metrics.csv"]
    assert records[0]["verdict"] == records[1]["verdict"] == "smooth"
    # the same run named as a folder and as its file is one run, under one name
    twice = runner.invoke(app, ["classify", str(tmp_path / "a"), files[0], "-f", "jsonl"])
    assert [json.loads(line)["run"] for line in twice.stdout.splitlines()] == ["a"]


# --- the options the commands share --------------------------------------------------------------------------------

SHARED = ("--include", "--exclude", "--hidden", "--no-checksums", "--jobs", "--strict", "--debug")
JUDGING = ("--steps-per-epoch", "--min-t", "--min-z", "--min-share", "--fail-on")


def _help_of(command: str) -> dict[str, str]:
    """Each option's help, as `command --help` prints it: its lines joined, whitespace normalised."""
    text = runner.invoke(app, [command, "--help"], terminal_width=200).stdout
    options: dict[str, str] = {}
    key = ""
    for line in text.split("Options:")[1].splitlines():
        if line.startswith("  -"):
            key = re.findall(r"--[a-z-]+", line)[0]
            options[key] = " ".join(line.split())
        elif key and line.strip():
            options[key] += " " + " ".join(line.split())
    return options


def test_every_command_shares_the_options_that_mean_the_same() -> None:
    helps = {command: _help_of(command) for command in ("classify", "show", "report", "summary")}
    for option in SHARED:
        texts = {command: helps[command].get(option) for command in helps}
        assert None not in texts.values(), (option, texts)
        assert len(set(texts.values())) == 1, texts  # word for word the same help
    for option in JUDGING:
        assert helps["classify"][option] == helps["report"][option] == helps["summary"][option]
    assert helps["classify"]["--format"] == helps["summary"]["--format"]


def test_help_names_the_paths_and_the_defaults_come_from_settings() -> None:
    from losscli.analysis.settings import Settings

    for command in ("classify", "show", "report"):
        usage = runner.invoke(app, [command, "--help"]).stdout.splitlines()[0]
        assert usage == f"Usage: app {command} [OPTIONS] PATHS..." or usage.endswith(f"{command} [OPTIONS] PATHS...")
    helps = _help_of("classify")
    for name in ("min_t", "min_z", "min_share"):
        assert helps["--" + name.replace("_", "-")].endswith(f"[default: {getattr(Settings(), name)}]")
    assert "no epoch information" in helps["--steps-per-epoch"]


def test_the_threshold_defaults_follow_settings(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses as dc

    from losscli.analysis import settings as settings_module

    strict = dc.make_dataclass(
        "Settings", [("min_t", float, dc.field(default=1e6))], bases=(settings_module.Settings,), frozen=True
    )
    monkeypatch.setattr(settings_module, "Settings", strict)
    result = runner.invoke(app, ["classify", str(corpus("ts-yc1999-alpaca")), "-f", "jsonl", "-j", "1"])
    assert json.loads(result.stdout)["verdict"] != "stepped"  # no drop is a million standard errors
    assert "[default: 1000000.0]" in runner.invoke(app, ["classify", "--help"]).stdout


@pytest.mark.parametrize("args", [["--version"], ["--help"], []])
def test_version_and_help_load_neither_numpy_nor_pandas(args: list[str]) -> None:
    code = (
        "import sys; sys.argv = ['losscli', *sys.argv[1:]]\n"
        "from losscli.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'plotly', 'rich', 'fsspec', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_library_functions_are_keyword_only_past_the_first_argument() -> None:
    import inspect

    import losscli
    import losscli.api
    from losscli import tally
    from losscli.config import build, derive, files, resolve
    from losscli.report import html, machine, summary, table

    functions = [
        losscli.load,
        losscli.classify,
        losscli.iter_results,
        losscli.api.judge_source,
        losscli.api.run_label,
        html.write_html,
        html.render_html,
        html.html_page,
        machine.write_jsonl,
        machine.write_json,
        machine.write_csv,
        machine.write_records,
        table.render_table,
        tally.group,
        tally.splits,
        tally.separation_p,
        tally.value_of,
        build.run_config,
        build.source_config,
        files.around,
        files.training_folder,
        derive.derive,
        resolve.resolve,
        summary.group_records,
        summary.render_groups,
        summary.render_splits,
    ]
    for function in functions:
        rest = list(inspect.signature(function).parameters.values())[1:]
        assert rest and all(p.kind is p.KEYWORD_ONLY for p in rest), function.__qualname__
