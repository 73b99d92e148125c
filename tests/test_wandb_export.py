"""W&B chart CSV exports and run-history exports (CSV, JSON, JSONL, Parquet).

Public files are in tests/data/wandb/corpus/ (SOURCES.md cites them); the history exports in
tests/data/wandb/exports/ are pandas dumps of the real offline run in tests/data/wandb/direct/; variants are
written from those in tmp_path.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

from losscli.errors import ParseError
from losscli.parsers.base import ReadOptions, Source
from losscli.parsers.wandb.chart import split_columns
from losscli.parsers.wandb.exports import WandbChartCsv, WandbHistoryExport
from losscli.parsers.wandb.run_folder import WandbRunFormat

DATA = Path(__file__).parent / "data" / "wandb"
CORPUS = DATA / "corpus"
EXPORTS = DATA / "exports"
SAMPLES = Path(__file__).parent.parent / "sample_logs" / "wandb-exports"
CHART, HISTORY = WandbChartCsv(), WandbHistoryExport()
# first lines of other formats' real files (tbcsv-abiye-bert, lt-slm-20ep; see SOURCES.md)
TB_CSV = b"Wall time,Step,Value\n1650382697.1388245,400,0.19779999554157257\n"
LIGHTNING_CSV = (
    b"epoch,epoch_time,step,train_epoch_perplexity,train_loss_epoch,train_loss_step,"
    b"train_perplexity_epoch,train_perplexity_step,val_epoch_perplexity,val_loss,val_perplexity\n"
    b"0,,49,,,8.620475769042969,,5544.0234375,,,\n"
)


def head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(4096)


def claims(path: Path) -> list[str]:
    return [f.name for f in (CHART, HISTORY) if f.claim_file(path, head(path))]


def read(fmt, path: Path):
    return fmt.read(Source(fmt.name, path, (path,)), ReadOptions())


def direct_history() -> pd.DataFrame:
    return pd.read_csv(EXPORTS / "direct_history.csv", index_col=0)


# --- claims -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CORPUS / "wb-evergreen-cifar10" / "cifar10.csv", ["wandb_csv"]),
        (CORPUS / "wb-druidowm-nanogpt" / "wandb_export.csv", ["wandb_csv"]),
        (CORPUS / "wb-lucas-nanogpt-hist" / "baseline_seed2026_0tku5ah1_history.csv", ["wandb_history"]),
        (CORPUS / "wb-oraby-tts-hist" / "wandb_history.csv", ["wandb_history"]),
        (CORPUS / "wb-jlpang-dpo-hist" / "train_loss.csv", ["wandb_history"]),
        (EXPORTS / "direct_history.csv", ["wandb_history"]),
        (EXPORTS / "direct_history.json", ["wandb_history"]),
        (EXPORTS / "direct_history_records.json", ["wandb_history"]),
        (EXPORTS / "direct_history.jsonl", ["wandb_history"]),
        (EXPORTS / "direct_history.parquet", ["wandb_history"]),
    ],
)
def test_claims(path, expected):
    assert claims(path) == expected


@pytest.mark.parametrize("content", [TB_CSV, LIGHTNING_CSV, b"step,loss\n1,2.0\n", b"", b"\xff\xfe\x00garbage"])
def test_other_csv_logs_are_not_claimed(tmp_path, content):
    path = tmp_path / "metrics.csv"
    path.write_bytes(content)
    assert claims(path) == []


def test_other_json_and_parquet_are_not_claimed(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{"log_history": [{"_step": 1}]}')
    assert claims(tmp_path / "trainer_state.json") == []
    (tmp_path / "wandb-summary.json").write_text('{"_step": 99, "train/loss": 0.5, "_runtime": 12.5}')
    assert claims(tmp_path / "wandb-summary.json") == []
    pd.DataFrame({"step": [1, 2], "loss": [1.0, 0.5]}).to_parquet(tmp_path / "other.parquet")
    assert claims(tmp_path / "other.parquet") == []


def test_a_chart_against_step_is_a_chart_not_a_history(tmp_path):
    path = tmp_path / "wandb_export.csv"
    header = '"_step","run a - train/loss","run a - train/loss__MIN","run a - train/loss__MAX"'
    path.write_text(header + "\n1,2,2,2\n")
    assert claims(path) == ["wandb_csv"]


def test_a_long_chart_header_cut_by_the_head_is_still_claimed(tmp_path):
    names = [f"run number {i} - with - dashes" for i in range(60)]
    header = ["Step"] + [f"{n} - train/loss{s}" for n in names for s in ("", "__MIN", "__MAX")]
    path = tmp_path / "wandb_export.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerow(header)
    assert len(head(path)) == 4096 and claims(path) == ["wandb_csv"]


# --- chart exports ------------------------------------------------------------------------------------------


def test_chart_export_two_runs():
    runs = read(CHART, CORPUS / "wb-evergreen-cifar10" / "cifar10.csv")
    assert [r.name for r in runs] == ["colu", "relu"]
    colu = runs[0]
    assert colu.format == "wandb_csv" and colu.meta["export_run"] == "colu"
    assert colu.metrics() == {"train/loss": 500}  # __MIN/__MAX are not metrics
    loss = colu.metric("train/loss")
    assert loss["step"].tolist()[:3] == [0, 1, 2]
    assert loss["value"].iloc[0] == 0.3106890618801117
    assert runs[1].metric("train/loss")["value"].iloc[0] == 0.48365509510040283
    assert "bucketed by the W&B UI" in colu.notes[0]
    assert loss["epoch"].isna().all() and loss["wall_time"].isna().all()


def test_chart_export_eight_runs_with_empty_cells():
    path = CORPUS / "wb-druidowm-nanogpt" / "wandb_export.csv"
    runs = read(CHART, path)
    assert len(runs) == 8
    first = runs[0]
    assert first.name == "gpt2_last_char_to_char1729642919.4054031"
    loss = first.metric("train/loss")
    assert len(loss) == 51  # 51 non-empty of 386 rows: blanks are missing values, not zeros
    assert loss["value"].min() > 0 and not loss["value"].isna().any()
    raw = pd.read_csv(path)
    column = raw["gpt2_last_char_to_char1729642919.4054031 - train/loss"]
    assert loss["step"].tolist() == raw.loc[column.notna(), "Step"].tolist()
    assert [r.meta["export_run"] for r in runs].count("gpt2") == 1


def rewrite_header(source: Path, target: Path, rename: dict[str, str]) -> None:
    rows = list(csv.reader(source.open(newline="")))
    rows[0] = [_renamed(c, rename) for c in rows[0]]
    with target.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)


def _renamed(column: str, rename: dict[str, str]) -> str:
    for old, new in rename.items():
        if column.startswith(old + " - "):
            return new + column[len(old) :]
    return column


def test_run_names_containing_the_separator(tmp_path):
    path = tmp_path / "export.csv"
    rewrite_header(
        CORPUS / "wb-evergreen-cifar10" / "cifar10.csv",
        path,
        {"colu": "exp - colu - lr 0.1", "relu": "baseline - relu"},
    )
    runs = read(CHART, path)
    assert [r.meta["export_run"] for r in runs] == ["exp - colu - lr 0.1", "baseline - relu"]
    assert runs[0].metric("train/loss")["value"].iloc[0] == 0.3106890618801117


def test_split_columns_prefers_the_metric_shared_by_the_runs():
    columns = [
        "a - b - train/loss",
        "a - b - eval/loss",
        "c - train/loss",
        "c - eval/loss",
        "c - train/loss__MIN",
    ]
    assert split_columns(columns) == {
        "a - b - train/loss": ("a - b", "train/loss"),
        "a - b - eval/loss": ("a - b", "eval/loss"),
        "c - train/loss": ("c", "train/loss"),
        "c - eval/loss": ("c", "eval/loss"),
    }
    # with `_step` columns the run names are known exactly, even for a metric name containing " - "
    columns = ["x - y - _step", "x - y - loss - smoothed", "z - _step", "z - loss - smoothed"]
    assert split_columns(columns)["x - y - loss - smoothed"] == ("x - y", "loss - smoothed")


def chart_from_history(table: pd.DataFrame, run: str, x_axis: str, with_step: bool) -> pd.DataFrame:
    """The chart CSV layout for one run's real history, plotted against `x_axis`."""
    rows = table[table["train/loss"].notna()]
    out = pd.DataFrame({x_axis: rows[x_axis].to_numpy()})
    for metric in ("train/loss", "_step") if with_step else ("train/loss",):
        for suffix in ("", "__MIN", "__MAX"):
            out[f"{run} - {metric}{suffix}"] = rows[metric].to_numpy()
    return out


