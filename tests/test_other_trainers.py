"""Fine-tuning frameworks' own logs, written by their own writer classes (scripts/make_trainer_log_samples.py) or
public (tests/data/other_trainers/SOURCES.md):

    sample_logs/torchtune/stepped/   torchtune 0.6.1 DiskLogger: logs/log_<t1>.txt (steps 1-60), log_<t2>.txt
                                     (61-100, the run resumed), torchtune_config.yaml (5 epochs)
    sample_logs/torchtune/smooth/    one file, 3 epochs
    sample_logs/swift/hf-stepped/    ms-swift 4.6 logging.jsonl (`global_step/max_steps`, 10 steps an epoch)
    sample_logs/swift/hf-nan/        a run that diverges to NaN (bare NaN in the JSON)
    tests/data/other_trainers/swift/deepclima-r1/   a public swift 3.x logging.jsonl ending with the log history
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from conftest import DATA, SAMPLE_LOGS

import losscli
from losscli.frame import EPOCH, EVAL_LOSS, TRAIN_LOSS
from losscli.parsers.line_logs import feed_file
from losscli.parsers.torchtune import DiskLoggerLines

TORCHTUNE = SAMPLE_LOGS / "torchtune"
SWIFT = SAMPLE_LOGS / "swift"
PUBLIC_SWIFT = DATA / "other_trainers" / "swift" / "deepclima-r1"


def test_torchtune_verdicts_with_the_epochs_its_config_gives() -> None:
    runs = {run.name: run for run in losscli.load(TORCHTUNE)}
    assert sorted(runs) == ["smooth", "stepped"]
    analysis = losscli.analyze(runs["stepped"])
    assert analysis.verdict == "stepped", analysis.reason
    assert [b.epoch for b in analysis.boundaries if b.stepped] == [1, 2, 3, 4]
    assert analysis.boundary_source == "steps per epoch from the log's settings"
    assert losscli.analyze(runs["smooth"]).verdict == "smooth"
    stepped = runs["stepped"]
    assert stepped.meta["steps_per_epoch"] == 20 and stepped.meta["num_train_epochs"] == 5
    assert any("torchtune logs no epochs" in note for note in stepped.notes)
    [config] = stepped.configs
    assert config.kind == "torchtune_config" and config.values["optimizer"]["lr"] == 0.001


def test_torchtune_reads_a_resumed_runs_files_in_order_as_one_run() -> None:
    [run] = losscli.load(TORCHTUNE / "stepped")
    assert run.series(TRAIN_LOSS).step.tolist() == list(range(1, 101)) and not run.warnings
    assert len(run.meta["source_files"]) == 2
    names = [TRAIN_LOSS, "train/learning_rate", "train/grad_norm", "tokens_per_second_per_gpu"]
    assert sorted(run.metrics()) == sorted(names)


def test_torchtune_values_as_the_disk_logger_wrote_them() -> None:
    logs = sorted((TORCHTUNE / "stepped" / "logs").glob("log_*.txt"))
    first = logs[0].read_text().splitlines()[0]
    assert first.startswith("Step 1 | loss:")
    parser = feed_file(DiskLoggerLines(logs[0]))
    loss = [r for r in parser.records() if r[0] == TRAIN_LOSS]
    assert loss[0][2] == 1 and loss[0][4] == float(first.split("loss:")[1].split()[0])
    assert len(loss) == 60 and not parser.warnings()


def test_torchtune_a_resume_that_replays_steps_keeps_the_later_values(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(TORCHTUNE / "stepped", run)
    first, second = sorted((run / "logs").glob("log_*.txt"))
    # resumed from the epoch-2 checkpoint after dying in epoch 3: steps 41-60 are logged again, other values
    replayed = [line.replace("loss:", "loss:9") for line in first.read_text().splitlines()[40:60]]
    second.write_text("\n".join(replayed) + "\n" + second.read_text())
    [loaded] = losscli.load(run)
    loss = loaded.series(TRAIN_LOSS)
    assert loss.step.tolist() == list(range(1, 101))
    assert (loss.value[40:60] > 90).all()  # the resumed run's values
    assert any("logged again after a restart" in warning for warning in loaded.warnings)


def test_swift_reads_its_lines_like_trainer_dicts_at_their_global_step() -> None:
    [run] = losscli.load(SWIFT / "hf-stepped")
    assert run.format == "swift" and run.name == "hf-stepped"
    assert run.series(TRAIN_LOSS).step.tolist() == list(range(1, 51))
    assert run.series(EVAL_LOSS).step.tolist() == list(range(5, 51, 5))
    assert run.meta["max_steps"] == 50 and run.meta["steps_per_epoch"] == 10
    assert run.meta["summary"]["train_loss"] == 5.59794458
    assert not any("train_speed" in m or "memory" in m for m in run.metrics())
    analysis = losscli.analyze(run)
    assert analysis.verdict == "stepped", analysis.reason
    assert [b.epoch for b in analysis.boundaries if b.stepped] == [1, 2, 3, 4]
    nan = losscli.load(SWIFT / "hf-nan")[0].series(TRAIN_LOSS)
    assert len(nan) == 20 and np.isnan(nan.value).sum() == 17  # bare NaN in the JSON: points, not damage


def test_swifts_closing_line_is_not_counted_twice() -> None:
    [run] = losscli.load(PUBLIC_SWIFT)
    lines = [json.loads(line) for line in (PUBLIC_SWIFT / "logging.jsonl").read_text().splitlines()]
    assert "log_history" in lines[-1]
    assert len(run.series(TRAIN_LOSS)) == 44 and len(run.series(EVAL_LOSS)) == 5
    assert len(run.series(EPOCH)) == 44 and not run.warnings
    assert run.meta["global_step"] == 438 and run.meta["best_metric"] == lines[-1]["best_metric"]
    assert any("closing line" in note for note in run.notes)
    assert losscli.analyze(run).verdict == "inconclusive"  # one epoch: no boundary to judge


def test_swifts_args_json_is_the_configuration(tmp_path: Path) -> None:
    run = tmp_path / "output" / "v0-20260101"
    shutil.copytree(SWIFT / "hf-stepped", run)
    # ms-swift saves its arguments as JSON beside the log (json.dump of the dataclass's fields)
    (run / "args.json").write_text(json.dumps({"num_train_epochs": 5, "logging_steps": 1, "model": "tiny"}))
    [loaded] = losscli.load(run)
    [config] = loaded.configs
    assert config.kind == "swift_args" and config.values["model"] == "tiny"
    assert loaded.meta["num_train_epochs"] == 5 and loaded.meta["logging_steps"] == 1
