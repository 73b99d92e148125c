"""The tiny Hugging Face Trainer runs behind the MLflow and console samples, defined once.

scripts/make_mlflow_samples.py and scripts/console_train.py (driven by scripts/make_console_samples.py) train the
same few runs, so a reader of either format can be checked against the same curves:

  stepped     a tiny GPT-2 memorising 160 uniform-random sequences (the data and settings of sample_logs/hf-stepped):
              5 epochs, constant LR 1e-3, batch 8, a loss point every step, eval every 5 steps; flat inside each
              epoch, a drop at every epoch boundary.
  smooth      the same model learning a fixed Markov chain (the data and settings of sample_logs/hf-smooth):
              3 epochs, LR 3e-4 linear decay, batch 16, a loss point every 2 steps, eval every 16 steps.
  nan         the stepped data at LR 1000 with no gradient clipping (max_grad_norm=0): the loss explodes within a
              few steps and is NaN from then on. logging_nan_inf_filter=False, so the NaN is logged as NaN.
  nan-filtered  the same run with the Trainer's default logging_nan_inf_filter=True: every NaN step is replaced by
              the mean of the finite steps of its logging window, so with logging_steps=1 the logged loss reads 0.0
              once the run has diverged (eval_loss still reads nan).

Everything is built from scripts/tiny_training.py (read-only), in the generation environment it names.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tiny_training as tt  # noqa: E402
from transformers import GPT2LMHeadModel, Trainer, TrainingArguments  # noqa: E402

MODEL_NAME = "tiny-gpt2"  # what the config's _name_or_path (MLflow's model name parameter) reads


@dataclass(frozen=True)
class Recipe:
    """One tiny run: its data, model size and the TrainingArguments that differ between runs."""

    name: str
    data: str  # "random" (memorisation) or "markov" (a learnable rule)
    vocab: int
    seq_len: int
    n_train: int
    n_eval: int
    epochs: float
    lr: float
    scheduler: str
    batch_size: int
    logging_steps: int
    eval_steps: int
    max_grad_norm: float = 1.0
    nan_inf_filter: bool = True


RECIPES = {
    r.name: r
    for r in (
        Recipe("stepped", "random", 512, 16, 160, 64, 5, 1e-3, "constant", 8, 1, 5),
        Recipe("smooth", "markov", 128, 32, 1024, 128, 3, 3e-4, "linear", 16, 2, 16),
        Recipe("nan", "random", 512, 16, 160, 64, 2, 1000.0, "constant", 8, 1, 10, 0.0, False),
        Recipe("nan-filtered", "random", 512, 16, 160, 64, 2, 1000.0, "constant", 8, 1, 10, 0.0, True),
    )
}


def build_trainer(
    recipe: Recipe,
    output_dir: str,
    *,
    run_name: str,
    report_to: list[str],
    disable_tqdm: bool | None,
    args_class: type[TrainingArguments] = TrainingArguments,
) -> Trainer:
    """A Trainer for `recipe` writing checkpoints (one per epoch) to `output_dir`, logging to `report_to`.

    `disable_tqdm=None` keeps the Trainer's default: progress bars (ProgressCallback) when the transformers log
    level is WARNING or more verbose, the bare PrinterCallback otherwise. `args_class` lets a framework that
    extends TrainingArguments (ms-swift) use its own.
    """
    make = tt.random_sequences if recipe.data == "random" else tt.markov_sequences
    train = make(recipe.n_train, recipe.seq_len, recipe.vocab, seed=1)
    held_out = make(recipe.n_eval, recipe.seq_len, recipe.vocab, seed=2)
    model = as_pretrained(tt.make_model(recipe.vocab, recipe.seq_len, n_layer=2, n_embd=64, n_head=4, seed=42))
    args = args_class(
        output_dir=output_dir,
        run_name=run_name,
        num_train_epochs=recipe.epochs,
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=recipe.lr,
        lr_scheduler_type=recipe.scheduler,
        max_grad_norm=recipe.max_grad_norm,
        logging_nan_inf_filter=recipe.nan_inf_filter,
        logging_strategy="steps",
        logging_steps=recipe.logging_steps,
        eval_strategy="steps",
        eval_steps=recipe.eval_steps,
        save_strategy="epoch",
        report_to=report_to or "none",
        seed=42,
        data_seed=42,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=disable_tqdm,
    )
    return Trainer(model=model, args=args, train_dataset=train, eval_dataset=held_out)


def as_pretrained(model: GPT2LMHeadModel) -> GPT2LMHeadModel:
    """The same weights loaded back with from_pretrained from a local folder named MODEL_NAME, as users load a
    model: the config then carries `_name_or_path` and `architectures`, which a model built from a config lacks."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="losscli-model-") as folder:
        os.chdir(folder)
        try:
            model.save_pretrained(MODEL_NAME)
            return GPT2LMHeadModel.from_pretrained(MODEL_NAME)
        finally:
            os.chdir(cwd)
