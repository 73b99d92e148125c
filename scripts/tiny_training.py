"""Shared helpers for the scripts that make REAL training logs for losscli.

Used by scripts/make_sample_logs.py and scripts/make_eval_runs.py. Everything
here actually trains tiny models with the Hugging Face Trainer on CPU; nothing
writes a log by hand.

Generation environment (a separate venv, not the package's own):

    python3 -m venv /tmp/genvenv
    /tmp/genvenv/bin/pip install torch==2.13.0 transformers accelerate tensorboard wandb

Versions the committed logs were made with:
    python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
    tensorboard 2.21.0, wandb 0.31.0, numpy 2.4.6
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
from dataclasses import dataclass

# Quiet, offline, no telemetry; must be set before transformers/wandb import.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("DISABLE_MLFLOW_INTEGRATION", "TRUE")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("WANDB_DISABLE_GIT", "true")
os.environ.setdefault("WANDB_DISABLE_CODE", "true")

import torch  # noqa: E402
from torch.utils.data import Dataset, SequentialSampler  # noqa: E402
from transformers import (  # noqa: E402
    GPT2Config,
    GPT2LMHeadModel,
    PrinterCallback,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()
torch.set_num_threads(2)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


class SeqDataset(Dataset):
    """Causal-LM dataset over a [N, L] LongTensor of token ids."""

    def __init__(self, tokens: torch.Tensor):
        self.tokens = tokens

    def __len__(self) -> int:
        return self.tokens.shape[0]

    def __getitem__(self, i):
        x = self.tokens[i]
        return {"input_ids": x, "labels": x}


def random_sequences(n: int, seq_len: int, vocab: int, seed: int) -> SeqDataset:
    """Uniform random tokens: nothing to generalize, only to memorize."""
    g = torch.Generator().manual_seed(seed)
    return SeqDataset(torch.randint(0, vocab, (n, seq_len), generator=g))


def markov_table(vocab: int, seed: int, branching: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed sparse first-order Markov chain: each token has `branching`
    possible successors with probabilities 0.6/0.3/0.1 (for branching=3)."""
    g = torch.Generator().manual_seed(seed)
    succ = torch.stack([torch.randperm(vocab, generator=g)[:branching] for _ in range(vocab)])
    probs = torch.tensor([0.6, 0.3, 0.1][:branching] if branching <= 3 else [1.0 / branching] * branching)
    probs = probs / probs.sum()
    return succ, probs


def markov_sequences(n: int, seq_len: int, vocab: int, seed: int, table_seed: int = 1234) -> SeqDataset:
    """Sequences from a fixed Markov chain (a learnable rule). Different
    `seed`s give different samples from the SAME chain (train vs eval)."""
    succ, probs = markov_table(vocab, table_seed)
    g = torch.Generator().manual_seed(seed)
    out = torch.empty((n, seq_len), dtype=torch.long)
    out[:, 0] = torch.randint(0, vocab, (n,), generator=g)
    for t in range(1, seq_len):
        choice = torch.multinomial(probs.expand(n, -1), 1, generator=g).squeeze(1)
        out[:, t] = succ[out[:, t - 1], choice]
    return SeqDataset(out)


def markov_entropy(vocab: int, table_seed: int = 1234) -> float:
    """Per-token entropy floor (nats) of the chain after the first token."""
    _, probs = markov_table(vocab, table_seed)
    return float(-(probs * probs.log()).sum())


# --------------------------------------------------------------------------
# model / training
# --------------------------------------------------------------------------


