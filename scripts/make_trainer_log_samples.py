"""Write sample_logs/torchtune/ and sample_logs/swift/: other fine-tuning frameworks' own log files, by their writers.

torchtune (0.6.1): its recipes log through a metric logger chosen in the config; the shipped configs choose
`torchtune.training.metric_logging.DiskLogger` with `log_dir: ${output_dir}/logs`. DiskLogger opens
`<log_dir>/log_<unix time>.txt` (a new file for every start of the recipe, so a resumed run adds a second file)
and writes one line per `log_dict(payload, step)`: `Step <step> | <key>:<value> <key>:<value> ` (values through
an f-string: full float repr; a 0-dim tensor such as grad_norm formats as its number). Here a tiny GPT-2 is
trained by a plain torch loop that logs the way `recipes/full_finetune_single_device.py` does (loss per token,
`lr` from `training.get_lr`, `tokens_per_second_per_gpu`, and `grad_norm` as the tensor `clip_grad_norm_`
returns, because the config sets `clip_grad_norm`), with the logger built by `torchtune.config.instantiate` from
the config and the config saved by `log_config` (torchtune_config.yaml), as the recipe does:

  sample_logs/torchtune/stepped/   5 epochs memorising 160 random sequences (constant LR 1e-3, batch 8, 20 steps
                                   an epoch); stopped after epoch 3 and resumed, so logs/ holds two files, the
                                   second continuing at step 61
  sample_logs/torchtune/smooth/    3 epochs learning a Markov chain (LR 3e-4, batch 16, 64 steps an epoch)

ms-swift (4.6.0): `swift.trainers.patcher` replaces the Trainer's default progress and printer callbacks with its
own, whose on_log adds `global_step/max_steps`, `elapsed_time`, `remaining_time`, `train_speed(s/it)` (and
`memory(GiB)` on an accelerator) to every log dict and appends it to `<output_dir>/logging.jsonl`. Here the patcher
is imported, as `swift sft` imports it, before a Hugging Face Trainer runs the recipes of scripts/sample_runs.py:

  sample_logs/swift/hf-stepped/logging.jsonl   the memorising run (a line every step, eval every 5 steps); swift's
                                               TrainingArguments default gradient_accumulation_steps to
                                               ceil(16 / batch / world size) = 2, so 10 steps an epoch
  sample_logs/swift/hf-nan/logging.jsonl       LR 1000 without clipping: NaN and Infinity as json.dumps writes them

(`swift sft` also appends a last line with the training summary and the whole log_history; that comes from its
pipeline, not the callback, and is not produced here: see tests/data/other_trainers/swift/ for a real file with it.)

Both writers install next to the generation environment's torch without replacing it, into separate folders put
on PYTHONPATH (--no-deps; the listed dependencies are the ones their imports need on top of /work/genvenv):

    /work/genvenv/bin/pip install --no-deps --target /tmp/losscli-writers/torchtune torchtune==0.6.1 \\
        torchao==0.10.0 torchdata==0.11.0 omegaconf antlr4-python3-runtime==4.9.3 datasets dill multiprocess \\
        sentencepiece tiktoken blobfile kagglehub
    /work/genvenv/bin/pip install --no-deps --target /tmp/losscli-writers/swift ms-swift==4.6.0 modelscope \\
        modelscope_hub json_repair datasets dill multiprocess
    PYTHONPATH=/tmp/losscli-writers/torchtune /work/genvenv/bin/python scripts/make_trainer_log_samples.py torchtune
    PYTHONPATH=/tmp/losscli-writers/swift /work/genvenv/bin/python scripts/make_trainer_log_samples.py swift

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, torchtune 0.6.1, torchao 0.10.0,
omegaconf 2.3.0, ms-swift 4.6.0, modelscope 1.40.2, transformers 5.24.0. Runtime: about a minute each.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def torchtune_run(name: str, *, data: str, epochs: int, lr: float, batch_size: int, stop_after: int | None) -> None:
    """Train a tiny GPT-2 for `epochs` epochs, logging through torchtune's DiskLogger as its recipes do.

    With `stop_after`, the loop ends after that many epochs and starts again from there (same model, optimizer and
    step count, as a resume from the recipe's checkpoint would), with a fresh metric logger: a second log file.
    """
    import tiny_training as tt
    import torch
    from omegaconf import OmegaConf
    from torchtune import config, training

    out = os.path.join(ROOT, "sample_logs", "torchtune", name)
    if os.path.exists(out):
        shutil.rmtree(out)
    vocab, seq_len, n = (512, 16, 160) if data == "random" else (128, 32, 1024)
    make = tt.random_sequences if data == "random" else tt.markov_sequences
    tokens = make(n, seq_len, vocab, seed=1).tokens
    cfg = OmegaConf.create(
        {
            "output_dir": out,
            "seed": 42,
            "shuffle": True,
            "batch_size": batch_size,
            "epochs": epochs,
            "max_steps_per_epoch": None,
            "gradient_accumulation_steps": 1,
            "clip_grad_norm": 1.0,
            "optimizer": {"_component_": "torch.optim.AdamW", "lr": lr, "weight_decay": 0.0},
            "device": "cpu",
            "dtype": "fp32",
            "metric_logger": {
                "_component_": "torchtune.training.metric_logging.DiskLogger",
                "log_dir": "${output_dir}/logs",
            },
            "log_every_n_steps": 1,
            "log_peak_memory_stats": True,
        }
    )
    model = tt.make_model(vocab, seq_len, n_layer=2, n_embd=64, n_head=4, seed=42)
    optimizer = config.instantiate(cfg.optimizer, model.parameters())
    generator = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = n // batch_size
    global_step = 0
    spans = [(0, stop_after), (stop_after, epochs)] if stop_after else [(0, epochs)]
    for first, last in spans:
        metric_logger = config.instantiate(cfg.metric_logger)
        metric_logger.log_config(cfg)
        for _epoch in range(first, last):
            order = torch.randperm(n, generator=generator)
            for i in range(steps_per_epoch):
                t0 = time.perf_counter()
                batch = tokens[order[i * batch_size : (i + 1) * batch_size]]
                loss = model(input_ids=batch, labels=batch).loss
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=float(cfg.clip_grad_norm))
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                global_step += 1
                num_tokens = batch[:, 1:].numel()
                log_dict = {
                    "loss": loss.item(),
                    "lr": training.get_lr(optimizer),
                    "tokens_per_second_per_gpu": num_tokens / (time.perf_counter() - t0),
                    "grad_norm": grad_norm,
                }
                metric_logger.log_dict(log_dict, step=global_step)
        metric_logger.close()
        time.sleep(1.1)  # the next logger's file name is the next second's unix time
    print(f"{os.path.relpath(out, ROOT)}: {sorted(os.listdir(os.path.join(out, 'logs')))}")


def swift_run(recipe_name: str) -> None:
    """Train a scripts/sample_runs.py recipe with the Trainer under ms-swift's callbacks; keep logging.jsonl."""
    import sample_runs
    import swift.trainers.patcher  # noqa: F401  (installs swift's callbacks in place of the Trainer's defaults)
    from swift.trainers.arguments import TrainingArguments as SwiftTrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_warning()
    out = os.path.join(ROOT, "sample_logs", "swift", f"hf-{recipe_name}")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with tempfile.TemporaryDirectory(prefix="losscli-swift-") as output_dir:
        trainer = sample_runs.build_trainer(
            sample_runs.RECIPES[recipe_name],
            output_dir,
            run_name=f"hf-{recipe_name}",
            report_to=[],
            disable_tqdm=None,
            args_class=SwiftTrainingArguments,
        )
        trainer.train()
        shutil.copy(os.path.join(output_dir, "logging.jsonl"), out)
    print(f"{os.path.relpath(out, ROOT)}/logging.jsonl: {os.path.getsize(os.path.join(out, 'logging.jsonl')):,} bytes")


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else ""
    if which == "torchtune":
        torchtune_run("stepped", data="random", epochs=5, lr=1e-3, batch_size=8, stop_after=3)
        torchtune_run("smooth", data="markov", epochs=3, lr=3e-4, batch_size=16, stop_after=None)
    elif which == "swift":
        swift_run("stepped")
        swift_run("nan")
    else:
        sys.exit("usage: make_trainer_log_samples.py torchtune|swift (see the module docstring for the environment)")


if __name__ == "__main__":
    main()
