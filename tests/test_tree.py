"""Finding runs in a messy tree: good runs of every format next to broken files, links, pipes and noise.

    runs/
      hf-stepped/                  Trainer output folder (checkpoints, wandb/ run folder, runs/ TensorBoard)
      hf-smooth/                   the same, smooth
      alpaca/trainer_state.json    a public Trainer state, stepped
      llama-factory/trainer_log.jsonl
      lightning_logs/version_0/metrics.csv
      exports/                     W&B history export (one run) and chart export (three runs)
      broken/truncated/trainer_state.json   cut mid-document: what is complete is read, with a warning
      broken/empty/trainer_state.json       0 bytes
      broken/binary/trainer_log.jsonl       binary junk under the known name
      broken/wandb/run-x/run-x.wandb        random bytes
      notes/README.txt, notes/empty.txt     not logs: nothing to say about them
      nest/inner/loop -> ../..     a symbolic link loop
      dangling -> missing          a link to nothing
      pipe                         a FIFO (reading it would block forever)
      socket                       a UNIX socket
      locked/run/trainer_state.json  a folder that cannot be listed
      .hidden/run/, node_modules/pkg/  good runs, walked only with --hidden

Every good run gets its verdict, every problem is one line on stderr that names its path, the exit code is the
documented one (a folder that cannot be listed is an input that could not be read: exit 1; entries skipped on
purpose are warnings), and the output is the same every time, with one job or two.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS, corpus

from losscli.cli import ExitStatus, app

runner = CliRunner()
ROOT_USER = os.geteuid() == 0

GOOD = {  # run label -> verdict, as `classify sample_logs/` and the corpus labels give them
    "alpaca": "stepped",
    "hf-smooth": "smooth",
    "hf-smooth/wandb/offline-run-20261124_200206-hon2gnnj": "smooth",
    "hf-stepped": "stepped",
    "hf-stepped/wandb/offline-run-20261124_200204-gbb776vp": "stepped",
    "exports/hf-stepped_history.csv": "stepped",
    "hf-stepped/runs/hf-stepped": "stepped",
    "hf-smooth/runs/hf-smooth": "smooth",
}
GOOD_FORMATS = {
    "trainer_state",
    "trainer_log",
    "lightning_csv",
    "wandb_run",
    "wandb_history",
    "wandb_csv",
    "tensorboard",
}
BROKEN = ("broken/empty", "broken/binary", "broken/wandb/run-x")
HIDDEN = (".hidden/run", "node_modules/pkg")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "runs"
    for name in ("hf-stepped", "hf-smooth"):
        shutil.copytree(SAMPLE_LOGS / name, root / name, symlinks=True)
    (root / "alpaca").mkdir()
    shutil.copy(corpus("ts-yc1999-alpaca") / "trainer_state.json", root / "alpaca")
    (root / "llama-factory").mkdir()
    shutil.copy(corpus("tl-agosalvez-20ep") / "trainer_log.jsonl", root / "llama-factory")
    (root / "lightning_logs" / "version_0").mkdir(parents=True)
    shutil.copy(corpus("lt-slm-20ep") / "metrics.csv", root / "lightning_logs" / "version_0")
    (root / "exports").mkdir()
    for name in ("hf-stepped_history.csv", "wandb_export_train_loss.csv"):
        shutil.copy(SAMPLE_LOGS / "wandb-exports" / name, root / "exports")

    state = (SAMPLE_LOGS / "hf-stepped" / "trainer_state.json").read_bytes()
    write(root / "broken/truncated/trainer_state.json", state[: len(state) // 2])
    write(root / "broken/empty/trainer_state.json", b"")
    write(root / "broken/binary/trainer_log.jsonl", bytes(range(256)) * 4)
    write(root / "broken/wandb/run-x/run-x.wandb", os.urandom(2048))
    write(root / "notes/README.txt", b"what these runs are\n")
    write(root / "notes/empty.txt", b"")

    (root / "nest" / "inner").mkdir(parents=True)
    os.symlink(root / "nest", root / "nest" / "inner" / "loop")  # nest/inner/loop -> nest
    os.symlink(root / "missing", root / "dangling")
    os.mkfifo(root / "pipe")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(root / "socket"))
    server.close()

    write(root / "locked/run/trainer_state.json", state)
    lock(root / "locked", monkeypatch)

    for hidden in HIDDEN:
        write(root / hidden / "trainer_state.json", state)
    return root


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def lock(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `folder` unlistable: chmod 000, or, as root (whom chmod does not stop), a refusing scandir."""
    if not ROOT_USER:
        folder.chmod(0)
        return
    import losscli.discover

    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(losscli.discover.os, "scandir", scandir)