def test_chart_with_an_epoch_x_axis_takes_steps_from_the_step_column(tmp_path):
    table = direct_history()
    path = tmp_path / "by_epoch.csv"
    chart = chart_from_history(table, "direct - stepped demo", "train/epoch", with_step=True)
    chart.to_csv(path, index=False)
    assert claims(path) == ["wandb_csv"]
    (run,) = read(CHART, path)
    assert run.meta["export_run"] == "direct - stepped demo"
    loss = run.metric("train/loss")
    expected = table[table["train/loss"].notna()]
    assert loss["step"].tolist() == expected["_step"].tolist()
    assert loss["epoch"].tolist() == expected["train/epoch"].tolist()
    assert loss["value"].tolist() == expected["train/loss"].tolist()
    assert len(run.metric("train/epoch")) == 48


def test_chart_against_train_global_step(tmp_path):
    table = pd.read_csv(SAMPLES / "hf-stepped_history.csv", index_col=0) if SAMPLES.is_dir() else None
    if table is None:
        pytest.skip("sample_logs/wandb-exports not made yet")
    path = tmp_path / "hf.csv"
    chart_from_history(table, "hf-stepped", "train/global_step", with_step=True).to_csv(path, index=False)
    (run,) = read(CHART, path)
    loss = run.metric("train/loss")
    assert loss["step"].tolist() == list(range(1, 101))  # not `_step`, which counts the eval rows too
    assert "steps are the chart's x-axis `train/global_step`" in run.notes


