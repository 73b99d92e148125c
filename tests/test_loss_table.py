"""Any loss table: the same 80 rows of a memorising run written six ways by the standard writers
(tests/data/tables, scripts/make_table_samples.py): CSV, TSV, JSONL, Parquet with the usual column names, the
other usual spellings, and columns no reader could guess (which need --step-col and friends)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

import losscli
from losscli.cli import app
from losscli.frame import EVAL_LOSS, LEARNING_RATE, TRAIN_LOSS
from losscli.parsers.base import ReadOptions
from losscli.parsers.line_logs import feed_file
from losscli.parsers.loss_table import TableLines

TABLES = DATA / "tables"
USUAL = ["loss_table.csv", "loss_table.tsv", "loss_table.jsonl", "loss_table.parquet", "aliases.csv"]
UNUSUAL = ReadOptions(loss_col="objective", epoch_col="pass", eval_col="holdout_objective")


def frame_of(run: losscli.frame.Run) -> dict[str, tuple[list[int], list[float], list[float]]]:
    return {m: (s.step.tolist(), s.value.tolist(), s.epoch.tolist()) for m in run.metrics() if (s := run.series(m))}


@pytest.mark.parametrize("name", USUAL)
def test_every_writer_gives_the_same_run_and_verdict(name: str) -> None:
    [run] = losscli.load(TABLES / name)
    [reference] = losscli.load(TABLES / "loss_table.csv")
    assert run.format == "loss_table"
    assert frame_of(run) == frame_of(reference)
    assert sorted(run.metrics()) == sorted([TRAIN_LOSS, EVAL_LOSS, LEARNING_RATE])
    assert run.series(EVAL_LOSS).step.tolist() == [20, 40, 60, 80]
    analysis = losscli.analyze(run)
    assert analysis.verdict == "stepped", analysis.reason
    assert [b.epoch for b in analysis.boundaries if b.stepped] == [1, 2, 3]
    assert analysis.memorization  # eval rises as the train loss steps down


def test_a_1_based_epoch_count_is_not_read_as_lightnings_0_based_index() -> None:
    [run] = losscli.load(TABLES / "loss_table.csv")
    epochs = run.series(TRAIN_LOSS).epoch
    assert 0 < epochs[0] < 0.1 and epochs.max() == pytest.approx(3.975)  # 4 epochs, not 4.975
    assert any("1-based epoch count" in note for note in run.notes)
    assert run.meta["epoch_values"].startswith("`epoch` is a 1-based epoch count")


def test_unnamed_columns_get_one_error_that_lists_them() -> None:
    path = TABLES / "unusual_columns.csv"
    result = CliRunner().invoke(app, ["classify", str(path), "-f", "jsonl", "-j", "1"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {path}: cannot tell which column is the loss: the table's columns are 'iter', 'pass', 'objective', "
        "'holdout_objective', 'eta'; name it with --loss-col NAME (and --epoch-col, --eval-col)"
    )


def test_named_columns_read_the_unusual_table_as_the_usual_one() -> None:
    [run] = losscli.load(TABLES / "unusual_columns.csv", read_options=UNUSUAL)
    [reference] = losscli.load(TABLES / "loss_table.csv")
    for metric in (TRAIN_LOSS, EVAL_LOSS):
        assert frame_of(run)[metric] == frame_of(reference)[metric]
    assert any("0-based epoch index" in note for note in run.notes)  # `pass` counts from 0
    assert "columns read: step `iter`, epoch `pass`, train/loss `objective`" in run.notes[0]


def test_named_columns_find_such_tables_while_walking_a_tree(tmp_path: Path) -> None:
    shutil.copy(TABLES / "unusual_columns.csv", tmp_path)
    (tmp_path / "notes.csv").write_text("name,comment\na,b\n")  # not a loss table: not taken
    runner = CliRunner()
    assert runner.invoke(app, ["classify", str(tmp_path), "-j", "1"]).exit_code == 3
    result = runner.invoke(app, ["classify", str(tmp_path), "-f", "csv", "-j", "1", "--loss-col", "objective"])
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["unusual_columns.csv"]


def test_a_named_column_the_table_lacks_is_said_and_the_usual_names_used() -> None:
    [run] = losscli.load(TABLES / "loss_table.csv", read_options=ReadOptions(loss_col="objective"))
    assert "--loss-col objective: the table has no such column; the usual names were used" in run.notes


def test_a_chosen_loss_column_wins_over_a_usual_name(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("step,loss,smoothed_loss\n1,5,4\n2,4,3\n")
    [run] = losscli.load(table, read_options=ReadOptions(loss_col="smoothed_loss"))
    assert run.series(TRAIN_LOSS).value.tolist() == [4.0, 3.0]
    assert run.series("loss").value.tolist() == [5.0, 4.0]  # keeps its own name


def test_a_nan_the_writer_wrote_is_a_point_an_empty_cell_is_not(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("step,loss,eval_loss\n1,5.0,\n2,nan,\n3,inf,3.5\n")
    [run] = losscli.load(table)
    loss = run.series(TRAIN_LOSS)
    assert loss.step.tolist() == [1, 2, 3] and np.isnan(loss.value[1]) and loss.value[2] == np.inf
    assert run.series(EVAL_LOSS).step.tolist() == [3]


def test_parquet_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = CliRunner().invoke(app, ["classify", str(TABLES / "loss_table.parquet"), "-f", "jsonl", "-j", "1"])
    assert result.exit_code == 1
    assert "reading Parquet needs pyarrow (pip install 'losscli[parquet]')" in result.stderr


@pytest.mark.parametrize("name", ["loss_table.csv", "loss_table.jsonl"])
def test_fed_line_by_line_it_is_the_same_run(name: str) -> None:
    lines = (TABLES / name).read_text().splitlines()
    parser = TableLines(TABLES / name)
    for start in range(0, len(lines), 7):
        parser.feed(lines[start : start + 7])
        if start > 0:
            assert len(parser.run().series(TRAIN_LOSS)) == min(start + 7, len(lines)) - (name.endswith(".csv"))
    assert frame_of(parser.run()) == frame_of(feed_file(TableLines(TABLES / name)).run())
