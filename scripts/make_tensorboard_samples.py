"""Write sample_logs/tf2-tensor/: a TF2-style TensorBoard run (scalars stored as tensors) of a stepped run.

TF2's `tf.summary.scalar`, and TensorBoard's own `summary_v2`, store a scalar as a rank-0 float32 tensor with
the `scalars` plugin named in its metadata, where older writers use `simple_value`. Readers that only know
`simple_value` find nothing in such files, so losscli keeps one as a sample.

The values are real: the training loss, epoch and learning rate of sample_logs/hf-stepped (a tiny GPT-2 that
memorises its data; see scripts/make_sample_logs.py), read from its trainer_state.json, with the wall times
its own TensorBoard file recorded for the same steps. They are written by a real writer: TensorBoard's
`EventFileWriter`, with each summary made by `tensorboard.plugins.scalar.summary_v2.scalar_pb`, as
`tf.summary.scalar` would (without needing TensorFlow).

Run from the repository root, with any environment that has tensorboard (the package's own is enough):

    python scripts/make_tensorboard_samples.py

With `--torch-fixture` it writes instead tests/data/tensorboard/torch-writer/, a small run written by
PyTorch's own `torch.utils.tensorboard.SummaryWriter` in every way it stores scalars (`simple_value`,
`new_style` float and double tensors, `add_scalars` sub-folders, an `add_hparams` sub-folder) plus summaries
that are not scalars (a histogram, a text, hparams), for the tests. It needs torch (the generation environment
of make_sample_logs.py):

    /tmp/genvenv/bin/python scripts/make_tensorboard_samples.py --torch-fixture

Versions used for the committed files: python 3.11.7, tensorboard 2.21.0, protobuf 7.36.2, torch 2.13.0+cpu.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.scalar import summary_v2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sample_logs" / "hf-stepped"
TARGET = ROOT / "sample_logs" / "tf2-tensor"
TORCH_FIXTURE = ROOT / "tests" / "data" / "tensorboard" / "torch-writer"
KEYS = (("loss", "train/loss"), ("epoch", "train/epoch"), ("learning_rate", "train/learning_rate"))


def logged_wall_times(run: Path) -> dict[int, float]:
    """Wall time of each step's train/loss event in the run's own TensorBoard file."""
    times: dict[int, float] = {}
    for path in sorted(run.glob("runs/*/events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            if any(v.tag == "train/loss" for v in event.summary.value):
                times[event.step] = event.wall_time
    return times


def main() -> None:
    state = json.loads((SOURCE / "trainer_state.json").read_text())
    times = logged_wall_times(SOURCE)
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    writer = EventFileWriter(str(TARGET))
    written = 0
    for entry in state["log_history"]:
        if "loss" not in entry or "step" not in entry:
            continue  # evaluation entries and the end-of-training summary
        step = int(entry["step"])
        wall_time = times.get(step, 0.0)
        for key, tag in KEYS:
            if key in entry:
                summary = summary_v2.scalar_pb(tag, float(entry[key]))
                writer.add_event(event_pb2.Event(wall_time=wall_time, step=step, summary=summary))
                written += 1
    writer.close()
    files = sorted(TARGET.iterdir())
    print(f"wrote {written} scalar events to {files[0].relative_to(ROOT)} ({files[0].stat().st_size} bytes)")


def torch_fixture() -> None:
    """Every way PyTorch's SummaryWriter stores scalars, 30 steps, and summaries that are not scalars."""
    import numpy as np
    from torch.utils.tensorboard import SummaryWriter

    if TORCH_FIXTURE.exists():
        shutil.rmtree(TORCH_FIXTURE)
    writer = SummaryWriter(str(TORCH_FIXTURE))
    for step in range(1, 31):
        loss = 2.0 / step
        writer.add_scalar("train/loss", loss, step, walltime=1_700_000_000.0 + step)
        writer.add_scalar("train/loss_new_style", loss, step, new_style=True)
        writer.add_scalar("train/loss_double", loss, step, new_style=True, double_precision=True)
        writer.add_scalars("Loss", {"train": loss, "val": loss + 0.5}, step)
        if step % 10 == 0:
            writer.add_histogram("weights", np.linspace(-1.0, 1.0, 50) * step, step)
    writer.add_text("notes", "not a scalar", 0)
    writer.add_hparams({"lr": 0.001, "batch": 8}, {"hparam/final_loss": 2.0 / 30})
    writer.close()
    for path in sorted(TORCH_FIXTURE.rglob("*tfevents*")):
        print(path.relative_to(ROOT), path.stat().st_size)


if __name__ == "__main__":
    torch_fixture() if "--torch-fixture" in sys.argv[1:] else main()