def test_chart_with_a_non_step_x_axis_and_no_step_column(tmp_path):
    path = tmp_path / "by_time.csv"
    chart = chart_from_history(direct_history(), "direct", "_runtime", with_step=False)
    chart.rename(columns={"_runtime": "Relative Time (Process)"}).to_csv(path, index=False)
    (run,) = read(CHART, path)
    assert run.metric("train/loss")["step"].tolist() == list(range(48))
    assert any("row number" in n for n in run.notes)


def test_grouped_lines(tmp_path):
    path = tmp_path / "grouped.csv"
    rewrite_header(CORPUS / "wb-evergreen-cifar10" / "cifar10.csv", path, {"colu": "Group: act-sweep"})
    runs = read(CHART, path)
    assert runs[0].name == "Group: act-sweep"
    assert any("group's aggregate" in n for n in runs[0].notes)


def test_bucketed_rows_are_counted(tmp_path):
    path = tmp_path / "bucketed.csv"
    chart = chart_from_history(direct_history(), "r", "_step", with_step=False)
    chart.loc[::2, "r - train/loss__MIN"] -= 0.1
    chart.to_csv(path, index=False)
    (run,) = read(CHART, path)
    assert run.meta["bucketed_rows"] == 24
    assert "(24 rows merged several points" in run.notes[0]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="sample_logs/wandb-exports not made yet")
def test_sample_chart_export_with_three_runs_gives_three_runs():
    (path,) = SAMPLES.glob("wandb_export_*.csv")
    runs = read(CHART, path)
    assert [r.name for r in runs] == ["hf-stepped", "hf-smooth", "wandb-direct"]
    assert [len(r.metric("train/loss")) for r in runs] == [100, 96, 80]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="sample_logs/wandb-exports not made yet")
def test_sample_history_export_matches_its_run_folder():
    (exported,) = read(HISTORY, SAMPLES / "hf-stepped_history.csv")
    fmt = WandbRunFormat()
    folder = SAMPLES.parent / "hf-stepped" / "wandb"
    (source,) = fmt.claim_folder(folder, [], [p.name for p in folder.iterdir() if p.is_dir()]).sources
    (native,) = fmt.read(source, ReadOptions())
    pd.testing.assert_frame_equal(frame_of(exported), frame_of(native))
    assert exported.meta["step_key"] == "train/global_step"


# --- history exports ----------------------------------------------------------------------------------------


def test_history_denser_series_gets_the_canonical_name():
    (run,) = read(HISTORY, CORPUS / "wb-lucas-nanogpt-hist" / "baseline_seed2026_0tku5ah1_history.csv")
    assert run.format == "wandb_history" and run.name == "baseline_seed2026_0tku5ah1_history"
    loss = run.metric("train/loss")
    assert len(loss) == 501 and set(loss["tag"]) == {"train/step_loss"}
    assert loss["value"].iloc[0] == 4.137416839599609
    sparse = run.metric("train/loss (sparser)")
    assert len(sparse) == 21 and sparse["value"].iloc[0] == 4.0956315994262695
    assert len(run.metric("eval/loss")) == 21
    assert "Sample Generation" not in run.metrics()  # media column
    assert any(n.startswith("`train/step_loss` (501 points) is taken as train/loss;") for n in run.notes)


