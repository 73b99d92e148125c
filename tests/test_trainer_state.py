"""The Hugging Face Trainer reader, on real files: trainer_state.json, checkpoint folders, trainer_log.jsonl."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from conftest import corpus

import losscli
from losscli.errors import ParseError
from losscli.frame import COLUMNS, EPOCH, EVAL_LOSS, LEARNING_RATE, TRAIN_LOSS


def test_reads_every_training_entry_of_a_real_state_file() -> None:
    [run] = losscli.load(corpus("ts-yc1999-alpaca"))
    assert run.format == "trainer_state"
    assert list(run.scalars.columns) == list(COLUMNS)
    loss = run.metric(TRAIN_LOSS)
    assert len(loss) == 1218
    assert loss["step"].tolist() == list(range(1, 1219))
    assert str(loss["step"].dtype) == "int64"
    assert loss["tag"].iloc[0] == "loss"
    assert loss["value"].iloc[0] == pytest.approx(1.5021)
    assert loss["epoch"].iloc[-1] == pytest.approx(3.0)
    assert len(run.metric(LEARNING_RATE)) == 1218
    assert len(run.metric(EPOCH)) == 1218


def test_summary_entry_goes_to_meta_not_the_curve() -> None:
    [run] = losscli.load(corpus("ts-yc1999-alpaca"))
    assert run.meta["summary"]["train_runtime"] > 0
    assert "train/train_loss" not in run.metrics()
    assert "train/train_runtime" not in run.metrics()
    assert run.meta["num_train_epochs"] == 3
    assert run.meta["max_steps"] == 1218


def test_eval_entries_become_eval_metrics() -> None:
    [run] = losscli.load(corpus("ts-medimind-10ep"))
    ev = run.metric(EVAL_LOSS)
    assert len(ev) == 23
    assert ev["tag"].iloc[0] == "eval_loss"
    assert "eval/accuracy" in run.metrics()
    assert math.isfinite(ev["epoch"].iloc[0])


def test_lfs_pointer_is_a_clear_error() -> None:
    with pytest.raises(ParseError, match="Git LFS pointer"):
        losscli.load(corpus("ts-observer-lfs-pointer"))


def _state(path: Path, history: list[dict], **top: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"log_history": history, **top}))
    return path


def test_checkpoint_folders_are_one_run_read_from_the_latest(tmp_path: Path) -> None:
    real = json.loads(corpus("ts-kgllm").joinpath("trainer_state.json").read_text())
    history = real["log_history"]
    out = tmp_path / "out"
    _state(out / "checkpoint-40" / "trainer_state.json", [e for e in history if e["step"] <= 40])
    _state(out / "checkpoint-80" / "trainer_state.json", [e for e in history if e["step"] <= 80])
    runs = losscli.load(out)
    assert len(runs) == 1
    assert runs[0].meta["checkpoints"] == [40, 80]
    assert runs[0].metric(TRAIN_LOSS)["step"].max() == 80
    # the output folder's own file wins when it goes further
    _state(out / "trainer_state.json", history)
    [run] = losscli.load(out)
    assert run.metric(TRAIN_LOSS)["step"].max() == 120
    assert run.meta["source_files"] == [str(out / "trainer_state.json")]


def test_a_broken_latest_checkpoint_falls_back_with_a_warning(tmp_path: Path) -> None:
    history = json.loads(corpus("ts-kgllm").joinpath("trainer_state.json").read_text())["log_history"]
    out = tmp_path / "out"
    _state(out / "checkpoint-40" / "trainer_state.json", [e for e in history if e["step"] <= 40])
    (out / "checkpoint-80").mkdir()
    (out / "checkpoint-80" / "trainer_state.json").write_text('{"log_history": [{"loss": 1.0, "st')
    [run] = losscli.load(out)
    assert run.metric(TRAIN_LOSS)["step"].max() == 40
    assert any("checkpoint-80" in w and "truncated" in w for w in run.warnings)


def test_lone_checkpoint_folder_is_a_run(tmp_path: Path) -> None:
    ckpt = tmp_path / "archive" / "checkpoint-60"
    ckpt.mkdir(parents=True)
    ckpt.joinpath("trainer_state.json").write_bytes(
        corpus("ts-curse-qa-6ep").joinpath("trainer_state.json").read_bytes()
    )
    [run] = losscli.load(ckpt)
    assert run.name == "checkpoint-60"
    assert run.meta["checkpoints"] == [60]
    assert len(run.metric(EVAL_LOSS)) == 60


def test_missing_epoch_values_stay_nan(tmp_path: Path) -> None:
    path = _state(
        tmp_path / "r" / "trainer_state.json",
        [{"loss": 2.0 - i / 100, "step": i} for i in range(1, 31)],
        max_steps=30,
    )
    [run] = losscli.load(path.parent)
    loss = run.metric(TRAIN_LOSS)
    assert len(loss) == 30 and loss["epoch"].isna().all()
    assert EPOCH not in run.metrics()


def test_bare_nan_and_wrong_types_are_skipped_not_fatal(tmp_path: Path) -> None:
    text = (
        '{"log_history": [{"loss": NaN, "step": 1, "epoch": 0.1}, {"loss": "oops", "step": 2},'
        ' {"loss": 1.5, "step": "x"}, {"loss": 1.25, "step": 3, "epoch": 0.3}, [1, 2]]}'
    )
    path = tmp_path / "r" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(text)
    [run] = losscli.load(path.parent)
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist() == [1, 3]
    assert math.isnan(loss["value"].iloc[0]) and loss["value"].iloc[1] == 1.25
    assert any("skipped" in w for w in run.warnings)


def test_steps_logged_again_after_a_restart_keep_the_later_values(tmp_path: Path) -> None:
    history = [{"loss": 3.0 - s / 10, "step": s, "epoch": s / 10} for s in range(1, 11)]
    history += [{"loss": 9.0, "step": s, "epoch": s / 10} for s in range(6, 13)]  # resumed from step 5
    path = _state(tmp_path / "r" / "trainer_state.json", history)
    [run] = losscli.load(path.parent)
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist() == list(range(1, 13))
    assert loss["value"].tolist()[5:] == [9.0] * 7
    # the 5 train-loss points; the epoch values logged again are the same, so they replace nothing
    assert any("5 points logged again" in w for w in run.warnings)


def test_llama_factory_trainer_log() -> None:
    [run] = losscli.load(corpus("tl-agosalvez-20ep"))
    assert run.format == "trainer_log"
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].iloc[0] == 5 and loss["value"].iloc[0] == pytest.approx(2.0905)
    assert len(run.metric(LEARNING_RATE)) == len(loss)
    assert run.meta["max_steps"] == 240


def test_trainer_log_beside_a_shorter_state_file_wins(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lines = [
        json.dumps({"current_steps": s, "total_steps": 20, "loss": 2 - s / 20, "lr": 1e-4, "epoch": s / 10})
        for s in range(1, 21)
    ]
    (out / "trainer_log.jsonl").write_text("\n".join(lines) + "\n")
    _state(out / "trainer_state.json", [{"loss": 2.0, "step": 1, "epoch": 0.1}])
    [run] = losscli.load(out)
    assert run.format == "trainer_log"
    assert run.metric(TRAIN_LOSS)["step"].max() == 20


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary\xff", b"[1, 2, 3]", b'{"log_history": 5}'])
def test_unusable_state_files_raise_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r" / "trainer_state.json"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(ParseError) as info:
        losscli.load(path.parent)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_lightning_metrics_csv_epoch_index_becomes_progress(tmp_path: Path) -> None:
    # where Lightning's CSVLogger writes it: lightning_logs/version_N/metrics.csv
    version = tmp_path / "lightning_logs" / "version_0"
    version.mkdir(parents=True)
    shutil.copy(corpus("lt-slm-20ep") / "metrics.csv", version)
    [run] = losscli.load(version / "metrics.csv")
    assert run.format == "lightning_csv"
    loss = run.metric(TRAIN_LOSS)
    assert len(loss) > 100
    epochs = loss["epoch"].to_numpy()
    assert (epochs[1:] >= epochs[:-1]).all()
    assert 0 < epochs[0] < 1 and epochs[-1] > 19
    # the same file anywhere else is a loss table, whose 0-based epoch index is read the same way
    [table] = losscli.load(corpus("lt-slm-20ep") / "metrics.csv")
    assert table.format == "loss_table"
    assert table.metric(TRAIN_LOSS)["epoch"].tolist() == loss["epoch"].tolist()
    assert any("0-based epoch index" in note for note in table.notes)


def test_tensorboard_download_csv_takes_its_tag_from_the_file_name(tmp_path: Path) -> None:
    [run] = losscli.load(corpus("tbcsv-abiye-bert"))
    assert run.format == "tensorboard_csv"
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist()[:2] == [400, 800]
    assert loss["value"].iloc[0] == pytest.approx(0.1978, abs=1e-4)
    assert loss["wall_time"].iloc[0] == pytest.approx(1650382697.1388245)
    # TensorBoard's own name for a download, and the JSON form of the same rows
    rows = [[1.0, 1, 2.5], [2.0, 2, 2.25]]
    (tmp_path / "run-exp1-tag-eval_loss.json").write_text(json.dumps(rows))
    [run] = losscli.load(tmp_path / "run-exp1-tag-eval_loss.json")
    assert run.metric(EVAL_LOSS)["value"].tolist() == [2.5, 2.25]


# ---------------------------------------------------------------- files cut off mid-write


def _cut(source: Path, target: Path, fraction: float) -> tuple[str, str]:
    """A copy of `source` cut off at `fraction` of its length, as a copy in progress or a killed job leaves it."""
    text = source.read_text()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text[: int(len(text) * fraction)])
    return text, text[: int(len(text) * fraction)]


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9])
def test_a_state_file_cut_off_keeps_every_complete_entry(tmp_path: Path, fraction: float) -> None:
    """A real trainer_state.json (written by the Trainer: keys sorted, `log_history` between `global_step` and
    `logging_steps`) cut off: every entry before the cut is read, and the warning says up to where."""
    full, cut = _cut(corpus("ts-medimind-10ep") / "trainer_state.json", tmp_path / "r" / "trainer_state.json", fraction)
    state = json.loads(full)
    complete = [e for e in state["log_history"] if json.dumps(e, indent=2).replace("\n", "\n    ") in cut]
    assert 0 < len(complete) < len(state["log_history"])
    [run] = losscli.load(tmp_path / "r")
    losses = [e for e in complete if "loss" in e]
    assert run.metric(TRAIN_LOSS)["step"].tolist() == [e["step"] for e in losses]
    assert run.metric(TRAIN_LOSS)["value"].tolist() == [e["loss"] for e in losses]
    assert len(run.metric(EVAL_LOSS)) == len([e for e in complete if "eval_loss" in e])
    [warning] = run.warnings
    last, reached = complete[-1]["step"], state["global_step"]
    assert f"the {len(complete)} complete `log_history` entries (up to step {last} of {reached})" in warning
    assert warning.startswith(f"{tmp_path / 'r' / 'trainer_state.json'}: truncated: the file is cut off after")
    assert f"global_step={state['global_step']}" in warning  # what was read of the state before the cut
    assert run.meta["steps_per_epoch"] == state["global_step"] / state["epoch"]  # from keys before the cut
    assert losscli.analyze(run).verdict != "error"


def test_a_state_file_cut_inside_its_first_entry_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r" / "trainer_state.json"
    _state(path, [{"loss": 1.0, "step": 1}])
    path.write_text(path.read_text()[:25])
    with pytest.raises(ParseError, match="truncated after 25 characters"):
        losscli.load(path.parent)


def test_a_history_export_cut_off_keeps_its_complete_rows(tmp_path: Path) -> None:
    """A W&B `run.history()` saved as JSON records, and a TensorBoard download, cut off while being copied."""
    source = Path(__file__).resolve().parent / "data" / "wandb" / "exports" / "direct_history_records.json"
    full, cut = _cut(source, tmp_path / "history.json", 0.6)
    rows = json.loads(cut[: cut.rindex("}") + 1] + "]")  # flat rows: the last "}" closes the last complete one
    assert 0 < len(rows) < len(json.loads(full))
    [run] = losscli.load(tmp_path / "history.json")
    assert len(run.metric(TRAIN_LOSS)) == len([r for r in rows if r.get("train/loss") is not None])
    assert any("cut off" in w for w in run.warnings)

    download = tmp_path / "run-exp-tag-train_loss.json"
    download.write_text(json.dumps([[1.0, s, 2.0 - s / 10] for s in range(1, 11)])[:-30])
    [run] = losscli.load(download)
    assert run.metric(TRAIN_LOSS)["step"].tolist() == list(range(1, len(run.metric(TRAIN_LOSS)) + 1))
    assert 5 < len(run.metric(TRAIN_LOSS)) < 10
    assert any("the file is cut off" in w for w in run.warnings)
