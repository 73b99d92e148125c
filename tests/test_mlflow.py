"""MLflow's two stores, on runs the real MLflow client wrote through the HF Trainer's MLflowCallback.

    sample_logs/mlflow-file/mlruns/<experiment>/<run id>/   the file store: meta.yaml, metrics/, params/, tags/
    sample_logs/mlflow-sqlite/mlflow.db                     the SQLite store (MLflow 3's default backend)

The same three runs (hf-stepped, hf-smooth, hf-nan; scripts/make_mlflow_samples.py) are in both, and hf-stepped is
also sample_logs/hf-stepped (its trainer_state.json): every way of reading it gives the same curves and verdict.
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS

import losscli
from losscli.cli import app
from losscli.frame import EPOCH, EVAL_LOSS, TRAIN_LOSS, Run

FILE_STORE = SAMPLE_LOGS / "mlflow-file"
DATABASE = SAMPLE_LOGS / "mlflow-sqlite" / "mlflow.db"
STEPPED_ID = "b101ecdefb694f9794998c39b0145916"
VERDICTS = {"hf-stepped": "stepped", "hf-smooth": "smooth", "hf-nan": "inconclusive"}


def by_name(runs: list[Run]) -> dict[str, Run]:
    return {run.meta["mlflow_run_name"]: run for run in runs}


@pytest.fixture(scope="module")
def file_runs() -> dict[str, Run]:
    return by_name(losscli.load(FILE_STORE))


@pytest.fixture(scope="module")
def db_runs() -> dict[str, Run]:
    return by_name(losscli.load(DATABASE))


@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_both_stores_give_the_verdicts_with_their_evidence(store: str, file_runs: dict, db_runs: dict) -> None:
    runs = file_runs if store == "file" else db_runs
    assert sorted(runs) == sorted(VERDICTS)
    for name, expected in VERDICTS.items():
        analysis = losscli.analyze(runs[name])
        assert analysis.verdict == expected, (name, analysis.reason)
    stepped = losscli.analyze(runs["hf-stepped"])
    assert [b.epoch for b in stepped.boundaries if b.stepped] == [1, 2, 3, 4]
    assert stepped.boundary_source == "logged epoch values"
    # the eval loss rises, but from its lowest point at step 5, before the first step (step 20): not the
    # memorization pattern, whose rise starts at or after the first stepped boundary
    assert stepped.eval is not None and stepped.eval.rises and stepped.eval.best_step == 5
    assert not stepped.memorization
    assert "only 4 train-loss points" in losscli.analyze(runs["hf-nan"]).reason  # the rest are NaN


def test_the_two_stores_and_the_trainer_state_hold_the_same_curves(file_runs: dict, db_runs: dict) -> None:
    state = losscli.load(SAMPLE_LOGS / "hf-stepped")[0]
    for name in VERDICTS:
        a, b = file_runs[name], db_runs[name]
        assert set(a.metrics()) == set(b.metrics())
        for metric in a.metrics():
            if "runtime" in metric or "per_second" in metric:
                continue  # timings: the two stores were written by two trainings
            x, y = a.series(metric), b.series(metric)
            assert x.step.tolist() == y.step.tolist(), (name, metric)
            np.testing.assert_array_equal(x.value, y.value)  # NaN and infinities included
            np.testing.assert_array_equal(x.epoch, y.epoch)
    assert file_runs["hf-stepped"].metrics().keys() == state.metrics().keys()  # the Trainer's names, eval/runtime...
    for metric in (TRAIN_LOSS, EVAL_LOSS, EPOCH):
        x, y = state.series(metric), file_runs["hf-stepped"].series(metric)
        assert x.step.tolist() == y.step.tolist()
        np.testing.assert_allclose(y.value, x.value, rtol=1e-6)
        np.testing.assert_allclose(y.epoch, x.epoch, rtol=1e-6)


def test_non_finite_values_are_what_was_logged_in_both_stores(file_runs: dict, db_runs: dict) -> None:
    # SQLite stores NaN as value 0 with is_nan 1, and +inf as the largest double: both are turned back
    for runs in (file_runs, db_runs):
        grad = runs["hf-nan"].series("train/grad_norm")
        assert grad.value[grad.step.tolist().index(4)] == math.inf
        loss = runs["hf-nan"].series(TRAIN_LOSS)
        assert np.isnan(loss.value).sum() == 36 and len(loss) == 40


def test_params_and_tags_are_the_configuration_and_say_how_long_an_epoch_is(file_runs: dict, db_runs: dict) -> None:
    for runs in (file_runs, db_runs):
        run = runs["hf-stepped"]
        params = next(c for c in run.configs if c.kind == "mlflow_params")
        tags = next(c for c in run.configs if c.kind == "mlflow_tags")
        assert params.values["num_train_epochs"] == "5"  # as MLflow stores params: strings
        assert params.values["learning_rate"] == "0.001"
        assert tags.values["mlflow.runName"] == "hf-stepped"
        assert run.meta["num_train_epochs"] == 5.0 and run.meta["steps_per_epoch"] == 20.0
        assert run.meta["mlflow_experiment_name"] == "losscli-samples"
        assert run.meta["summary"]["train_loss"] > 0  # the closing totals are not a curve
        assert "train_runtime" not in run.metrics() and "train_loss" not in run.metrics()


def test_each_database_run_is_named_after_its_run_name() -> None:
    result = CliRunner().invoke(app, ["classify", str(DATABASE), "-f", "csv", "-j", "1"])
    assert result.exit_code == 0, result.stderr
    names = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    # a file named on the command line is named with its folder; each run of it after the file, oldest first
    assert names == [f"mlflow-sqlite/mlflow.db:{name}" for name in ("hf-stepped", "hf-smooth", "hf-nan")]


def test_the_database_is_opened_read_only_and_a_live_writer_is_not_blocked(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    shutil.copy(DATABASE, db)
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    os.chmod(tmp_path, 0o555)  # a folder losscli may not write in (root is not stopped by this: checked below)
    try:
        writer = sqlite3.connect(db, timeout=0.1)
        writer.execute("BEGIN IMMEDIATE")  # a tracking server in the middle of logging
        writer.execute("UPDATE runs SET name = 'renamed' WHERE run_uuid = (SELECT run_uuid FROM runs LIMIT 1)")
        runs = losscli.load(db)  # reads the committed state while the write is pending
        assert sorted(r.meta["mlflow_run_name"] for r in runs) == sorted(VERDICTS)
        writer.commit()  # and the writer can still commit: losscli holds no lock
        writer.close()
    finally:
        os.chmod(tmp_path, 0o755)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no journal, no -wal/-shm left
    assert db.read_bytes() != before[0]  # the writer's change landed
    shutil.copy(DATABASE, db)
    losscli.load(db)
    assert db.read_bytes() == DATABASE.read_bytes()


def test_deleted_runs_are_marked_in_both_stores(tmp_path: Path) -> None:
    # what `MlflowClient().delete_run(run_id)` does to each store: the run stays, its lifecycle stage changes
    db = tmp_path / "mlflow.db"
    shutil.copy(DATABASE, db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = 1 WHERE name = 'hf-smooth'")
    store = tmp_path / "mlruns"
    shutil.copytree(FILE_STORE / "mlruns", store)
    meta = next(store.glob("*/1e16d1e1952847b68e6ba09cee1d4cce/meta.yaml"))
    meta.write_text(meta.read_text().replace("lifecycle_stage: active", "lifecycle_stage: deleted"))
    for runs in (by_name(losscli.load(db)), by_name(losscli.load(store))):
        assert runs["hf-smooth"].meta["mlflow_lifecycle_stage"] == "deleted"
        assert any("deleted in MLflow" in note for note in runs["hf-smooth"].notes)
        assert not any("deleted" in note for note in runs["hf-stepped"].notes)
        assert losscli.analyze(runs["hf-smooth"]).verdict == "smooth"


def test_a_run_without_metrics_is_a_run_without_points_not_an_error(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    shutil.copy(DATABASE, db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM metrics WHERE run_uuid = (SELECT run_uuid FROM runs WHERE name = 'hf-nan')")
    result = CliRunner().invoke(app, ["classify", str(db), "-f", "jsonl", "-j", "1"])
    assert result.exit_code == 0, result.stderr
    assert 'mlflow.db:hf-nan"' in result.stdout and "no train loss logged" in result.stdout
    assert '"verdict": "stepped"' in result.stdout  # the other runs are still judged


def test_file_store_lines_as_mlflow_reads_them(tmp_path: Path) -> None:
    run = tmp_path / "mlruns" / "1" / STEPPED_ID
    shutil.copytree(next(FILE_STORE.glob(f"mlruns/*/{STEPPED_ID}")), run)
    (run / "metrics" / "train").mkdir()
    # a key with `/` is a path of folders; a line without a step is step 0; extra fields after the step are kept
    (run / "metrics" / "train" / "accuracy").write_text("1796123389377 0.5\n1796123389388 0.75 2 model-1 ds x\n")
    (run / "metrics" / "loss").write_text((run / "metrics" / "loss").read_text() + "not a line\n")
    [loaded] = losscli.load(run)
    accuracy = loaded.series("train/accuracy")
    assert accuracy.step.tolist() == [0, 2] and accuracy.value.tolist() == [0.5, 0.75]
    assert loaded.series(TRAIN_LOSS).step.tolist() == list(range(1, 101))
    assert loaded.warnings == [f"{run / 'metrics' / 'loss'}: 1 line that is not `timestamp value step` skipped"]


def test_an_mlflow_db_that_is_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_bytes(b"not sqlite at all")
    result = CliRunner().invoke(app, ["classify", str(tmp_path), "-f", "jsonl", "-j", "1"])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'mlflow.db'}: not an SQLite database" in result.stderr