def test_history_with_pandas_index_column_and_sparse_rows():
    (run,) = read(HISTORY, CORPUS / "wb-oraby-tts-hist" / "wandb_history.csv")
    metrics = run.metrics()
    assert not any(m.startswith("Unnamed") for m in metrics)
    assert metrics["train/loss"] == 41 and metrics["eval/loss"] == 8
    assert metrics["trainable_parameters"] == 1  # only row 0 has it
    loss = run.metric("train/loss")
    assert loss["step"].iloc[0] == 1 and loss["value"].iloc[0] == 0.17817425727844238
    assert loss["wall_time"].iloc[0] == 1772452608.7570686


def test_tiny_history():
    (run,) = read(HISTORY, CORPUS / "wb-jlpang-dpo-hist" / "train_loss.csv")
    assert run.metric("train/loss")["value"].tolist() == [0.6806, 0.7104, 0.7062, 0.6424, 0.6977, 0.6399]


def frame_of(run) -> pd.DataFrame:
    return run.scalars.sort_values(["metric", "step"]).reset_index(drop=True)


@pytest.mark.parametrize(
    "name",
    [
        "direct_history.json",
        "direct_history_records.json",
        "direct_history.jsonl",
        "direct_history.parquet",
    ],
)
def test_every_history_format_gives_the_same_frame(name):
    (reference,) = read(HISTORY, EXPORTS / "direct_history.csv")
    (run,) = read(HISTORY, EXPORTS / name)
    pd.testing.assert_frame_equal(frame_of(run), frame_of(reference))


def test_history_export_matches_the_run_folder():
    (exported,) = read(HISTORY, EXPORTS / "direct_history.csv")
    fmt = WandbRunFormat()
    folder = DATA / "direct" / "wandb"
    source = fmt.claim_folder(folder, ["latest-run"], [p.name for p in folder.iterdir()]).sources[0]
    (native,) = fmt.read(source, ReadOptions())
    assert exported.metrics() == native.metrics()
    pd.testing.assert_frame_equal(frame_of(exported), frame_of(native))


@pytest.mark.parametrize("orient", ["split", "index", "table", "columns", "records"])
def test_json_orients(tmp_path, orient):
    path = tmp_path / "history.json"
    direct_history().to_json(path, orient=orient)
    (run,) = read(HISTORY, path)
    (reference,) = read(HISTORY, EXPORTS / "direct_history.csv")
    pd.testing.assert_frame_equal(frame_of(run), frame_of(reference))


def test_jsonl_with_a_cut_off_last_line(tmp_path):
    text = (EXPORTS / "direct_history.jsonl").read_text()
    path = tmp_path / "history.jsonl"
    path.write_text(text[: text.rstrip().rfind("\n") + 30])
    (run,) = read(HISTORY, path)
    assert any("cut off" in w for w in run.warnings)
    assert len(run.metric("eval/loss")) == 3 and len(run.metric("train/loss")) == 48


def test_history_with_global_step_uses_it(tmp_path):
    table = direct_history()
    table["train/global_step"] = (table["_step"] + 1) * 10
    path = tmp_path / "hf.csv"
    table.to_csv(path, index=False)
    (run,) = read(HISTORY, path)
    assert run.metric("train/loss")["step"].iloc[0] == 10
    assert "train/global_step" not in run.metrics()


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("h.csv", "_step,_runtime\n0,1.0\n1,2.0\n", "no numeric history values"),
        ("h.json", '{"_step": [1, 2], "note": ["a", "b"]}', "no numeric history values"),
        ("h.json", '[1, 2, 3] "_step"', "invalid JSON"),
        ("h.jsonl", '"_step"\n', "no JSON object lines"),
        ("h.parquet", "PAR1 _step not really", "not a readable Parquet file"),
    ],
)
def test_unreadable_history_exports(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ParseError, match=problem):
        read(HISTORY, path)


def test_a_sampled_history_is_noted(tmp_path):
    path = tmp_path / "h.csv"
    pd.DataFrame({"_step": range(0, 1000, 2), "train/loss": [1.0] * 500}).to_csv(path)
    (run,) = read(HISTORY, path)
    assert any("default sample" in n for n in run.notes)


def test_nan_cells_are_missing_not_points(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("_step,train/loss\n0,1.5\n1,\n2,NaN\n3,0.5\n")
    (run,) = read(HISTORY, path)
    assert run.metric("train/loss")["step"].tolist() == [0, 3]
    assert not math.isnan(run.metric("train/loss")["value"].sum())