def make_model(vocab: int, seq_len: int, n_layer: int = 2, n_embd: int = 128, n_head: int = 4, seed: int = 0):
    set_seed(seed)
    cfg = GPT2Config(
        vocab_size=vocab,
        n_positions=seq_len,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPT2LMHeadModel(cfg)


class SequentialTrainer(Trainer):
    """Trainer that never reshuffles: examples come in the same order every
    epoch. (transformers 5.24 signature: _get_train_sampler(self, train_dataset=None).)"""

    def _get_train_sampler(self, train_dataset=None):
        if train_dataset is None:
            train_dataset = self.train_dataset
        return SequentialSampler(train_dataset)


@dataclass
class RunSpec:
    name: str
    output_dir: str
    train: SeqDataset
    eval: SeqDataset | None
    vocab: int
    seq_len: int
    n_layer: int = 2
    n_embd: int = 128
    n_head: int = 4
    epochs: float = 4
    lr: float = 1e-3
    batch_size: int = 8
    logging_steps: int = 1
    eval_steps: int | None = None  # None -> evaluate every epoch (if eval set)
    scheduler: str = "linear"
    scheduler_kwargs: dict | None = None
    warmup_steps: int = 0
    grad_accum: int = 1
    max_steps: int = -1
    sequential: bool = False
    weight_decay: float = 0.0
    seed: int = 42
    report_to: tuple = ()


def train_run(spec: RunSpec) -> str:
    """Train one run with the HF Trainer, then strip it down to logs only.
    Returns the path of the top-level trainer_state.json."""
    if os.path.exists(spec.output_dir):
        shutil.rmtree(spec.output_dir)
    os.makedirs(spec.output_dir)

    if "tensorboard" in spec.report_to:
        # Same layout as the default (<output_dir>/runs/<name>) but a stable name.
        os.environ["TENSORBOARD_LOGGING_DIR"] = os.path.join(spec.output_dir, "runs", spec.name)
    else:
        os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
    if "wandb" in spec.report_to:
        os.environ["WANDB_MODE"] = "offline"
        os.environ["WANDB_DIR"] = spec.output_dir
        os.environ["WANDB_PROJECT"] = "losscli-samples"

    model = make_model(spec.vocab, spec.seq_len, spec.n_layer, spec.n_embd, spec.n_head, seed=spec.seed)

    if spec.eval is None:
        eval_kw = {"eval_strategy": "no"}
    elif spec.eval_steps:
        eval_kw = {"eval_strategy": "steps", "eval_steps": spec.eval_steps}
    else:
        eval_kw = {"eval_strategy": "epoch"}

    args = TrainingArguments(
        output_dir=spec.output_dir,
        run_name=spec.name,
        num_train_epochs=spec.epochs,
        max_steps=spec.max_steps,
        per_device_train_batch_size=spec.batch_size,
        per_device_eval_batch_size=64,
        gradient_accumulation_steps=spec.grad_accum,
        learning_rate=spec.lr,
        lr_scheduler_type=spec.scheduler,
        lr_scheduler_kwargs=spec.scheduler_kwargs or {},
        warmup_steps=spec.warmup_steps,
        weight_decay=spec.weight_decay,
        logging_strategy="steps",
        logging_steps=spec.logging_steps,
        save_strategy="epoch",
        report_to=list(spec.report_to) or "none",
        seed=spec.seed,
        data_seed=spec.seed,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **eval_kw,
    )
    cls = SequentialTrainer if spec.sequential else Trainer
    trainer = cls(model=model, args=args, train_dataset=spec.train, eval_dataset=spec.eval)
    trainer.remove_callback(PrinterCallback)  # no per-step dicts on stdout
    trainer.train()
    trainer.save_state()  # final trainer_state.json in output_dir itself

    if "wandb" in spec.report_to:
        import wandb

        if wandb.run is not None:
            wandb.finish()
        wandb.teardown()  # so the next run re-reads WANDB_DIR
    strip_output_dir(spec.output_dir)
    return os.path.join(spec.output_dir, "trainer_state.json")


def strip_output_dir(output_dir: str) -> None:
    """Keep only trainer_state.json files (top level and checkpoint-*/), the
    TensorBoard runs/ folder and a trimmed wandb/ folder."""
    for entry in os.listdir(output_dir):
        p = os.path.join(output_dir, entry)
        if entry.startswith("checkpoint-") and os.path.isdir(p):
            for f in os.listdir(p):
                if f != "trainer_state.json":
                    fp = os.path.join(p, f)
                    shutil.rmtree(fp) if os.path.isdir(fp) else os.remove(fp)
        elif entry in ("trainer_state.json", "runs"):
            continue
        elif entry == "wandb":
            trim_wandb_dir(p)
        else:
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)


def trim_wandb_dir(wandb_dir: str, max_log_bytes: int = 64 * 1024) -> None:
    """Keep run-*.wandb, files/ (whatever wandb wrote there: with wandb-core in
    offline mode that is output.log and requirements.txt only) and the small
    logs/debug*.log; drop tmp/, oversized logs and every absolute symlink
    (logs/debug-core.log points into ~/.cache). Relative symlinks (latest-run,
    debug.log, debug-internal.log) are kept."""
    for dirpath, dirnames, filenames in os.walk(wandb_dir):
        for name in list(dirnames) + filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p) and os.path.isabs(os.readlink(p)):
                os.remove(p)
    for entry in os.listdir(wandb_dir):
        p = os.path.join(wandb_dir, entry)
        if entry.startswith(("offline-run-", "run-")) and os.path.isdir(p) and not os.path.islink(p):
            for sub in os.listdir(p):
                sp = os.path.join(p, sub)
                if sub == "tmp":
                    shutil.rmtree(sp)
                elif sub in ("logs", "files"):
                    for f in os.listdir(sp):
                        fp = os.path.join(sp, f)
                        if os.path.isdir(fp):
                            shutil.rmtree(fp)
                        elif os.path.getsize(fp) > max_log_bytes:
                            os.remove(fp)