@pytest.fixture(autouse=True)
def _unlock(tmp_path: Path) -> Iterator[None]:
    yield
    locked = tmp_path / "runs" / "locked"
    if locked.exists():
        locked.chmod(stat.S_IRWXU)  # so that pytest can remove tmp_path


def classify(*args: str) -> tuple[Any, list[dict[str, Any]], list[str]]:
    result = runner.invoke(app, ["classify", *args, "-f", "jsonl"])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result, records, result.stderr.splitlines()


def problem_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("warning: ", "error: ", "Error: "))]


def lines_naming(lines: list[str], path: Path) -> list[str]:
    return [line for line in lines if f"{path}:" in line or f"{path}/" in line]


def test_every_good_run_has_its_verdict_and_every_problem_one_line(tree: Path) -> None:
    result, records, lines = classify(str(tree), "-j", "1")
    assert result.exit_code == ExitStatus.RUN_FAILED  # documented: at least one input could not be read

    verdicts = {r["run"]: r["verdict"] for r in records}
    for run, verdict in GOOD.items():
        assert verdicts.get(run) == verdict, (run, verdicts.get(run))
    assert {r["format"] for r in records if r["verdict"] != "error"} >= GOOD_FORMATS
    assert "llama-factory" in verdicts and verdicts["llama-factory"] != "error"
    assert "lightning_logs/version_0/metrics.csv" in verdicts
    assert len([r for r in records if r["path"].endswith("wandb_export_train_loss.csv")]) == 3

    problems = problem_lines(lines)
    others = [line for line in lines if line not in problems]
    assert len(others) == 1 and others[0].startswith(f"{len(records)} runs: "), lines  # only the summary
    assert len(problems) == len(set(problems)), "a problem reported twice"
    for broken in BROKEN:  # one error line and one error record per broken run, naming the damaged file
        [line] = lines_naming(problems, tree / broken)
        assert line.startswith("error: "), line
        [record] = [r for r in records if r["run"] == broken]
        assert record["verdict"] == "error" and record["error"] and f"error: {record['error']}" == line
    [line] = lines_naming(problems, tree / "broken/truncated")  # kept what is complete, and said so
    assert line.startswith("warning: ") and "truncated" in line and verdicts["broken/truncated"] != "error", line
    odd_entries = (
        ("nest/inner/loop", "loop", "warning"),
        ("dangling", "broken link", "warning"),
        ("pipe", "not a regular file", "warning"),
        ("socket", "not a regular file", "warning"),
        ("locked", "ermission denied", "error"),  # a run may hide in it: an input that could not be read
    )
    for odd, what, level in odd_entries:
        [line] = lines_naming(problems, tree / odd)
        assert line.startswith(f"{level}: ") and what in line, line
    assert not lines_naming(lines, tree / "notes"), "plain notes are not logs and need no message"
    named = {
        p
        for p in problems
        for b in (*BROKEN, "broken/truncated", "nest/inner/loop", "dangling", "pipe", "socket", "locked")
        if lines_naming([p], tree / b)
    }
    own = {f"warning: {w}" for r in records for w in r["warnings"]}  # a good run's own (the jsonl has one)
    assert named | own == set(problems), set(problems) - named - own  # nothing else complained about

    for hidden in HIDDEN:
        assert hidden not in verdicts
    assert not any("locked" in r["run"] for r in records)
    errors = [r for r in records if r["verdict"] == "error"]
    assert len(errors) == len(BROKEN)


