"""A train.py as users write it: a Hugging Face Trainer run with the Trainer's default console output.

scripts/make_console_samples.py runs it as `python scripts/console_train.py RUN > file.log 2>&1` (and under
`torchrun`), the way a SLURM `.out` file or `nohup` captures a job, so the log holds exactly what the Trainer
prints: the tqdm progress bars on stderr (carriage returns), its log dicts on stdout, warnings. RUN is one of
the recipes of scripts/sample_runs.py. Nothing is reported anywhere else (report_to="none"); checkpoints go to a
temporary folder that is deleted at the end.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sample_runs  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402


def main() -> None:
    recipe, output_dir = sample_runs.RECIPES[sys.argv[1]], sys.argv[2]
    # tiny_training quiets transformers to errors; a user's script runs at the library's default (warnings),
    # which is also what makes the Trainer show progress bars rather than bare printed dicts.
    hf_logging.set_verbosity_warning()
    trainer = sample_runs.build_trainer(
        recipe, output_dir, run_name=f"hf-{recipe.name}", report_to=[], disable_tqdm=None
    )
    trainer.train()


if __name__ == "__main__":
    main()