# --------------------------------------------------------------------------
# checking the shape of a run
# --------------------------------------------------------------------------


def _epoch_index(epoch: float) -> int:
    # Trainer logs epoch = global_step / steps_per_epoch; the last step of
    # epoch 1 is logged as 1.0, so points in (k-1, k] belong to epoch k-1.
    return max(0, math.ceil(round(epoch, 6)) - 1)


def _slope(v: list[float]) -> float:
    """Least-squares slope per logged point."""
    n = len(v)
    if n < 2:
        return 0.0
    xm = (n - 1) / 2
    ym = statistics.fmean(v)
    return sum((i - xm) * (y - ym) for i, y in enumerate(v)) / sum((i - xm) ** 2 for i in range(n))


def summarize(state_path: str, k: int = 3) -> dict:
    """Shape check of a trainer_state.json.

    - per-epoch mean train loss;
    - noise: median over epochs of std(point-to-point differences)/sqrt(2);
    - inside drop: mean of first k points minus mean of last k points of an epoch;
    - boundary drop: mean of the last k points before a boundary minus the
      first k after it, and the *excess* drop: that minus what the local trend
      (mean least-squares slope of the two epochs) predicts over the k-point gap.
    """
    with open(state_path) as f:
        state = json.load(f)
    hist = state["log_history"]
    train = [(h["epoch"], h["step"], h["loss"]) for h in hist if "loss" in h]
    evals = [(h["epoch"], h["step"], h["eval_loss"]) for h in hist if "eval_loss" in h]
    by_epoch: dict[int, list[float]] = {}
    for ep, _, loss in train:
        by_epoch.setdefault(_epoch_index(ep), []).append(loss)
    epochs = sorted(by_epoch)
    means = {e: statistics.fmean(by_epoch[e]) for e in epochs}
    noises = []
    for e in epochs:
        v = by_epoch[e]
        if len(v) >= 4:
            d = [b - a for a, b in zip(v, v[1:])]
            noises.append(statistics.pstdev(d) / math.sqrt(2))
    noise = statistics.median(noises) if noises else float("nan")
    inside = {
        e: statistics.fmean(by_epoch[e][:k]) - statistics.fmean(by_epoch[e][-k:])
        for e in epochs
        if len(by_epoch[e]) >= 2 * k
    }
    boundaries = []
    for a, b in zip(epochs, epochs[1:]):
        kk = max(1, min(k, len(by_epoch[a]), len(by_epoch[b])))
        before = statistics.fmean(by_epoch[a][-kk:])
        after = statistics.fmean(by_epoch[b][:kk])
        slope = statistics.fmean([_slope(by_epoch[a]), _slope(by_epoch[b])])
        drop = before - after
        boundaries.append(
            {"boundary": a + 1, "before": before, "after": after, "drop": drop, "excess": drop + slope * kk}
        )
    return {
        "points": len(train),
        "points_per_epoch": {e: len(by_epoch[e]) for e in epochs},
        "epoch_means": means,
        "inside_drop": inside,
        "noise": noise,
        "boundaries": boundaries,
        "evals": evals,
        "global_step": state.get("global_step"),
        "max_steps": state.get("max_steps"),
        "num_train_epochs": state.get("num_train_epochs"),
        "final_epoch": state.get("epoch"),
    }


def format_summary(name: str, s: dict) -> str:
    lines = [
        f"== {name}: {s['points']} train points, global_step={s['global_step']}, "
        f"epoch={s['final_epoch']:.4g}, points/epoch={list(s['points_per_epoch'].values())}"
    ]
    lines.append("   epoch mean train loss: " + ", ".join(f"e{e + 1}={m:.3f}" for e, m in s["epoch_means"].items()))
    lines.append(
        "   drop inside epoch (first-k minus last-k): "
        + ", ".join(f"e{e + 1}={d:+.3f}" for e, d in s["inside_drop"].items())
    )
    lines.append(f"   noise (within-epoch point std) ~ {s['noise']:.4f}")
    for b in s["boundaries"]:
        r = b["excess"] / s["noise"] if s["noise"] and s["noise"] > 0 else float("nan")
        lines.append(
            f"   boundary {b['boundary']}: before={b['before']:.3f} after={b['after']:.3f} "
            f"drop={b['drop']:+.3f} excess-over-trend={b['excess']:+.3f} ({r:+.1f} x noise)"
        )
    if s["evals"]:
        lines.append("   eval loss: " + ", ".join(f"{ep:.3g}:{v:.3f}" for ep, _, v in s["evals"]))
    return "\n".join(lines)
