"""Make the REAL logs under tests/data/ that the readers' tests need, with the real writers, on CPU.

Run from the repository root in the generation environment (see scripts/tiny_training.py):

    /work/genvenv/bin/python scripts/make_parser_fixtures.py

The Lightning logs need Lightning too, installed beside that environment's torch without touching it:

    python3 -m venv /tmp/lightning && echo /work/genvenv/lib/python3.11/site-packages \
        > /tmp/lightning/lib/python3.11/site-packages/genvenv.pth
    /tmp/lightning/bin/pip install --no-deps lightning==2.6.6 lightning-utilities torchmetrics
    /tmp/lightning/bin/python scripts/make_parser_fixtures.py --lightning

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, accelerate 1.15.0,
tensorboard 2.21.0, wandb 0.31.0. Runtime: about half a minute on 2 CPU cores.

What it writes (each folder rebuilt from scratch, weights and optimizer state deleted):

  tests/data/hf-evaluate-after/   a Hugging Face Trainer output folder of a tiny GPT-2 (2 layers, n_embd 32) trained
      3 epochs on 64 random token sequences (8 steps an epoch, a loss logged every step, an evaluation every
      epoch), with `trainer.evaluate()` called after `trainer.train()`, as most fine-tuning scripts and the HF
      examples do: the evaluation at the last step is logged twice. TensorBoard (`runs/`) and W&B offline
      (`wandb/`) logging on; `trainer_state.json` saved after the evaluation.
  tests/data/wandb-epoch-reset/   a plain torch loop logging to W&B offline `{"train/loss", "epoch"}` every step,
      run as a script is when it is started again from its checkpoint: the global step goes on (it is restored),
      the epoch loop starts again from 0. Two epochs, then two more counted 0 and 1 again.
  tests/data/lightning-two-losses/version_0/metrics.csv   Lightning 2.6.6's CSVLogger of a tiny classifier learning
      random labels (4 epochs of 25 steps), whose `training_step` logs `loss` (cross-entropy plus an L2 penalty)
      and `train_loss` (the cross-entropy), and `validation_step` `val_loss`;
  tests/data/lightning-two-losses/version_1/metrics.csv   the same with `train_loss` logged `on_step` and
      `on_epoch`, which Lightning writes as `train_loss_step` and `train_loss_epoch`;
  tests/data/lightning-two-losses/version_2/metrics.csv   the same again, also logging 300 `val_feature_*` values
      at every validation: a table 305 columns wide.
"""

from __future__ import annotations

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import tiny_training as tt  # noqa: E402

OUT = os.path.join("tests", "data")


def hf_evaluate_after() -> str:
    from transformers import PrinterCallback, Trainer, TrainingArguments

    out = os.path.join(OUT, "hf-evaluate-after")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    os.environ["TENSORBOARD_LOGGING_DIR"] = os.path.join(out, "runs", "hf-evaluate-after")
    os.environ["WANDB_DIR"] = out
    os.environ["WANDB_PROJECT"] = "losscli-fixtures"
    vocab, length = 256, 16
    model = tt.make_model(vocab, length, n_layer=2, n_embd=32, n_head=2, seed=3)
    args = TrainingArguments(
        output_dir=out,
        run_name="hf-evaluate-after",
        num_train_epochs=3,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=32,
        learning_rate=2e-3,
        lr_scheduler_type="constant",
        logging_strategy="steps",
        logging_steps=1,
        eval_strategy="epoch",
        save_strategy="no",
        report_to=["tensorboard", "wandb"],
        seed=3,
        data_seed=3,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=tt.random_sequences(64, length, vocab, seed=4),
        eval_dataset=tt.random_sequences(32, length, vocab, seed=5),
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.evaluate()  # the evaluation after training: logged again at the last step
    trainer.save_state()
    import wandb

    if wandb.run is not None:
        wandb.finish()
    wandb.teardown()
    tt.strip_output_dir(out)
    return out


def wandb_epoch_reset() -> str:
    import torch
    import wandb

    out = os.path.join(OUT, "wandb-epoch-reset")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    vocab, length, examples, batch = 256, 16, 64, 8
    train = tt.random_sequences(examples, length, vocab, seed=6).tokens
    model = tt.make_model(vocab, length, n_layer=2, n_embd=32, n_head=2, seed=6)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    run = wandb.init(project="losscli-fixtures", name="wandb-epoch-reset", dir=out, mode="offline")
    step = 0
    for _session in range(2):  # the script started a second time: step restored, epochs counted from 0
        for epoch in range(2):
            for i in range(0, examples, batch):
                x = train[i : i + batch]
                loss = model(input_ids=x, labels=x).loss
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                wandb.log({"train/loss": loss.item(), "epoch": epoch}, step=step)
    run.finish()
    wandb.teardown()
    tt.trim_wandb_dir(os.path.join(out, "wandb"))
    return out


def lightning_two_losses() -> str:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import CSVLogger

    out = os.path.join(OUT, "lightning-two-losses")
    if os.path.exists(out):
        shutil.rmtree(out)
    generator = torch.Generator().manual_seed(7)
    inputs, labels = torch.randn(200, 16, generator=generator), torch.randint(0, 4, (200,), generator=generator)
    held_in, held_labels = torch.randn(64, 16, generator=generator), torch.randint(0, 4, (64,), generator=generator)

    class Classifier(L.LightningModule):
        def __init__(self, both_on_epoch: bool, per_feature: bool = False) -> None:
            super().__init__()
            self.both_on_epoch, self.per_feature = both_on_epoch, per_feature
            self.net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))

        def training_step(self, batch, index):  # noqa: ANN001, ANN201
            x, y = batch
            ce = torch.nn.functional.cross_entropy(self.net(x), y)
            if self.both_on_epoch:
                self.log("train_loss", ce, on_step=True, on_epoch=True)
            else:
                penalty = 1e-3 * sum((p**2).sum() for p in self.parameters())
                self.log("loss", ce + penalty)
                self.log("train_loss", ce)
            return ce

        def validation_step(self, batch, index):  # noqa: ANN001, ANN201
            x, y = batch
            logits = self.net(x)
            self.log("val_loss", torch.nn.functional.cross_entropy(logits, y))
            if self.per_feature:  # a wide table: one more column per feature, logged once an epoch
                for i in range(300):
                    self.log(f"val_feature_{i:03d}", logits[:, i % 4].mean() * (1 + i / 1000))

        def configure_optimizers(self):  # noqa: ANN201
            return torch.optim.Adam(self.parameters(), lr=3e-3)

    def loader(x: torch.Tensor, y: torch.Tensor, shuffle: bool) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8, shuffle=shuffle)

    for version, both, wide in ((0, False, False), (1, True, False), (2, True, True)):
        L.seed_everything(7)
        trainer = L.Trainer(
            max_epochs=4,
            logger=CSVLogger(OUT, name="lightning-two-losses", version=version),
            log_every_n_steps=1,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            accelerator="cpu",
        )
        trainer.fit(Classifier(both, wide), loader(inputs, labels, True), loader(held_in, held_labels, False))
        for name in os.listdir(os.path.join(out, f"version_{version}")):
            if name != "metrics.csv":  # hparams.yaml: empty
                os.remove(os.path.join(out, f"version_{version}", name))
    return out


def main() -> None:
    os.chdir(ROOT)  # paths recorded in the logs are repository-relative
    makers = (lightning_two_losses,) if "--lightning" in sys.argv else (hf_evaluate_after, wandb_epoch_reset)
    for make in makers:
        print(make.__name__, "->", make(), flush=True)


if __name__ == "__main__":
    main()
