"""`losscli watch` on Hugging Face Trainer output folders while the Trainer writes them.

    out/
      checkpoint-20/trainer_state.json     written whole at each save (the Trainer's `save_to_json`)
      checkpoint-40/trainer_state.json     ... caught half-written by a look
      trainer_state.json                   the output folder's own, written again at the end
      runs/<name>/events.out.tfevents.*    the TensorBoard logger's file, growing at each log

The fast tests replay the sample's real state files (written by the real Trainer) as the Trainer writes them: a new
checkpoint folder, then its file, in one write or two. The slow one trains a tiny model with the real Trainer
in another process while the watcher follows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_LOGS
from watching import Seen, append, assert_same_runs, followed, look, look_until, read_whole

from losscli.watch import Watcher

pytestmark = pytest.mark.timeout(240)
FMT = "trainer_state"
STEPPED = SAMPLE_LOGS / "hf-stepped"


def save_state(out: Path, step: int, *, parts: int = 1) -> bytes:
    """Write the sample's state at `step` as the Trainer does: the checkpoint folder, then its file (in
    `parts` writes). Returns the bytes left to write when `parts` is 2 (the first half is written)."""
    data = (STEPPED / f"checkpoint-{step}" / "trainer_state.json").read_bytes()
    folder = out / f"checkpoint-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    half = len(data) // 2 if parts == 2 else len(data)
    append(folder / "trainer_state.json", data[:half])
    return data[half:]


def test_each_new_checkpoint_is_judged_and_the_staircase_told(tmp_path: Path) -> None:
    out = tmp_path / "out"
    save_state(out, 20)
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: "found" in s.kinds("out"))
    assert seen.first("found").verdict == "inconclusive"  # one epoch
    save_state(out, 40)
    seen = look_until(watcher, lambda s: s.records["out"]["verdict"] == "stepped", seen=seen)
    change = seen.first("verdict")
    assert change.details["first_step"]["step"] == 20 and change.details["first_step"]["epoch"] == 1
    assert seen.records["out"]["points"] == 40
    for step in (60, 80, 100):
        save_state(out, step)
    seen = look_until(watcher, lambda s: s.records["out"]["points"] == 100, seen=seen)
    assert [e.event for e in seen.events if e.event == "step"] == ["step"] * 3  # boundaries 2, 3 and 4 step too
    assert seen.warnings == []
    assert_same_runs(followed(watcher, FMT, out), read_whole(watcher, FMT, out))


def test_a_state_file_caught_half_written_is_read_again_not_reported(tmp_path: Path) -> None:
    out = tmp_path / "out"
    save_state(out, 20)
    save_state(out, 40)
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: "out" in s.records)
    rest = save_state(out, 60, parts=2)
    look(watcher, seen)
    assert seen.records["out"]["points"] == 40  # the half-written file is not read yet
    assert seen.warnings == []
    append(out / "checkpoint-60" / "trainer_state.json", rest)
    seen = look_until(watcher, lambda s: s.records["out"]["points"] == 60, seen=seen)
    assert seen.warnings == []
    assert_same_runs(followed(watcher, FMT, out), read_whole(watcher, FMT, out))


def test_a_state_file_that_stays_cut_off_is_reported_as_the_reader_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    save_state(out, 20)
    save_state(out, 40, parts=2)  # a job killed while saving
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: bool(s.warnings))
    assert any("checkpoint-40/trainer_state.json" in w and "truncated" in w for w in seen.warnings)
    assert_same_runs(followed(watcher, FMT, out), read_whole(watcher, FMT, out))


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_a_state_file_written_again_is_read_again(tmp_path: Path, how: str) -> None:
    """The output folder's own trainer_state.json, written again (the Trainer writes in place; a copy replaces)."""
    out = tmp_path / "out"
    out.mkdir()
    own = out / "trainer_state.json"
    own.write_bytes((STEPPED / "checkpoint-40" / "trainer_state.json").read_bytes())
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: "out" in s.records)
    assert seen.records["out"]["points"] == 40
    final = (STEPPED / "trainer_state.json").read_bytes()
    if how == "in place":
        own.write_bytes(final)
    else:
        (out / "copy.tmp").write_bytes(final)
        os.replace(out / "copy.tmp", own)
    seen = look_until(watcher, lambda s: s.records["out"]["points"] == 100, seen=seen)
    assert seen.records["out"]["verdict"] == "stepped"
    assert seen.warnings == []


def test_a_checkpoint_rotated_away_is_forgotten(tmp_path: Path) -> None:
    """save_total_limit deletes old checkpoints as new ones are saved."""
    out = tmp_path / "out"
    for step in (20, 40, 60):
        save_state(out, step)
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: "out" in s.records)
    shutil.rmtree(out / "checkpoint-60")
    save_state(out, 80)
    seen = look_until(watcher, lambda s: s.records["out"]["points"] == 80, seen=seen)
    assert seen.warnings == []
    assert_same_runs(followed(watcher, FMT, out), read_whole(watcher, FMT, out))


TRAINING = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    import tiny_training as tt
    from transformers import PrinterCallback, Trainer, TrainingArguments

    V, L = 512, 16
    args = TrainingArguments(
        output_dir=sys.argv[1], num_train_epochs=4, per_device_train_batch_size=8, learning_rate=1e-3,
        lr_scheduler_type="constant", logging_steps=1, eval_strategy="epoch", save_strategy="epoch",
        save_total_limit=2, report_to=["tensorboard"], use_cpu=True, disable_tqdm=True, seed=42, data_seed=42,
    )
    model = tt.make_model(V, L, n_layer=2, n_embd=64, n_head=4, seed=42)
    trainer = Trainer(model=model, args=args, train_dataset=tt.random_sequences(160, L, V, seed=1),
                      eval_dataset=tt.random_sequences(64, L, V, seed=2))
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.save_state()
    """
)


@pytest.mark.slow
def test_a_real_trainer_is_followed_while_it_trains(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    watcher = Watcher([tmp_path])
    env = {**os.environ, "TINY_TRAINING_THREADS": "1", "TENSORBOARD_LOGGING_DIR": str(out / "runs" / "tiny")}
    training = subprocess.Popen([sys.executable, "-c", TRAINING, str(out), str(ROOT / "scripts")], env=env)
    try:
        seen = Seen()
        while training.poll() is None:
            look(watcher, seen)
        during = list(seen.events)  # told while the Trainer was still training
        assert training.wait(timeout=200) == 0
        seen = look_until(watcher, lambda s: s.records.get("out", {}).get("points") == 80, seen=seen)
        look(watcher, seen)
    finally:
        training.kill()
    assert seen.warnings == []
    for run in ("out", "out/runs/tiny"):
        assert seen.records[run]["verdict"] == "stepped"
        stepped = [e for e in during if e.run == run and e.verdict == "stepped" and e.event != "step"]
        assert stepped[0].details["first_step"]["step"] == 20
    assert_same_runs(followed(watcher, FMT, out), read_whole(watcher, FMT, out))
    board = out / "runs" / "tiny"
    assert_same_runs(followed(watcher, "tensorboard", board), read_whole(watcher, "tensorboard", board))
