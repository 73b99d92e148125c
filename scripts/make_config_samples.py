"""Make the REAL Lightning logs that the configuration tests need (issue 11), with Lightning's own loggers, on CPU.

Lightning states a run's configuration in two places: `hparams.yaml` beside the logs (every logger writes it) and,
with the TensorBoard logger, the hparams plugin's summaries in the event file. Both come from the module's
`save_hyperparameters()`. Run from the repository root with Lightning installed beside the generation
environment's torch (as scripts/make_parser_fixtures.py says):

    python3 -m venv /tmp/lightning && echo /work/genvenv/lib/python3.11/site-packages \
        > /tmp/lightning/lib/python3.11/site-packages/genvenv.pth
    /tmp/lightning/bin/pip install --no-deps lightning==2.6.6 lightning-utilities torchmetrics
    /tmp/lightning/bin/python scripts/make_config_samples.py

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, lightning 2.6.6, tensorboard 2.21.0.
Runtime: a few seconds.

What it writes (rebuilt from scratch):

  tests/data/config/lightning-hparams/csv/version_0/   CSVLogger: metrics.csv and hparams.yaml
  tests/data/config/lightning-hparams/tb/version_0/    TensorBoardLogger: one event file (scalars and the hparams
      plugin's experiment, session start and session end summaries) and hparams.yaml

  The same tiny classifier of random labels (3 epochs of 25 steps, batch 8), whose hyperparameters are its model
  name, data set, learning rate, batch size, epochs and seed, logged by both loggers at once.
"""

from __future__ import annotations

import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join("tests", "data", "config", "lightning-hparams")


def lightning_hparams() -> str:
    import lightning as L
    import torch
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    if os.path.exists(OUT):
        shutil.rmtree(OUT)

    class Classifier(L.LightningModule):
        def __init__(
            self, model_name: str, dataset: str, learning_rate: float, batch_size: int, max_epochs: int, seed: int
        ) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))

        def training_step(self, batch, index):  # noqa: ANN001, ANN201
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, index):  # noqa: ANN001, ANN201
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

        def configure_optimizers(self):  # noqa: ANN201
            return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)

    seed, batch, epochs = 13, 8, 3
    L.seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = torch.randn(200, 16, generator=generator), torch.randint(0, 4, (200,), generator=generator)
    held_in, held_labels = torch.randn(64, 16, generator=generator), torch.randint(0, 4, (64,), generator=generator)

    def loader(x: torch.Tensor, y: torch.Tensor, shuffle: bool) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=shuffle)

    model = Classifier("tiny-mlp", "random-labels-200", 3e-3, batch, epochs, seed)
    trainer = L.Trainer(
        max_epochs=epochs,
        logger=[
            CSVLogger(OUT, name="csv", version=0),
            TensorBoardLogger(OUT, name="tb", version=0),
        ],
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(model, loader(inputs, labels, True), loader(held_in, held_labels, False))
    return OUT


def main() -> None:
    os.chdir(ROOT)
    print("lightning_hparams ->", lightning_hparams(), flush=True)


if __name__ == "__main__":
    main()
