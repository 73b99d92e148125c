"""Make the REAL sample training logs in sample_logs/ by training tiny models on CPU.

Generation-only environment (never the package's own; torch must be 2.13.0):

    python3 -m venv /tmp/genvenv
    /tmp/genvenv/bin/pip install torch==2.13.0 transformers accelerate tensorboard wandb

Run from the repository root:

    /tmp/genvenv/bin/python scripts/make_sample_logs.py

Versions used for the committed sample_logs/:
    python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
    tensorboard 2.21.0, wandb 0.31.0, numpy 2.4.6
Runtime: well under a minute on 2 CPU cores.

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

Each Trainer folder holds trainer_state.json (final state, via
trainer.save_state()), checkpoint-N/trainer_state.json for each epoch (weights,
optimizer, scheduler, rng state, training_args.bin all deleted),
runs/<name>/events.out.tfevents.* (TensorBoard) and wandb/offline-run-*/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

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


def main() -> None:
    t0 = time.time()
    os.chdir(ROOT)  # so paths recorded in the logs are repo-relative
    os.makedirs(OUT, exist_ok=True)
    for fn in (hf_stepped, hf_smooth):
        state = fn()
        print(tt.format_summary(fn.__name__, tt.summarize(state)), flush=True)
    print("wandb-direct ->", wandb_direct())
    print(f"done in {time.time() - t0:.1f}s")
    subprocess.run(["du", "-sh", OUT])


if __name__ == "__main__":
    main()