def test_hidden_and_dependency_folders_are_walked_when_asked(tree: Path) -> None:
    result, records, _ = classify(str(tree), "-j", "1", "--hidden")
    verdicts = {r["run"]: r["verdict"] for r in records}
    for hidden in HIDDEN:
        assert verdicts[hidden] == "stepped"
    assert result.exit_code == ExitStatus.RUN_FAILED


def test_the_output_is_the_same_every_time_and_with_any_number_of_jobs(tree: Path) -> None:
    first, _, _ = classify(str(tree), "-j", "1")
    again, _, _ = classify(str(tree), "-j", "1")
    parallel, _, _ = classify(str(tree), "-j", "2")
    assert first.stdout == again.stdout == parallel.stdout
    assert first.stderr == again.stderr == parallel.stderr
    assert first.exit_code == again.exit_code == parallel.exit_code
    runs = [json.loads(line)["run"] for line in first.stdout.splitlines()]
    assert runs == sorted(runs, key=lambda r: r.split(":")[0].split("/")), "folders are walked sorted"


def test_a_folder_that_cannot_be_listed_fails_the_run_even_when_all_else_is_good(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, records, lines = classify(str(tree), "-j", "1", "--include", "hf-*")
    assert {r["verdict"] for r in records} <= {"stepped", "smooth"}
    assert result.exit_code == ExitStatus.RUN_FAILED
    [line] = lines_naming(problem_lines(lines), tree / "locked")
    assert line.startswith("error: ") and "ermission denied" in line
    unlock(tree, monkeypatch)
    result, _, lines = classify(str(tree), "-j", "1", "--include", "hf-*")
    assert result.exit_code == ExitStatus.OK and not lines_naming(lines, tree / "locked")


def unlock(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    (tree / "locked").chmod(stat.S_IRWXU)


def test_include_and_exclude_globs(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a glob matches the run's path below the root, its full path or its name; `*` also matches `/`
    unlock(tree, monkeypatch)
    result, records, lines = classify(str(tree), "-j", "1", "--include", "hf-*")
    assert {r["run"] for r in records} == {run for run in GOOD if run.startswith(("hf-", "exports/hf-"))}
    assert result.exit_code == ExitStatus.OK

    result, records, lines = classify(str(tree), "-j", "1", "--exclude", "broken/*", "--exclude", "*.csv")
    runs = {r["run"] for r in records}
    assert not any(r.startswith("broken/") or ".csv" in r for r in runs)
    assert {"alpaca", "hf-stepped", "hf-smooth", "llama-factory"} <= runs
    # the odd entries still warn, but only --strict makes warnings fail
    assert result.exit_code == ExitStatus.OK and problem_lines(lines)
    assert all(line.startswith("warning: ") for line in problem_lines(lines))
    strict, _, _ = classify(str(tree), "-j", "1", "--exclude", "broken/*", "--exclude", "*.csv", "--strict")
    assert strict.exit_code == ExitStatus.RUN_FAILED

    result, records, lines = classify(str(tree), "-j", "1", "--include", "nothing-matches-*")
    assert result.exit_code == ExitStatus.NO_RUNS and records == []
    assert any("no training logs found" in line for line in lines)


def test_a_folder_given_twice_and_a_link_to_a_run_are_read_once(tree: Path, tmp_path: Path) -> None:
    os.symlink(tree / "alpaca", tmp_path / "alpaca-link")
    alpaca = str(tree / "alpaca")
    result, records, _ = classify(alpaca, str(tmp_path / "alpaca-link"), alpaca, "-j", "1")
    assert [r["verdict"] for r in records] == ["stepped"]
    assert result.exit_code == ExitStatus.OK


def test_odd_paths_on_the_command_line(tree: Path) -> None:
    result, records, lines = classify(str(tree / "pipe"), str(tree / "alpaca"), "-j", "1")
    assert [r["run"] for r in records] == ["alpaca"]
    [line] = problem_lines(lines)
    assert line.startswith(f"warning: {tree / 'pipe'}: ")
    result, _, lines = classify(str(tree / "dangling"), "-j", "1")
    assert result.exit_code == ExitStatus.USAGE
    assert len(lines) == 1 and str(tree / "dangling") in lines[0]
    result, _, lines = classify(str(tree / "notes" / "README.txt"), "-j", "1")
    assert result.exit_code == ExitStatus.NO_RUNS
    assert any(str(tree / "notes" / "README.txt") in line and "not a training log" in line for line in lines)


def test_show_walks_the_same_tree_without_tracebacks(tree: Path) -> None:
    result = runner.invoke(app, ["show", str(tree), "-f", "jsonl"])
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exit_code == ExitStatus.RUN_FAILED
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"alpaca", "hf-stepped", "hf-smooth"} <= {i["run"] for i in items}
    assert len(lines_naming(result.stderr.splitlines(), tree / "nest/inner/loop")) == 1


# --- bugs found once, each kept as a test so that it stays fixed ---------------------------------------------


def test_a_bad_csv_anywhere_does_not_take_the_good_runs_down(tree: Path) -> None:
    # a bare CR in the first line of any *.csv the walk met once raised csv.Error out of the walk: one
    # "unexpected failure" line that named no file, and no verdict at all
    write(tree / "notes" / "table.csv", b"when\rwhat\n1,2\n")
    result, records, lines = classify(str(tree), "-j", "1")
    assert {r["run"] for r in records} >= set(GOOD)
    assert len(lines_naming(lines, tree / "notes" / "table.csv")) <= 1
    assert not any("unexpected failure" in line for line in lines)


def test_an_empty_lightning_metrics_csv_is_reported(tree: Path) -> None:
    # a crashed Lightning run leaves an empty (or header-cut) `lightning_logs/version_N/metrics.csv`; a claim by
    # its header alone once passed it over without a word, unlike an empty trainer_state.json
    write(tree / "lightning_logs" / "version_1" / "metrics.csv", b"")
    _, records, lines = classify(str(tree), "-j", "1")
    assert len(lines_naming(problem_lines(lines), tree / "lightning_logs" / "version_1" / "metrics.csv")) == 1


def test_a_message_names_the_path_exactly_as_it_is(tmp_path: Path) -> None:
    # a rich Console with its emoji codes on once printed "run:smile:" as "run😄": the line no longer named the
    # file
    write(tmp_path / "run:smile:" / "trainer_state.json", b"")
    _, _, lines = classify(str(tmp_path), "-j", "1")
    assert any(str(tmp_path / "run:smile:" / "trainer_state.json") in line for line in lines), lines


def test_what_the_walk_has_met_is_remembered_the_same_once_merged(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk keeps what it met (folders, runs) in a compact sorted array once there are many: merging after
    every second key gives the same runs, the same link-loop warning and the same output."""
    import losscli.discover

    os.symlink(tree / "alpaca", tree / "nest" / "alpaca-link")  # a run met twice, once through a link
    before, _, _ = classify(str(tree), str(tree / "alpaca"), "-j", "1")
    monkeypatch.setattr(losscli.discover, "_MERGE", 2)
    after, records, lines = classify(str(tree), str(tree / "alpaca"), "-j", "1")
    assert after.stdout == before.stdout and after.stderr == before.stderr
    assert len([r for r in records if r["run"] == "alpaca"]) == 1
    assert any("link to a folder already visited" in line for line in lines)
