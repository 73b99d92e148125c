"""The terminal table: as a pure function on fixed records (exact text), then through the CLI for a pipe, a
terminal (FORCE_COLOR, which rich reads) and a terminal with NO_COLOR."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import corpus
from rich.console import Console

from losscli.analysis.result import Analysis, Boundary, EvalFinding, RunResult
from losscli.cli import ExitStatus, app
from losscli.report.table import eval_cell, render_table, summary_line

BOX = re.compile("[\u2500-\u257f]")  # box drawing; the sparkline's blocks (U+2581..U+2588) are not in it
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|9[0-7]|4[0-9]|10[0-7])(?:;[0-9;]*)?m")  # an SGR setting a colour
STEPPED_RED = re.compile(r"\x1b\[[0-9;]*31m(?:\x1b\[[0-9;]*m)*stepped")


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever terminal runs the tests, each test says itself whether the output is a terminal."""
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES", "CI"):
        monkeypatch.delenv(name, raising=False)


def _boundary(epoch: int, drop: float, stepped: bool) -> Boundary:
    return Boundary(
        epoch=epoch,
        step=10.0 * epoch,
        before=1.0,
        after=1.0 - drop,
        drop=drop,
        relative_drop=drop,
        z=8.0,
        t=20.0,
        share=1.0,
        stepped=stepped,
    )


def _curve(values: list[float]) -> dict[str, dict[str, list[Any]]]:
    n = len(values)
    steps = list(range(1, n + 1))
    return {"train/loss": {"step": steps, "value": values, "epoch": [s / 10 for s in steps]}}


STAIRS = [1.1] * 10 + [0.75] * 10 + [0.4] * 10
SLOPE = [1.2 - 0.02 * i for i in range(30)]
RESULTS = [  # deliberately not in name order
    RunResult(
        "runs/b-smooth",
        "/data/runs/b-smooth",
        "trainer_state",
        Analysis(
            "smooth",
            0.12,
            "no concentrated drop at 2 epoch boundaries",
            3.0,
            30,
            "logged epoch values",
            10.0,
            (_boundary(1, 0.02, False), _boundary(2, 0.019, False)),
            EvalFinding(3, 0.9, 30, 3.0, None, 0.9, False),
        ),
        curves=_curve(SLOPE),
    ),
    RunResult(
        "runs/a-stepped",
        "/data/runs/a-stepped",
        "trainer_log",
        Analysis(
            "stepped",
            1.0,
            "drops of 0.35 and 0.35 at the epoch 1 and 2 boundaries",
            3.0,
            30,
            "logged epoch values",
            10.0,
            (_boundary(1, 0.35, True), _boundary(2, 0.35, True)),
            EvalFinding(3, 0.8, 10, 1.0, "checkpoint-10", 1.1, True),
            memorization=True,
        ),
        curves=_curve(STAIRS),
    ),
    RunResult(
        "runs/c-broken",
        "/data/runs/c-broken",
        "tensorboard",
        None,
        error="/data/runs/c-broken: not a TensorBoard file",
    ),
]

PIPE = """\
run             format         epochs  points  verdict       score  max drop  eval                  train loss        reason
runs/a-stepped  trainer_log         3      30  stepped        1.00      0.35  memorizes; best ep 1  █████▆▄▄▄▄▄▁▁▁▁▁  drops of 0.35 and 0.35 at the epoch 1 and 2 boundaries
runs/b-smooth   trainer_state       3      30  smooth         0.12      0.02  best ep 3             ███▇▆▆▅▅▄▄▃▃▂▂▁▁  no concentrated drop at 2 epoch boundaries
runs/c-broken   tensorboard                    error                                                                  /data/runs/c-broken: not a TensorBoard file
"""  # noqa: E501


def render(results: list[RunResult], **console: object) -> str:
    out = io.StringIO()
    render_table(results, console=Console(file=out, **console))  # type: ignore[arg-type]
    return out.getvalue()


# --- the reporter on fixed records --------------------------------------------------------------------


def test_pipe_table_is_plain_sorted_and_exact() -> None:
    assert render(RESULTS, width=250) == PIPE


def test_terminal_table_colours_the_verdict_and_rules_the_header() -> None:
    text = render(RESULTS, width=250, force_terminal=True, color_system="standard")
    assert STEPPED_RED.search(text)
    lines = text.splitlines()
    assert set(lines[1]) == {"─"}  # a rule under the header, no frame around the table
    assert not BOX.search("".join(lines[:1] + lines[2:]))
    assert "runs/c-broken: not a TensorBoard file" in text


def test_no_color_terminal_has_no_colour_and_no_box() -> None:
    text = render(RESULTS, width=250, force_terminal=True, color_system="standard", no_color=True)
    assert not COLOUR.search(text) and not BOX.search(text)
    assert "stepped" in text and "█" in text


