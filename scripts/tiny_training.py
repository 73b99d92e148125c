"""Shared helpers for the scripts that make REAL training logs for losscli.

Used by scripts/make_sample_logs.py and scripts/make_eval_runs.py. Everything
here actually trains tiny models with the Hugging Face Trainer on CPU; nothing
writes a log by hand.

Generation environment (a separate venv, not the package's own):

    python3 -m venv /work/genvenv
    /work/genvenv/bin/pip install torch==2.13.0 transformers accelerate tensorboard wandb peft

Versions the committed logs were made with:
    python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
    tensorboard 2.21.0, wandb 0.31.0, numpy 2.4.6 (and peft 0.21.2 for the
    LoRA run of sample_logs/archive/)

Besides plain runs (RunSpec with its defaults), train_run() can do what a
fine-tuning script usually does at the end (RunSpec.model_card: save_model,
save_metrics, save_state, evaluate, create_model_card, as in transformers'
examples/pytorch/language-modeling/run_clm.py), load a base model from a local
folder (save_base_model), train a PEFT LoRA adapter on it, and run with a
custom Trainer class or callbacks (LeakyEvalTrainer, LrSpikeCallback: the
faults that sample_logs/findings/ shows).
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
    AutoModelForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()
# Two threads by default: every committed sample was made with two. On a machine whose cores are busy,
# TINY_TRAINING_THREADS=1 runs these tiny models about three times faster, but the sums are ordered differently:
# the last digits change, and a chaotic run (findings/diverge-nan) visibly.
torch.set_num_threads(int(os.environ.get("TINY_TRAINING_THREADS", "2")))


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


def make_llama_model(
    vocab: int, seq_len: int, n_layer: int = 2, hidden: int = 64, n_head: int = 4, n_kv_head: int = 2, seed: int = 0
):
    """A tiny Llama (RMSNorm, rotary positions, SwiGLU, grouped-query attention) built from a config."""
    set_seed(seed)
    cfg = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=n_layer,
        num_attention_heads=n_head,
        num_key_value_heads=n_kv_head,
        max_position_embeddings=seq_len,
        bos_token_id=0,
        eos_token_id=0,
    )
    return LlamaForCausalLM(cfg)


def build_model(arch: str, vocab: int, seq_len: int, n_layer: int, n_embd: int, n_head: int, seed: int):
    if arch == "gpt2":
        return make_model(vocab, seq_len, n_layer, n_embd, n_head, seed=seed)
    if arch == "llama":
        return make_llama_model(vocab, seq_len, n_layer, n_embd, n_head, seed=seed)
    raise ValueError(f"unknown arch {arch!r}")


def save_base_model(path: str, arch: str, vocab: int, seq_len: int, n_layer: int, n_embd: int, n_head: int) -> str:
    """Write a freshly initialised model (seed 0, so always the same weights) to a local folder, to be loaded
    with from_pretrained() as the "base model" of a fine-tune: config.json then names that folder."""
    if os.path.exists(path):
        shutil.rmtree(path)
    build_model(arch, vocab, seq_len, n_layer, n_embd, n_head, seed=0).save_pretrained(path)
    return path


class SequentialTrainer(Trainer):
    """Trainer that never reshuffles: examples come in the same order every
    epoch. (transformers 5.24 signature: _get_train_sampler(self, train_dataset=None).)"""

    def _get_train_sampler(self, train_dataset=None):
        if train_dataset is None:
            train_dataset = self.train_dataset
        return SequentialSampler(train_dataset)


class LeakyEvalTrainer(Trainer):
    """A Trainer with the bug the seed post's authors suspected first: its evaluation step also trains.

    prediction_step computes the evaluation loss as usual, then (the bug: a training step pasted into the
    evaluation code) does a backward pass and an optimizer step on the same evaluation batch. When the
    evaluation examples are also in the training set, the model has just learned the examples it will see
    again, so the train loss falls right after every evaluation."""

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        out = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        if self.optimizer is not None:
            model.train()
            with torch.enable_grad():
                loss = self.compute_loss(model, self._prepare_inputs(inputs))
                loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            model.eval()
        return out


class LrSpikeCallback(TrainerCallback):
    """Multiply the learning rate by `factor` for `length` optimizer steps from global step `at` (as a bad
    manual change or a buggy schedule would). The scheduler's base rates are scaled too, so the logged
    learning_rate shows the spike as it was used."""

    def __init__(self, at: int, length: int, factor: float):
        self.at, self.length, self.factor = at, length, factor

    def _scale(self, optimizer, scheduler, k: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] *= k  # the rate this step uses
        scheduler.base_lrs = [lr * k for lr in scheduler.base_lrs]  # the rates the scheduler sets next
        scheduler._last_lr = [group["lr"] for group in optimizer.param_groups]  # the rate the Trainer logs

    def on_step_begin(self, args, state, control, optimizer=None, lr_scheduler=None, **kwargs):
        # global_step counts finished steps: the step about to run is global_step + 1.
        if state.global_step + 1 == self.at:
            self._scale(optimizer, lr_scheduler, self.factor)
        elif state.global_step + 1 == self.at + self.length:
            self._scale(optimizer, lr_scheduler, 1.0 / self.factor)


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
    # Everything below defaults to what the first samples (hf-stepped, hf-smooth) were made with.
    arch: str = "gpt2"  # model built from a config: "gpt2" or "llama"
    base_model: str | None = None  # a local folder (save_base_model) to load the model from instead
    lora: dict | None = None  # peft.LoraConfig keyword arguments: train a LoRA adapter on the model
    max_grad_norm: float = 1.0  # 0 turns clipping off
    optim: str | None = None  # TrainingArguments.optim; None: the Trainer's default (AdamW)
    nan_inf_filter: bool = True  # TrainingArguments.logging_nan_inf_filter
    eval_batch_size: int = 64
    trainer_cls: type | None = None  # overrides `sequential`
    callbacks: tuple = ()
    save_total_limit: int | None = None
    tb_default_dir: bool = False  # True: the Trainer's own runs/<Mon DD_HH-MM-SS>_<host>; False: runs/<name>
    wandb_project: str = "losscli-samples"
    # The usual end of a fine-tuning script: save_model, save_metrics("train"/"eval"), save_state, evaluate and
    # create_model_card(**model_card). None: only save_state (the first samples).
    model_card: dict | None = None
    keep: tuple = ()  # file names kept at the top level and in checkpoint-*/ besides trainer_state.json
    drop_core_log: bool = False  # drop wandb-core's own debug log (see make_sample_logs.py: faketime)


def train_run(spec: RunSpec) -> str:
    """Train one run with the HF Trainer, then strip it down to logs only.
    Returns the path of the top-level trainer_state.json."""
    if os.path.exists(spec.output_dir):
        shutil.rmtree(spec.output_dir)
    os.makedirs(spec.output_dir)

    if "tensorboard" in spec.report_to and not spec.tb_default_dir:
        # Same layout as the default (<output_dir>/runs/<name>) but a stable name.
        os.environ["TENSORBOARD_LOGGING_DIR"] = os.path.join(spec.output_dir, "runs", spec.name)
    else:
        os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
    if "wandb" in spec.report_to:
        os.environ["WANDB_MODE"] = "offline"
        os.environ["WANDB_DIR"] = spec.output_dir
        os.environ["WANDB_PROJECT"] = spec.wandb_project

    if spec.base_model:
        set_seed(spec.seed)
        model = AutoModelForCausalLM.from_pretrained(spec.base_model)
    else:
        model = build_model(spec.arch, spec.vocab, spec.seq_len, spec.n_layer, spec.n_embd, spec.n_head, spec.seed)
    if spec.lora is not None:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **spec.lora))

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
        per_device_eval_batch_size=spec.eval_batch_size,
        gradient_accumulation_steps=spec.grad_accum,
        learning_rate=spec.lr,
        lr_scheduler_type=spec.scheduler,
        lr_scheduler_kwargs=spec.scheduler_kwargs or {},
        warmup_steps=spec.warmup_steps,
        weight_decay=spec.weight_decay,
        max_grad_norm=spec.max_grad_norm,
        **({"optim": spec.optim} if spec.optim else {}),
        logging_nan_inf_filter=spec.nan_inf_filter,
        logging_strategy="steps",
        logging_steps=spec.logging_steps,
        save_strategy="epoch",
        save_total_limit=spec.save_total_limit,
        report_to=list(spec.report_to) or "none",
        seed=spec.seed,
        data_seed=spec.seed,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        **eval_kw,
    )
    cls = spec.trainer_cls or (SequentialTrainer if spec.sequential else Trainer)
    trainer = cls(
        model=model,
        args=args,
        train_dataset=spec.train,
        eval_dataset=spec.eval,
        callbacks=list(spec.callbacks) or None,
    )
    trainer.remove_callback(PrinterCallback)  # no per-step dicts on stdout
    result = trainer.train()
    if spec.model_card is None:
        trainer.save_state()  # final trainer_state.json in output_dir itself
    else:
        finish_run(trainer, result, spec.model_card)

    if "wandb" in spec.report_to:
        import wandb

        if wandb.run is not None:
            wandb.finish()
        wandb.teardown()  # so the next run re-reads WANDB_DIR
    strip_output_dir(spec.output_dir, keep=spec.keep, drop_core_log=spec.drop_core_log)
    return os.path.join(spec.output_dir, "trainer_state.json")


def finish_run(trainer: Trainer, result, card: dict) -> None:
    """The end of a typical fine-tuning script (transformers' run_clm.py): save the model (config.json,
    generation_config.json or adapter_config.json, weights, training_args.bin), train metrics
    (train_results.json and all_results.json), the state, a final evaluation (eval_results.json) and the
    model card README.md."""
    trainer.save_model()
    metrics = result.metrics
    metrics["train_samples"] = len(trainer.train_dataset)
    trainer.log_metrics("train", metrics)
    trainer.save_metrics("train", metrics)
    trainer.save_state()
    if trainer.eval_dataset is not None:
        metrics = trainer.evaluate()
        metrics["eval_samples"] = len(trainer.eval_dataset)
        try:
            metrics["perplexity"] = math.exp(metrics["eval_loss"])
        except OverflowError:
            metrics["perplexity"] = float("inf")
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
    trainer.create_model_card(**card)


def strip_output_dir(output_dir: str, keep: tuple = (), drop_core_log: bool = False) -> None:
    """Keep only trainer_state.json files (top level and checkpoint-*/), the
    TensorBoard runs/ folder, a trimmed wandb/ folder and the files named in
    `keep` (top level and checkpoints)."""
    kept = {"trainer_state.json", *keep}
    for entry in os.listdir(output_dir):
        p = os.path.join(output_dir, entry)
        if entry.startswith("checkpoint-") and os.path.isdir(p):
            for f in os.listdir(p):
                if f not in kept:
                    fp = os.path.join(p, f)
                    shutil.rmtree(fp) if os.path.isdir(fp) else os.remove(fp)
        elif entry in kept or entry == "runs":
            continue
        elif entry == "wandb":
            trim_wandb_dir(p, drop_core_log=drop_core_log)
        else:
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)


def trim_wandb_dir(wandb_dir: str, max_log_bytes: int = 64 * 1024, drop_core_log: bool = False) -> None:
    """Keep run-*.wandb, files/ (whatever wandb wrote there: with wandb-core in
    offline mode that is output.log and requirements.txt only) and the small
    logs/debug*.log; drop tmp/, oversized logs and every absolute symlink
    (logs/debug-core.log points into ~/.cache). Relative symlinks (latest-run,
    debug.log, debug-internal.log) are kept. drop_core_log: also drop
    debug-internal.log (written by the wandb-core service, a Go program whose
    clock libfaketime does not reach) and its link."""
    if drop_core_log:
        for dirpath, _, filenames in os.walk(wandb_dir):
            for name in filenames:
                if name == "debug-internal.log":
                    os.remove(os.path.join(dirpath, name))
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
    train = [(h["epoch"], h["step"], h["loss"]) for h in hist if "loss" in h and math.isfinite(h["loss"])]
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
        f"== {name}: {s['points']} finite train points, global_step={s['global_step']}, "
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
