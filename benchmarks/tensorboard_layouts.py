"""Event files laid out as real training loops write them, for `bench_tensorboard.py`, written by real writers.

- `hf`: the Hugging Face Trainer's `TensorBoardCallback`, driven as the Trainer drives it (transformers 5:
  `integrations/integration_utils.py`): `on_train_begin` adds the `args` and `model_config` text summaries; each
  `on_log` adds every number of the log dict in its order, tags rewritten by `rewrite_logs` (`train/loss`,
  `train/grad_norm`, `train/learning_rate`, `train/epoch` at each logging step; `eval/loss`, `eval/runtime`,
  `eval/samples_per_second`, `eval/steps_per_second`, `train/epoch` after each evaluation, which follows the
  logging step it falls on, at every `eval_steps` and at the last step; the closing `train_runtime ...
  train_loss` log) and flushes; `on_train_end` closes the writer, so the `trainer.evaluate()` after training
  writes a second file in the same folder. Wall times are the real clock, as the callback passes none. The writer
  is tensorboardX's `SummaryWriter` (the callback's fallback when `torch.utils.tensorboard` is missing; both
  write the same `simple_value` and text records). `check_hf_order` compares the tags and their order with a
  file the real Trainer wrote (`sample_logs/findings/eval-leak`).
- `irregular`: a loop that logs unevenly, with TensorBoard's own `EventFileWriter` and summary protos: TF2 tensors
  (`summary_v2.scalar_pb`, what `tf.summary.scalar` writes) mixed with simple values, a tag that starts a third of
  the way in, one logged every 10 steps, one every 7, an evaluation of three tags every 250 steps, a histogram
  every 1,000 steps, and a text summary first.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

HF_TRAIN = ("loss", "grad_norm", "learning_rate", "epoch")
HF_EVAL = ("eval_loss", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "epoch")
HF_END = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss", "epoch")
ARGS_JSON = (
    '{\n  "output_dir": "out",\n  "num_train_epochs": 3,\n  "max_steps": -1,\n  "logging_steps": 1,\n'
    '  "eval_strategy": "steps",\n  "eval_steps": %d,\n  "save_steps": 500,\n  "learning_rate": 5e-05,\n'
    '  "per_device_train_batch_size": 8,\n  "gradient_accumulation_steps": 1,\n  "seed": 42\n}'
)
MODEL_JSON = '{\n  "architectures": ["GPT2LMHeadModel"],\n  "n_embd": 64,\n  "n_layer": 2,\n  "vocab_size": 50257\n}'


def rewrite_logs(logs: dict[str, float]) -> dict[str, float]:
    """The callback's tag rule: `eval_x` -> `eval/x`, anything else -> `train/x`."""
    return {("eval/" + k[5:] if k.startswith("eval_") else "train/" + k): v for k, v in logs.items()}


def hf_logs(steps: int, eval_steps: int) -> list[tuple[int, dict[str, float]]]:
    """(global step, log dict) in the order the Trainer calls `on_log`, logging every step."""
    per_epoch = math.ceil(steps / 3)
    out = []
    for step in range(1, steps + 1):
        epoch = round(step / per_epoch, 4)
        loss = 2.5 - 0.3 * (step // per_epoch) + 0.05 * math.sin(step)
        lr = 5e-5 * (1 - step / steps)
        out.append((step, dict(zip(HF_TRAIN, (loss, 1.0 + 0.3 * math.cos(step / 7), lr, epoch)))))
        if step % eval_steps == 0 or step == steps:  # the Trainer also evaluates at the last step
            out.append((step, dict(zip(HF_EVAL, (2.4 - step / steps, 1.2345, 811.3, 101.4, epoch)))))
    out.append((steps, dict(zip(HF_END, (1234.5, 321.0, 40.1, 1.2e15, 1.8, 3.0)))))
    return out


def write_hf(folder: Path, steps: int, eval_steps: int = 500) -> None:
    """A Trainer run logging every step, evaluating every `eval_steps`, then `trainer.evaluate()`."""
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(folder))
    writer.add_text("args", ARGS_JSON % eval_steps)
    writer.add_text("model_config", MODEL_JSON)
    for step, logs in hf_logs(steps, eval_steps):
        for key, value in rewrite_logs(logs).items():
            writer.add_scalar(key, value, step)
        writer.flush()
    writer.close()
    time.sleep(1.1)  # the next file's name carries the time in seconds
    writer = SummaryWriter(str(folder))
    for key, value in rewrite_logs(dict(zip(HF_EVAL, (2.0, 1.2, 800.0, 100.0, 3.0)))).items():
        writer.add_scalar(key, value, steps)
    writer.close()


def write_irregular(folder: Path, steps: int) -> None:
    """TF2 tensors and simple values, tags that start late or come every few steps (module docstring)."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.histogram import summary_v2 as histogram_v2
    from tensorboard.plugins.scalar import summary_v2 as scalar_v2
    from tensorboard.plugins.text import summary_v2 as text_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder), max_queue_size=4096, flush_secs=3600)
    start = time.time()

    def add(step: int, summary: summary_pb2.Summary) -> None:
        writer.add_event(event_pb2.Event(wall_time=start + step * 0.37, step=step, summary=summary))

    def simple(tag: str, value: float) -> summary_pb2.Summary:
        return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])

    add(0, text_v2.text_pb("config", np.array(b"lr=3e-4 batch=64 warmup=500", dtype=object)))
    rng = np.random.default_rng(0)
    for step in range(1, steps + 1):
        add(step, simple("loss", 3.0 / math.sqrt(step) + 0.01 * rng.standard_normal()))
        add(step, scalar_v2.scalar_pb("lr", 3e-4 * min(1.0, step / 500)))
        if step > steps // 3:
            add(step, simple("grad_norm", 1.0 + rng.random()))
        if step % 10 == 0:
            add(step, scalar_v2.scalar_pb("throughput/tokens_per_second", 51234.5 + rng.random()))
        if step % 7 == 0:
            add(step, simple("memory/allocated_gb", 11.5 + rng.random()))
        if step % 250 == 0:
            add(step, scalar_v2.scalar_pb("val/loss", 2.0 / math.sqrt(step)))
            add(step, scalar_v2.scalar_pb("val/accuracy", 1 - 1 / math.sqrt(step)))
            add(step, simple("val/seconds", 12.3))
        if step % 1000 == 0:
            add(step, histogram_v2.histogram_pb("weights/layer0", rng.standard_normal(256), buckets=30))
    writer.close()


def check_hf_order(sample: Path, eval_steps: int, scratch: Path) -> str:
    """`write_hf`'s first file against one the real Trainer wrote (`sample`, same schedule): the same tags in the
    same order, each record the same kind."""
    import struct

    from tensorboard.compat.proto import event_pb2

    def tags(path: Path) -> list[tuple[str, str]]:
        data, pos, out = path.read_bytes(), 0, []
        while pos < len(data):
            (length,) = struct.unpack_from("<Q", data, pos)
            event = event_pb2.Event.FromString(data[pos + 12 : pos + 12 + length])
            out.extend((v.tag, v.WhichOneof("value")) for v in event.summary.value)
            pos += length + 16
        return out

    real = tags(next(sample.glob("events.out.tfevents.*")))
    write_hf(scratch, sum(1 for tag, _ in real if tag == "train/loss"), eval_steps)
    ours = tags(sorted(scratch.glob("events.out.tfevents.*"))[0])
    if real != ours:
        raise SystemExit(f"the hf layout's records differ from the real Trainer's in {sample}")
    return f"hf layout: tags, order and kinds identical to the real Trainer's ({sample.name}, {len(real)} records)"