LONG_NAME = "sweeps/2024-06/llama-3-8b/lr-2e-5/warmup-0.03/seed-1234/checkpoint-9000"


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 200])
def test_a_terminal_of_any_width_shows_every_reason_and_whole_names(width: int) -> None:
    long_run = dataclasses.replace(RESULTS[0], run=LONG_NAME, path=LONG_NAME)
    results = [*RESULTS, long_run]
    text = render(results, width=width, force_terminal=True, color_system=None)
    lines = text.splitlines()
    header = lines[0].split()
    assert header[:1] == ["run"] and "verdict" in header
    assert set(lines[1]) == {"─"}
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    assert "…" not in text  # no name is cut
    # a long name wraps after a slash, its parts on consecutive lines of the run column
    start = next(i for i, line in enumerate(lines) if line.startswith("sweeps/"))
    parts = []
    for line in lines[start:]:
        if line.startswith(" ") or (parts and "".join(parts) == LONG_NAME):
            break
        parts.append(line.split("  ")[0])
    assert "".join(parts) == LONG_NAME, parts
    flat = words(text)
    for result in results:  # every reason and every eval finding, whole
        reason = result.analysis.reason if result.analysis else result.error
        assert words(reason or "") in flat, reason
        assert eval_cell(result) in flat
    # the sparkline is shown, or its column is named among those left out, with how to see it
    left_out = [c for c in ("format", "epochs", "points", "train loss") if c not in lines[0]]
    if left_out:
        note = flat[flat.index("(left out at this width: ") :]
        assert note.endswith("a wider terminal or --format csv shows them)")
        assert all(c in note for c in left_out)
    if "train loss" in lines[0]:
        assert "█████▆▄▄▄▄▄▁▁▁▁▁" in text
    values = next(line for line in lines if line.startswith("runs/a-stepped")).split()
    assert "stepped" in values and "1.00" in values and "0.35" in values  # no value cut


def test_at_80_columns_the_reason_is_under_its_row() -> None:
    text = render(RESULTS, width=80, force_terminal=True, color_system=None)
    assert text.splitlines()[2:5] == [
        "runs/a-stepped       3      30  stepped        1.00      0.35  █████▆▄▄▄▄▄▁▁▁▁▁",
        "  eval: memorizes; best ep 1",
        "  drops of 0.35 and 0.35 at the epoch 1 and 2 boundaries",
    ]
    assert text.splitlines()[-1].startswith("(left out at this width: format;")


def test_a_console_that_cannot_print_blocks_gets_an_ascii_sparkline() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii", errors="strict", write_through=True)
    render_table(RESULTS, console=Console(file=out, width=250))
    text = raw.getvalue().decode("ascii")
    row = next(line for line in text.splitlines() if line.startswith("runs/a-stepped"))
    assert "  #####+~~~~~_____  " in row  # the staircase, in ASCII


def test_the_cli_on_an_ascii_console_prints_instead_of_failing() -> None:
    result = CliRunner(charset="ascii").invoke(app, ["classify", str(corpus("ts-yc1999-alpaca")), "-j", "1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == ExitStatus.OK
    row = result.stdout.splitlines()[1]
    assert row.startswith("ts-yc1999-alpaca") and "stepped" in row
    assert re.search(r"  [_.\-~=+*#]{16}  ", row), row


def test_user_text_is_not_markup() -> None:
    error = "[link=http://x]y[/link] :smile:"
    tricky = RunResult("[bold red]not markup[/]", "x", "trainer_state", None, error=error)
    text = render([tricky], width=250)
    assert "[bold red]not markup[/]" in text and "[link=http://x]y[/link] :smile:" in text


def test_summary_line_counts_each_verdict() -> None:
    assert summary_line(RESULTS) == "3 runs: 1 stepped, 1 smooth, 1 error"
    assert summary_line(RESULTS[:1]) == "1 run: 1 smooth"
    assert summary_line([]) == "0 runs: none"


# --- through the CLI, on real logs --------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stepped run, a smooth run and an LFS pointer (real public logs), under one folder."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("ts-yc1999-alpaca", "ts-kgllm", "ts-observer-lfs-pointer"):
        shutil.copytree(corpus(name), root / name)
    return root


def classify(tree: Path, **env: str) -> str:
    result = runner.invoke(app, ["classify", str(tree), "-j", "1"], env=env)
    assert result.exit_code == ExitStatus.RUN_FAILED  # the LFS pointer
    assert "a Git LFS pointer" in result.stderr  # errors are also reported on stderr
    return result.stdout


def test_cli_in_a_pipe(tree: Path) -> None:
    out = classify(tree)
    assert "\x1b[" not in out and not BOX.search(out)
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["run", "format", "epochs", "points", "verdict"]
    names = [line.split()[0] for line in lines[1:4]]
    assert names == ["ts-kgllm", "ts-observer-lfs-pointer", "ts-yc1999-alpaca"]
    assert all(line == line.rstrip() for line in lines)  # no padding after the last column
    assert "█" in lines[3] and "stepped" in lines[3]
    assert lines[-1] == "3 runs: 1 stepped, 1 smooth, 1 error"


def test_cli_on_a_terminal(tree: Path) -> None:
    out = classify(tree, FORCE_COLOR="1")
    assert STEPPED_RED.search(out)
    assert "─" in out.splitlines()[1]
    assert out.splitlines()[-1] == "3 runs: 1 stepped, 1 smooth, 1 error"


def test_cli_on_a_terminal_with_no_color(tree: Path) -> None:
    out = classify(tree, FORCE_COLOR="1", NO_COLOR="1")
    assert not COLOUR.search(out) and not BOX.search(out)
    assert "stepped" in out and "ts-yc1999-alpaca" in out
