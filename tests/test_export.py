"""`losscli export`: every run's points as one long table, read back and compared with the runs themselves."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DATA, SAMPLE_LOGS

import losscli
from losscli.api import ReadFailure
from losscli.cli import ExitStatus, app
from losscli.frame import EVAL_LOSS, TRAIN_LOSS

runner = CliRunner()
COLUMNS = ["run", "format", "path", "metric", "tag", "step", "epoch", "value", "wall_time"]


def held(paths: list[Path], **kwargs: object) -> pd.DataFrame:
    """Every point the runs hold, as losscli reads them, in the export's columns."""
    parts = []
    for run in losscli.iter_runs(paths, jobs=1, **kwargs):
        assert not isinstance(run, ReadFailure), run
        frame = run.scalars.assign(run=run.name, format=run.format, path=str(run.path))
        parts.append(frame[COLUMNS])
    return pd.concat(parts, ignore_index=True)


def assert_same_points(exported: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same rows, in the same order, NaN equal to NaN."""
    assert list(exported.columns) == COLUMNS
    assert len(exported) == len(expected)
    for column in COLUMNS[:5]:
        assert exported[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    assert exported["step"].tolist() == expected["step"].tolist()
    for column in ("epoch", "value", "wall_time"):
        np.testing.assert_array_equal(exported[column].to_numpy(float), expected[column].to_numpy(float), column)


def test_the_whole_sample_tree_exported_to_parquet_holds_every_point(tmp_path: Path) -> None:
    target = tmp_path / "all.parquet"
    result = runner.invoke(app, ["export", str(SAMPLE_LOGS), "--to", str(target), "-j", "2"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    exported = pd.read_parquet(target)
    expected = held([SAMPLE_LOGS])
    assert_same_points(exported, expected)
    assert exported["run"].nunique() == 55 and exported["format"].nunique() == 10
    assert result.stderr.splitlines()[-1] == f"55 runs: {len(expected)} points written to {target}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.parquet"]  # no temporary file left


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_csv_and_jsonl_hold_the_same_points(tmp_path: Path, suffix: str) -> None:
    paths = [SAMPLE_LOGS / "console", SAMPLE_LOGS / "mlflow-sqlite"]  # NaN and infinite values among them
    target = tmp_path / f"all{suffix}"
    assert runner.invoke(app, ["export", *map(str, paths), "--to", str(target), "-j", "1"]).exit_code == 0
    expected = held(paths)
    if suffix == ".csv":
        exported = pd.read_csv(target, keep_default_na=False, na_values={"epoch": [""], "wall_time": [""]})
        exported["value"] = exported["value"].astype(float)  # `nan`, `inf`, `-inf` as Python writes them
        assert_same_points(exported, expected)
    else:
        rows = [json.loads(line) for line in target.read_text().splitlines()]  # strict JSON: no NaN
        exported = pd.DataFrame(rows).fillna(value=np.nan)
        finite = np.isfinite(expected["value"].to_numpy(float))
        expected.loc[~finite, "value"] = np.nan  # JSON has no NaN or infinity: null
        assert_same_points(exported, expected)


def test_csv_to_stdout_with_some_metrics_only() -> None:
    result = runner.invoke(
        app, ["export", str(SAMPLE_LOGS / "hf-stepped"), "--to", "-", "--metrics", "loss,eval_loss", "-j", "1"]
    )
    assert result.exit_code == 0, result.stderr
    exported = pd.read_csv(io.StringIO(result.stdout))
    assert set(exported["metric"]) == {TRAIN_LOSS, EVAL_LOSS}
    assert len(exported) == 100 * 3 + 20 * 3  # trainer_state, TensorBoard and W&B: 100 train and 20 eval each
    assert "points written to stdout" in result.stderr


def test_the_library_function_writes_what_the_command_writes(tmp_path: Path) -> None:
    summary = losscli.export([DATA / "tables"], to=tmp_path / "t.parquet", metrics=["loss"], jobs=1)
    assert summary.runs == 5 and summary.rows == 5 * 80 and not summary.failures
    exported = pd.read_parquet(tmp_path / "t.parquet")
    assert set(exported["metric"]) == {TRAIN_LOSS} and len(exported) == summary.rows


def test_a_run_that_cannot_be_read_is_an_error_and_the_others_are_written(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    unnamed = DATA / "tables" / "unusual_columns.csv"  # named on the command line: read, and its error said
    result = runner.invoke(app, ["export", str(DATA / "tables"), str(unnamed), "--to", str(target), "-j", "1"])
    assert result.exit_code == ExitStatus.RUN_FAILED
    assert "cannot tell which column is the loss" in result.stderr
    assert "6 runs (1 could not be read)" in result.stderr.splitlines()[-1]
    assert pd.read_csv(target)["run"].nunique() == 5


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("out.xlsx", "--to {t}: name a .csv, .jsonl or .parquet file (or - for CSV on stdout)"),
        ("missing/out.csv", "--to {t}: the folder {d} does not exist"),
    ],
)
def test_a_bad_target_is_a_usage_error_before_anything_is_read(tmp_path: Path, target: str, message: str) -> None:
    t = tmp_path / target
    result = runner.invoke(app, ["export", str(SAMPLE_LOGS), "--to", str(t)])
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr == f"Error: {message.format(t=t, d=t.parent)}\n"


def test_nothing_found_creates_no_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["export", str(tmp_path / "empty"), "--to", str(tmp_path / "out.parquet")])
    assert result.exit_code == ExitStatus.NO_RUNS
    assert not (tmp_path / "out.parquet").exists()


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = runner.invoke(app, ["export", str(SAMPLE_LOGS / "hf-stepped"), "--to", str(tmp_path / "a.parquet")])
    assert result.exit_code == ExitStatus.USAGE
    assert result.stderr == "Error: writing Parquet needs pyarrow: pip install 'losscli[parquet]'\n"


def test_an_interrupted_export_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import losscli.table_export

    real = losscli.table_export.iter_runs

    def interrupted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for i, item in enumerate(real(*args, **kwargs)):  # type: ignore[arg-type]
            if i == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(losscli.table_export, "iter_runs", interrupted)
    result = runner.invoke(app, ["export", str(SAMPLE_LOGS), "--to", str(tmp_path / "a.parquet"), "-j", "1"])
    assert result.exit_code == ExitStatus.INTERRUPTED
    assert list(tmp_path.iterdir()) == []
