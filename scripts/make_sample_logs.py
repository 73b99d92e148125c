"""Make the REAL sample training logs in sample_logs/ by training tiny models on CPU.

Generation-only environment (never the package's own; torch must be 2.13.0):

    python3 -m venv /work/genvenv
    /work/genvenv/bin/pip install torch==2.13.0 transformers accelerate tensorboard wandb peft
    apt-get install faketime        # for the dated archive runs (see below)

Run from the repository root:

    /work/genvenv/bin/python scripts/make_sample_logs.py                      # every sample
    /work/genvenv/bin/python scripts/make_sample_logs.py --only findings      # a group: archive, findings
    /work/genvenv/bin/python scripts/make_sample_logs.py --only sft-v4 --only lr-spike   # some samples
    /work/genvenv/bin/python scripts/make_sample_logs.py --only archive --out /tmp/try   # somewhere else

Tests pin the exact content of hf-stepped, hf-smooth and wandb-direct (and of tf2-tensor and
wandb-exports, which other scripts derive from them): remake those only on purpose, with the tests.

Versions used for the committed sample_logs/:
    python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
    tensorboard 2.21.0, wandb 0.31.0, numpy 2.4.6; peft 0.21.2 and libfaketime 0.9.10
    (Debian) for archive/
Runtime (2 shared CPU cores; CPU seconds, wall time is up to 3x more on a busy machine):
    hf-stepped, hf-smooth, wandb-direct: well under a minute together;
    archive/: 5 to 70 s a run, about 3 minutes for the six; findings/: 2 to 70 s a run,
    about 2.5 minutes for the five (eval-leak is the slowest: its evaluations train too).

What it writes (each folder is rebuilt from scratch):

  sample_logs/hf-stepped/   Hugging Face Trainer output_dir of a tiny GPT-2
      (2 layers, n_embd 64, vocab 512, 16-token sequences) trained 5 epochs on
      160 uniform-random token sequences at constant LR 1e-3, batch 8,
      logging_steps=1 (20 points/epoch). The model memorizes: train loss is flat
      inside each epoch and drops at every epoch boundary; eval loss on 64
      held-out random sequences (evaluated 4x per epoch) creeps up.
  sample_logs/hf-smooth/    same layout; 1024 sequences sampled from a fixed
      sparse Markov chain (vocab 128, 32 tokens; a learnable rule), 3 epochs,
      LR 3e-4 linear decay, batch 16, logging_steps=2 (32 points/epoch): the loss
      falls smoothly across epoch boundaries and eval loss follows it down.
  sample_logs/wandb-direct/ a plain torch loop (no Trainer) that calls
      wandb.log directly, offline: {"train/loss", "epoch"} every step (epoch is the
      0-based integer epoch index, as hand-written loops usually log it) and
      {"eval/loss"} once per epoch, at the step of that epoch's last batch.

Each of these Trainer folders holds trainer_state.json (final state, via
trainer.save_state()), checkpoint-N/trainer_state.json for each epoch (weights,
optimizer, scheduler, rng state, training_args.bin all deleted),
runs/<name>/events.out.tfevents.* (TensorBoard) and wandb/offline-run-*/.

  sample_logs/archive/sft-v1 .. sft-v6: six fine-tunes "from July to November 2026" that differ in
      configuration, as in the seed post's archive. Each is ended the way transformers' run_clm.py ends
      a run: save_model, save_metrics("train"), save_state, evaluate, save_metrics("eval"),
      create_model_card(model_name, finetuned_from, dataset_tags, dataset, tags=["sft"]). Every folder
      keeps trainer_state.json, all_results.json, train_results.json, eval_results.json, the model card
      README.md, config.json + generation_config.json (or adapter_config.json), checkpoint-N/ with the
      same small files (save_strategy="epoch"), and runs/<Mon DD_HH-MM-SS>_<host>/ under the Trainer's
      own default name, with two event files: the final evaluate() opens a second writer. Weights,
      optimizer, scheduler and rng states are deleted; training_args.bin (a pickle, which losscli must
      never load) is kept in sft-v2 only. Vocabulary 512, 32 positions, 2 layers of width 64, 4 heads.

    run     started           model                       data set          LR, schedule        epochs batch seed logs
    sft-v1  2026-07-09 10:14  GPT-2 from a config         markov-chain-v1   3e-4 linear, warm 10  3    16    11  TB, W&B
    sft-v2  2026-08-06 15:41  GPT-2 from a config         markov-chain-v1   1e-3 cosine           2    16    23  TB (1)
    sft-v3  2026-09-03 11:02  Llama, tiny-llama-base (2)  markov-chain-v2   3e-4 linear           1    16     5  TB
    sft-v4  2026-10-01 09:37  Llama, tiny-llama-base (2)  random-tokens-v1  1e-3 constant         4     8    42  TB, W&B
    sft-v5  2026-10-22 16:20  LoRA r=16 alpha=32, all     random-tokens-v1  5e-3 linear           3     8     7  TB, W&B
                              linear layers, on (2)
    sft-v6  2026-11-12 14:05  GPT-2 from a config         random-tokens-v2  3e-4 cosine, warm 10  5     8  2026  TB
    (1) save_total_limit=1 (one checkpoint left), and training_args.bin kept. (2) models/tiny-llama-base.

      Data sets: markov-chain-v1 = 1024 (v2: 1536) sequences of 32 tokens from a fixed sparse Markov
      chain over 128 tokens (learnable: smooth curves); random-tokens-v1 = 160 (v2: 240) sequences of
      16 uniform-random tokens over 512 (memorizable only: stepped where the model memorizes). Eval sets
      are held-out samples of the same kind. Nothing about a run's curve is set by hand: the data set,
      model and learning rate decide it (sft-v5's adapter memorizes only a little; sft-v6's steps fade
      as its cosine schedule decays). The Llama runs load a freshly initialised model saved to
      models/tiny-llama-base (seed 0, so always the same weights; deleted after each run). That path is
      in the model card's base_model (passed as finetuned_from), adapter_config.json's
      base_model_name_or_path and the W&B config's _name_or_path, but not in config.json:
      transformers 5 no longer writes _name_or_path there, nor in the TensorBoard model_config text.
      The GPT-2 runs pass no finetuned_from: the Trainer's own default for a model built from a config
      gives a card with no base_model and the text "a fine-tuned version of [](https://huggingface.co/)".

      Dates: each archive run is trained in a child process under libfaketime (`faketime "<started>"
      python ...`), so every timestamp Python writes (TensorBoard wall times and file names, the W&B run
      folder name and the records in its .wandb file, the default runs/ folder name) says when the run
      "started", with the clock running on from there. wandb-core is a Go program whose clock
      libfaketime does not reach: its own debug-internal.log (real dates) is deleted. Without faketime
      the runs are made in-process and dated now, with a message.

  sample_logs/findings/: Trainer runs (TensorBoard on, W&B off, logging every step, no model card)
      that each show one finding other than the staircase:
    lr-spike             GPT-2 on markov-chain-v1 data, 2 epochs, LR 1e-3 linear; a callback multiplies
                         the LR by 100 for steps 80-83 (mid epoch 2; the logged learning_rate shows it):
                         the loss jumps from 2.45 to 3.80 and recovers by about step 93.
    diverge-nan          same data, plain SGD (optim="sgd"), LR warmed up to 3.0 over 60 steps,
                         max_grad_norm=0 (no clipping), logging_nan_inf_filter=False: the loss falls to
                         about 4.2, diverges from about step 54, is nan from step 63 to the end (128);
                         both evaluations give nan.
    diverge-nan-filtered the same run with the Trainer's default logging_nan_inf_filter=True: a nan step
                         counts as the mean of the steps since the last log, so with logging_steps=1 the
                         logged train loss is 0.0 (not nan) from the first nan step on; grad_norm and
                         eval loss are nan.
    eval-leak            GPT-2 memorizing 160 random sequences, 4 epochs of 20 steps, and a
                         LeakyEvalTrainer whose evaluation step also trains, with eval_dataset = the
                         training examples, evaluated every 9 steps (never at an epoch boundary; the
                         Trainer adds one at the last step): the train loss falls right after each
                         evaluation, and the eval loss falls fast.
    eval-leak-at-epochs  the same leak, evaluated at every epoch end.
    eval-clean-at-epochs the same memorizing run without the leak, evaluated at every epoch end on 48
                         held-out random sequences: stepped train loss, eval loss rising.
    lr-restarts          the memorizing run of eval-clean-at-epochs under a cosine schedule with a restart at
                         every epoch (cosine_with_restarts, num_cycles=4): the logged rate starts again at
                         each boundary.
    plateau              GPT-2 on 1024 markov-chain-v1-like sequences, 6 epochs of 64 steps at a constant 3e-3:
                         the chain is learned within the first epochs, then the loss sits at the chain's
                         entropy floor while training goes on (no eval set).
    steps-restart        a plain torch loop (no Trainer) logging to TensorBoard with torch's SummaryWriter, the
                         step being the batch index within the epoch (1-20) and train/epoch the progress: the
                         step count starts again at every epoch while the epoch goes on (3 epochs, memorizing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import tiny_training as tt  # noqa: E402

OUT = "sample_logs"  # relative: main() runs from the repository root


def hf_stepped() -> str:
    V, L = 512, 16
    spec = tt.RunSpec(
        name="hf-stepped",
        output_dir=os.path.join(OUT, "hf-stepped"),
        train=tt.random_sequences(160, L, V, seed=1),
        eval=tt.random_sequences(64, L, V, seed=2),
        vocab=V,
        seq_len=L,
        n_layer=2,
        n_embd=64,
        n_head=4,
        epochs=5,
        lr=1e-3,
        scheduler="constant",
        batch_size=8,
        logging_steps=1,
        eval_steps=5,
        report_to=("tensorboard", "wandb"),
        seed=42,
    )
    return tt.train_run(spec)


def hf_smooth() -> str:
    V, L = 128, 32
    spec = tt.RunSpec(
        name="hf-smooth",
        output_dir=os.path.join(OUT, "hf-smooth"),
        train=tt.markov_sequences(1024, L, V, seed=1),
        eval=tt.markov_sequences(128, L, V, seed=2),
        vocab=V,
        seq_len=L,
        n_layer=2,
        n_embd=64,
        n_head=4,
        epochs=3,
        lr=3e-4,
        scheduler="linear",
        batch_size=16,
        logging_steps=2,
        eval_steps=16,
        report_to=("tensorboard", "wandb"),
        seed=42,
    )
    return tt.train_run(spec)


def wandb_direct() -> str:
    """Plain torch training loop logging straight to wandb (offline)."""
    import torch
    import wandb

    out = os.path.join(OUT, "wandb-direct")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)

    V, L, N, BS, EPOCHS, LR = 512, 16, 160, 8, 4, 1e-3
    train = tt.random_sequences(N, L, V, seed=11).tokens
    held = tt.random_sequences(64, L, V, seed=12).tokens
    model = tt.make_model(V, L, n_layer=2, n_embd=64, n_head=4, seed=7)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    gen = torch.Generator().manual_seed(7)

    run = wandb.init(
        project="losscli-samples",
        name="wandb-direct",
        dir=out,
        mode="offline",
        config={
            "vocab": V,
            "seq_len": L,
            "n_examples": N,
            "batch_size": BS,
            "epochs": EPOCHS,
            "lr": LR,
            "model": "gpt2 2x64",
            "data": "uniform random tokens (memorization)",
        },
    )
    step = 0
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(N, generator=gen)
        for i in range(0, N, BS):
            x = train[perm[i : i + BS]]
            loss = model(input_ids=x, labels=x).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            wandb.log({"train/loss": loss.item(), "epoch": epoch}, step=step)
        model.eval()
        with torch.no_grad():
            eval_loss = model(input_ids=held, labels=held).loss.item()
        wandb.log({"eval/loss": eval_loss}, step=step)
    run.finish()
    wandb.teardown()
    tt.trim_wandb_dir(os.path.join(out, "wandb"))
    return out


# --------------------------------------------------------------------------
# sample_logs/archive/: months of fine-tunes that differ in configuration
# --------------------------------------------------------------------------

ARCHIVE_VOCAB, ARCHIVE_POSITIONS = 512, 32  # one tokenizer-sized vocabulary for every archive model
LLAMA_BASE = os.path.join("models", "tiny-llama-base")  # written, loaded from and deleted again by the Llama runs

# name -> (train, eval): the archive's data sets. Markov chains are learnable (smooth curves); uniform random
# tokens can only be memorized (stepped curves, when the model memorizes at all).
DATASETS = {
    "markov-chain-v1": lambda: (tt.markov_sequences(1024, 32, 128, seed=1), tt.markov_sequences(128, 32, 128, seed=2)),
    "markov-chain-v2": lambda: (tt.markov_sequences(1536, 32, 128, seed=3), tt.markov_sequences(128, 32, 128, seed=4)),
    "random-tokens-v1": lambda: (tt.random_sequences(160, 16, 512, seed=1), tt.random_sequences(64, 16, 512, seed=2)),
    "random-tokens-v2": lambda: (tt.random_sequences(240, 16, 512, seed=5), tt.random_sequences(64, 16, 512, seed=6)),
}


def archive_run(
    name: str,
    dataset: str,
    *,
    arch: str,
    base: bool = False,
    lora: dict | None = None,
    keep_training_args: bool = False,
    **kw,
) -> str:
    """One fine-tune of the archive, ended as a run_clm-style script ends it (model saved, metrics, card)."""
    train, held_out = DATASETS[dataset]()
    keep = ("config.json", "generation_config.json", "adapter_config.json", "README.md")
    keep += ("all_results.json", "train_results.json", "eval_results.json")
    if keep_training_args:
        keep += ("training_args.bin",)
    base_path = None
    if base:
        base_path = tt.save_base_model(LLAMA_BASE, arch, ARCHIVE_VOCAB, ARCHIVE_POSITIONS, 2, 64, 4)
    spec = tt.RunSpec(
        name=name,
        output_dir=os.path.join(OUT, "archive", name),
        train=train,
        eval=held_out,
        vocab=ARCHIVE_VOCAB,
        seq_len=ARCHIVE_POSITIONS,
        n_layer=2,
        n_embd=64,
        n_head=4,
        arch=arch,
        base_model=base_path,
        lora=lora,
        tb_default_dir=True,
        model_card={
            "model_name": name,
            "finetuned_from": base_path,  # None for a model built from a config: the Trainer's own default
            "dataset_tags": dataset,
            "dataset": dataset,
            "tags": ["sft"],
        },
        keep=keep,
        drop_core_log=True,
        **kw,
    )
    try:
        return tt.train_run(spec)
    finally:
        if base_path:
            shutil.rmtree(os.path.dirname(base_path))


def sft_v1() -> str:
    return archive_run(
        "sft-v1",
        "markov-chain-v1",
        arch="gpt2",
        epochs=3,
        lr=3e-4,
        scheduler="linear",
        warmup_steps=10,
        batch_size=16,
        logging_steps=2,
        eval_steps=32,
        seed=11,
        report_to=("tensorboard", "wandb"),
    )


def sft_v2() -> str:
    return archive_run(
        "sft-v2",
        "markov-chain-v1",
        arch="gpt2",
        epochs=2,
        lr=1e-3,
        scheduler="cosine",
        batch_size=16,
        logging_steps=2,
        seed=23,
        save_total_limit=1,
        keep_training_args=True,
        report_to=("tensorboard",),
    )


def sft_v3() -> str:
    return archive_run(
        "sft-v3",
        "markov-chain-v2",
        arch="llama",
        base=True,
        epochs=1,
        lr=3e-4,
        scheduler="linear",
        batch_size=16,
        logging_steps=2,
        eval_steps=24,
        seed=5,
        report_to=("tensorboard",),
    )


def sft_v4() -> str:
    return archive_run(
        "sft-v4",
        "random-tokens-v1",
        arch="llama",
        base=True,
        epochs=4,
        lr=1e-3,
        scheduler="constant",
        batch_size=8,
        logging_steps=1,
        seed=42,
        report_to=("tensorboard", "wandb"),
    )


def sft_v5() -> str:
    return archive_run(
        "sft-v5",
        "random-tokens-v1",
        arch="llama",
        base=True,
        lora={"r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "target_modules": "all-linear"},
        epochs=3,
        lr=5e-3,
        scheduler="linear",
        batch_size=8,
        logging_steps=1,
        seed=7,
        report_to=("tensorboard", "wandb"),
    )


def sft_v6() -> str:
    return archive_run(
        "sft-v6",
        "random-tokens-v2",
        arch="gpt2",
        epochs=5,
        lr=3e-4,
        scheduler="cosine",
        warmup_steps=10,
        batch_size=8,
        logging_steps=1,
        seed=2026,
        report_to=("tensorboard",),
    )


# --------------------------------------------------------------------------
# sample_logs/findings/: runs that show what else a loss log can say
# --------------------------------------------------------------------------


def findings_run(name: str, **kw) -> str:
    spec = tt.RunSpec(name=name, output_dir=os.path.join(OUT, "findings", name), report_to=("tensorboard",), **kw)
    return tt.train_run(spec)


def lr_spike() -> str:
    V, L = 128, 32
    return findings_run(
        "lr-spike",
        train=tt.markov_sequences(1024, L, V, seed=1),
        eval=tt.markov_sequences(128, L, V, seed=2),
        vocab=V,
        seq_len=L,
        n_embd=64,
        epochs=2,
        lr=1e-3,
        scheduler="linear",
        batch_size=16,
        logging_steps=1,
        seed=3,
        callbacks=(tt.LrSpikeCallback(at=80, length=4, factor=100.0),),  # steps 80-83, mid epoch 2
    )


def _diverging(name: str, nan_inf_filter: bool) -> str:
    V, L = 128, 32
    return findings_run(
        name,
        train=tt.markov_sequences(1024, L, V, seed=1),
        eval=tt.markov_sequences(128, L, V, seed=2),
        vocab=V,
        seq_len=L,
        n_embd=64,
        epochs=2,
        optim="sgd",  # AdamW bounds every update by the learning rate: on CPU in fp32 it grows, but never to NaN
        lr=3.0,
        scheduler="constant_with_warmup",
        warmup_steps=60,
        max_grad_norm=0.0,  # clipping off
        nan_inf_filter=nan_inf_filter,
        batch_size=16,
        logging_steps=1,
        seed=4,
    )


def diverge_nan() -> str:
    return _diverging("diverge-nan", nan_inf_filter=False)


def diverge_nan_filtered() -> str:
    """The Trainer's default logging_nan_inf_filter=True: a non-finite step adds the mean of the steps since the
    last log instead, so with logging_steps=1 the logged loss is 0.0 from the first NaN on."""
    return _diverging("diverge-nan-filtered", nan_inf_filter=True)


def _leak_data() -> tuple[tt.SeqDataset, tt.SeqDataset]:
    """Memorizable training data, and an "evaluation set" made of the same examples (eval_dataset=train_dataset,
    as quick scripts do), so the leaky evaluation trains on exactly what the next training batches hold."""
    train = tt.random_sequences(160, 16, 512, seed=21)
    return train, tt.SeqDataset(train.tokens.clone())


def eval_leak() -> str:
    train, leaked = _leak_data()
    return findings_run(
        "eval-leak",
        train=train,
        eval=leaked,
        vocab=512,
        seq_len=16,
        n_embd=64,
        epochs=4,
        lr=1e-3,
        scheduler="constant",
        batch_size=8,
        eval_batch_size=8,
        logging_steps=1,
        eval_steps=9,  # 20 steps per epoch: evaluations at 9, 18, 27, ... never at a boundary
        seed=5,
        trainer_cls=tt.LeakyEvalTrainer,
    )


def eval_leak_at_epochs() -> str:
    train, leaked = _leak_data()
    return findings_run(
        "eval-leak-at-epochs",
        train=train,
        eval=leaked,
        vocab=512,
        seq_len=16,
        n_embd=64,
        epochs=4,
        lr=1e-3,
        scheduler="constant",
        batch_size=8,
        eval_batch_size=8,
        logging_steps=1,
        seed=5,
        trainer_cls=tt.LeakyEvalTrainer,
    )


def eval_clean_at_epochs(name: str = "eval-clean-at-epochs", **schedule: Any) -> str:
    train, _ = _leak_data()
    return findings_run(
        name,
        train=train,
        eval=tt.random_sequences(48, 16, 512, seed=22),
        vocab=512,
        seq_len=16,
        n_embd=64,
        epochs=4,
        lr=1e-3,
        batch_size=8,
        eval_batch_size=8,
        logging_steps=1,
        seed=5,
        **({"scheduler": "constant"} | schedule),
    )


def lr_restarts() -> str:
    """The memorizing run of eval-clean-at-epochs under a cosine schedule that starts again at every epoch (the
    Trainer's cosine_with_restarts, one cycle an epoch): the rate is back at its peak at each boundary."""
    return eval_clean_at_epochs("lr-restarts", scheduler="cosine_with_restarts", scheduler_kwargs={"num_cycles": 4})


def plateau() -> str:
    """A learnable rule learned within the first epoch at a high constant rate, then four epochs with nothing left
    to learn: the loss sits at the chain's entropy floor while training goes on."""
    V, L = 128, 32
    return findings_run(
        "plateau",
        train=tt.markov_sequences(1024, L, V, seed=7),
        eval=None,
        vocab=V,
        seq_len=L,
        n_embd=64,
        epochs=6,
        lr=3e-3,
        scheduler="constant",
        batch_size=16,
        logging_steps=2,
        seed=8,
    )


def steps_restart() -> str:
    """A plain torch loop that logs to TensorBoard (torch's SummaryWriter) with the batch index within the epoch
    as the step, and the epoch as progress: the step count starts again every epoch while the epoch goes on."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    out = os.path.join(OUT, "findings", "steps-restart")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    V, L, N, BS, EPOCHS, LR = 512, 16, 160, 8, 3, 1e-3
    train = tt.random_sequences(N, L, V, seed=31).tokens
    model = tt.make_model(V, L, n_layer=2, n_embd=64, n_head=4, seed=9)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    gen = torch.Generator().manual_seed(9)
    writer = SummaryWriter(log_dir=out)
    batches = N // BS
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(N, generator=gen)
        for batch in range(batches):
            x = train[perm[batch * BS : (batch + 1) * BS]]
            loss = model(input_ids=x, labels=x).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.add_scalar("train/epoch", epoch + (batch + 1) / batches, batch + 1)  # the bug: step = batch
            writer.add_scalar("train/loss", loss.item(), batch + 1)
    writer.close()
    return out


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

SAMPLES = {
    "hf-stepped": hf_stepped,
    "hf-smooth": hf_smooth,
    "wandb-direct": wandb_direct,
    "archive/sft-v1": sft_v1,
    "archive/sft-v2": sft_v2,
    "archive/sft-v3": sft_v3,
    "archive/sft-v4": sft_v4,
    "archive/sft-v5": sft_v5,
    "archive/sft-v6": sft_v6,
    "findings/lr-spike": lr_spike,
    "findings/diverge-nan": diverge_nan,
    "findings/diverge-nan-filtered": diverge_nan_filtered,
    "findings/eval-leak": eval_leak,
    "findings/eval-leak-at-epochs": eval_leak_at_epochs,
    "findings/eval-clean-at-epochs": eval_clean_at_epochs,
    "findings/plateau": plateau,
    "findings/lr-restarts": lr_restarts,
    "findings/steps-restart": steps_restart,
}

# When each archive run "started": the training process runs under libfaketime from this moment on.
STARTED = {
    "archive/sft-v1": "2026-07-09 10:14:00",
    "archive/sft-v2": "2026-08-06 15:41:00",
    "archive/sft-v3": "2026-09-03 11:02:00",
    "archive/sft-v4": "2026-10-01 09:37:00",
    "archive/sft-v5": "2026-10-22 16:20:00",
    "archive/sft-v6": "2026-11-12 14:05:00",
}


def select(only: list[str]) -> list[str]:
    """Sample names for --only values: a name (`archive/sft-v4`, `sft-v4`) or a group (`archive`, `findings`)."""
    if not only:
        return list(SAMPLES)
    chosen: list[str] = []
    for item in (part for value in only for part in value.split(",") if part):
        item = item.strip("/")
        hits = [n for n in SAMPLES if n == item or n.startswith(item + "/") or n.split("/")[-1] == item]
        if not hits:
            sys.exit(f"--only {item}: no such sample (choose from {', '.join(SAMPLES)}, archive, findings)")
        chosen += [n for n in hits if n not in chosen]
    return chosen


def make(name: str) -> None:
    """Make one sample; an archive run is made in a child process whose clock starts at STARTED[name]."""
    t0 = time.time()
    started = STARTED.get(name)
    if started and "FAKETIME" not in os.environ:
        if shutil.which("faketime"):
            script = os.path.relpath(os.path.abspath(__file__), ROOT)
            cmd = ["faketime", started, sys.executable, script, "--only", name, "--out", OUT]
            subprocess.run(cmd, check=True)
            return
        print(f"{name}: faketime not found (apt-get install faketime): dated now, not {started}", flush=True)
    path = SAMPLES[name]()
    if name not in ("wandb-direct", "findings/steps-restart"):
        print(tt.format_summary(name, tt.summarize(path)), flush=True)
    print(f"{name}: {time.time() - t0:.1f}s", flush=True)


def main() -> None:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], help="sample or group to make (repeatable)")
    parser.add_argument("--out", default=OUT, help="folder to write the samples into (default: sample_logs)")
    args = parser.parse_args()
    t0 = time.time()
    os.chdir(ROOT)  # so paths recorded in the logs are repo-relative
    OUT = args.out
    os.makedirs(OUT, exist_ok=True)
    names = select(args.only)
    for name in names:
        make(name)
    if "FAKETIME" not in os.environ:
        print(f"done in {time.time() - t0:.1f}s")
        subprocess.run(["du", "-sh", *sorted({os.path.join(OUT, n.split("/")[0]) for n in names})])


if __name__ == "__main__":
    main()
