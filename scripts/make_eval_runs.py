"""Make the labelled benchmark runs in benchmarks/eval_runs/ by REAL training.

Each run is a tiny GPT-2 trained with the Hugging Face Trainer on CPU; the
folder keeps only trainer_state.json (top level, via trainer.save_state()) and
checkpoint-N/trainer_state.json (save_strategy="epoch"; weights, optimizer,
scheduler, rng state and training_args.bin are deleted). No TensorBoard or
wandb output. benchmarks/eval_runs/LABELS.tsv gives run, truth, regime.

Generation-only environment (never the package's own; torch must be 2.13.0):

    python3 -m venv /tmp/genvenv
    /tmp/genvenv/bin/pip install torch==2.13.0 transformers accelerate tensorboard wandb

Run from the repository root:

    /tmp/genvenv/bin/python scripts/make_eval_runs.py            # all runs
    /tmp/genvenv/bin/python scripts/make_eval_runs.py mem-shuffle  # some runs

Versions used for the committed benchmarks/eval_runs/:
    python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
    tensorboard 2.21.0, wandb 0.31.0, numpy 2.4.6
Runtime: about a minute on 2 CPU cores.

Truths:
  stepped       memorization: uniform-random token sequences (nothing to
                generalize) seen once per epoch; train loss is flat inside an
                epoch and drops at each boundary, held-out eval loss rises.
  smooth        no step at the boundaries: a learnable rule (fixed Markov chain,
                1024 examples) or a model too small to memorize.
  inconclusive  a single epoch: no boundary is crossed.
Each truth was checked against the curve this script prints (per-epoch means,
loss just before/after each boundary, excess drop over the local trend in
units of the within-epoch noise), not assumed from the regime.

Note on the loss scale: transformers 5.24's Trainer divides the summed token
loss by the number of label tokens (seq_len per row) although a causal LM
predicts seq_len-1 of them, so a model at chance on vocab V logs
ln(V)*(L-1)/L (5.85 rather than 6.24 for V=512, L=16). That is what the real
Trainer writes; it does not change any shape.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import tiny_training as tt  # noqa: E402

OUT = os.path.join("benchmarks", "eval_runs")

# Memorizing setup: vocab 512, 16-token sequences. With a vocab of 64-128 a
# from-scratch model this small memorizes too slowly for a visible staircase
# in a few epochs (measured: boundary drops of 0.01-0.05 nats, ~1-2x noise);
# with 512 tokens each context is rare, so one exposure is remembered.
MV, ML = 512, 16
# Learnable setup: fixed sparse first-order Markov chain over 128 tokens.
GV, GL = 128, 32


def mem(n=160, seed=1):
    return tt.random_sequences(n, ML, MV, seed=seed)


def mem_eval():
    return tt.random_sequences(64, ML, MV, seed=2)


def gen(n=1024, seed=1):
    return tt.markov_sequences(n, GL, GV, seed=seed)


def gen_eval():
    return tt.markov_sequences(128, GL, GV, seed=2)


def runs() -> list[tuple[str, str, str, dict]]:
    """(name, truth, regime description, RunSpec kwargs)."""
    m = {"vocab": MV, "seq_len": ML, "n_layer": 2, "n_embd": 64, "n_head": 4, "batch_size": 8}
    g = {"vocab": GV, "seq_len": GL, "n_layer": 2, "n_embd": 64, "n_head": 4, "batch_size": 16}
    return [
        (
            "mem-shuffle",
            "stepped",
            "memorizing: 160 random sequences (V=512, L=16), 5 epochs, reshuffled each epoch (default sampler), "
            "linear LR decay from 2e-3, batch 8, logging_steps=1 (20 pts/epoch)",
            dict(m, train=mem(), eval=mem_eval(), epochs=5, lr=2e-3, scheduler="linear"),
        ),
        (
            "mem-noshuffle",
            "stepped",
            "memorizing: as mem-shuffle but no reshuffling (SequentialSampler: same order every epoch), "
            "linear LR decay from 2e-3, 5 epochs",
            dict(m, train=mem(), eval=mem_eval(), epochs=5, lr=2e-3, scheduler="linear", sequential=True),
        ),
        (
            "mem-constant-lr",
            "stepped",
            "memorizing: random sequences, 5 epochs, constant LR 1e-3 (lr_scheduler_type=constant), reshuffled",
            dict(m, train=mem(), eval=mem_eval(), epochs=5, lr=1e-3, scheduler="constant"),
        ),
        (
            "mem-lr-restarts",
            "stepped",
            "memorizing: random sequences, 5 epochs, cosine_with_restarts with num_cycles=5 "
            "(LR jumps back to 2e-3 at every epoch start)",
            dict(
                m,
                train=mem(),
                eval=mem_eval(),
                epochs=5,
                lr=2e-3,
                scheduler="cosine_with_restarts",
                scheduler_kwargs={"num_cycles": 5},
            ),
        ),
        (
            "mem-grad-accum4",
            "stepped",
            "memorizing: 256 random sequences, batch 4 x gradient_accumulation_steps 4 (16 optimizer steps/epoch), "
            "5 epochs, constant LR 2e-3",
            dict(
                m,
                train=mem(256),
                eval=mem_eval(),
                epochs=5,
                lr=2e-3,
                scheduler="constant",
                batch_size=4,
                grad_accum=4,
            ),
        ),
        (
            "mem-cut-midepoch",
            "stepped",
            "memorizing: random sequences, max_steps=50 = 2.5 epochs (num_train_epochs becomes 3, stops mid-epoch 3), "
            "linear LR decay from 2e-3",
            dict(m, train=mem(), eval=mem_eval(), epochs=3, max_steps=50, lr=2e-3, scheduler="linear"),
        ),
        (
            "mem-sparse-logging",
            "stepped",
            "memorizing: 144 random sequences (18 steps/epoch), 6 epochs, constant LR 1e-3, logging_steps=5: "
            "~3.6 points per epoch, log windows straddle the epoch boundaries",
            dict(m, train=mem(144), eval=mem_eval(), epochs=6, lr=1e-3, scheduler="constant", logging_steps=5),
        ),
        (
            "gen-markov-3ep",
            "smooth",
            "generalizing: 1024 sequences from a fixed sparse Markov chain (V=128, L=32), 3 epochs, "
            "constant_with_warmup LR 3e-4 (10 warmup steps), batch 16, logging_steps=2 (32 pts/epoch)",
            dict(
                g,
                train=gen(),
                eval=gen_eval(),
                epochs=3,
                lr=3e-4,
                scheduler="constant_with_warmup",
                warmup_steps=10,
                logging_steps=2,
            ),
        ),
        (
            "gen-markov-1ep",
            "inconclusive",
            "generalizing: 2048 Markov-chain sequences, ONE epoch only (128 steps, logging_steps=2): "
            "no epoch boundary is crossed",
            dict(
                g,
                train=gen(2048),
                eval=gen_eval(),
                epochs=1,
                lr=3e-4,
                scheduler="linear",
                logging_steps=2,
                eval_steps=32,
            ),
        ),
        (
            "tiny-model-random",
            "smooth",
            "too small to memorize: 1 layer, n_embd 8, 2 heads, on 160 random sequences with a small vocab "
            "(V=64, L=32), 5 epochs, constant LR 1e-3: loss stays near chance and drifts down slowly, no steps",
            dict(
                m,
                train=tt.random_sequences(160, 32, 64, seed=1),
                eval=tt.random_sequences(64, 32, 64, seed=2),
                vocab=64,
                seq_len=32,
                epochs=5,
                lr=1e-3,
                scheduler="constant",
                n_layer=1,
                n_embd=8,
                n_head=2,
            ),
        ),
        (
            "gen-markov-linear",
            "smooth",
            "generalizing: 1024 Markov-chain sequences, 3 epochs, linear LR decay from 1e-3, batch 16, logging_steps=2",
            dict(g, train=gen(seed=3), eval=gen_eval(), epochs=3, lr=1e-3, scheduler="linear", logging_steps=2),
        ),
        (
            "mem-tiny-subtle",
            "stepped",
            "memorizing, but barely: the same tiny 1-layer n_embd-8 model on 160 random sequences with V=512, "
            "L=16, 5 epochs, constant LR 1e-3; the large vocab lets even this model memorize a little: "
            "steps of only ~0.015 nats at each boundary, flat in between (hard case)",
            dict(
                m,
                train=mem(),
                eval=mem_eval(),
                epochs=5,
                lr=1e-3,
                scheduler="constant",
                n_layer=1,
                n_embd=8,
                n_head=2,
            ),
        ),
    ]


def main(argv: list[str]) -> None:
    t0 = time.time()
    os.chdir(ROOT)
    selected = set(argv)
    if not selected and os.path.exists(OUT):
        shutil.rmtree(OUT)  # full rebuild: no stale runs
    os.makedirs(OUT, exist_ok=True)
    all_runs = runs()
    for name, truth, regime, kw in all_runs:
        if selected and name not in selected:
            continue
        t = time.time()
        spec = tt.RunSpec(name=name, output_dir=os.path.join(OUT, name), seed=42, **kw)
        state = tt.train_run(spec)
        print(
            tt.format_summary(f"{name} [truth={truth}]", tt.summarize(state)),
            f"({time.time() - t:.1f}s)",
            flush=True,
        )
    with open(os.path.join(OUT, "LABELS.tsv"), "w") as f:
        f.write("run\ttruth\tregime\n")
        for name, truth, regime, _ in all_runs:
            f.write(f"{name}\t{truth}\t{regime}\n")
    print(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
