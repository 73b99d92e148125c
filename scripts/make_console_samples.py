"""Write sample_logs/console/: what real Hugging Face Trainer runs print, captured as a batch job captures it.

Each file is the stdout and stderr of scripts/console_train.py (a Trainer run at the library's default verbosity,
so with its tqdm progress bars) redirected to one file, as `python train.py > train.log 2>&1`, a SLURM `.out`
file or `nohup.out` hold it: carriage returns and ANSI cursor moves of the bars included, nothing cleaned.

  hf-stepped.log            `python scripts/console_train.py stepped DIR`: the memorising run (100 steps,
                            a dict every step, an eval dict every 5 steps)
  hf-smooth.log             the smooth run (192 steps, a dict every 2 steps, an eval dict every 16)
  hf-nan.log                LR 1000 without clipping and logging_nan_inf_filter=False: loss and grad_norm
                            read 'nan' from step 5 on, eval_loss 'nan'
  hf-nan-filtered.log       the same run with the Trainer's default logging_nan_inf_filter=True: the NaN
                            steps are logged as loss '0' (eval_loss and grad_norm still 'nan')
  hf-stepped-ddp.log        `torchrun --nproc_per_node 2` (CPU, gloo): two ranks writing into one file; only
                            rank 0 prints the dicts and the training bar, both print warnings and loading bars
  hf-stepped-ddp-tee.log    the same with `torchrun --tee 3`: every line of each rank prefixed `[default0]:` /
                            `[default1]:`, so a dict can follow a progress bar and a prefix on one line

Run from the repository root in the generation environment (torch 2.13.0 CPU, transformers):

    /work/genvenv/bin/python scripts/make_console_samples.py

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, tqdm 4.70.1.
Runtime: about three minutes on 2 CPU cores (one run at a time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "sample_logs", "console")
TRAIN = os.path.join(HERE, "console_train.py")
TORCHRUN = os.path.join(os.path.dirname(sys.executable), "torchrun")

CAPTURES = {
    "hf-stepped.log": [sys.executable, TRAIN, "stepped"],
    "hf-smooth.log": [sys.executable, TRAIN, "smooth"],
    "hf-nan.log": [sys.executable, TRAIN, "nan"],
    "hf-nan-filtered.log": [sys.executable, TRAIN, "nan-filtered"],
    "hf-stepped-ddp.log": [TORCHRUN, "--nproc_per_node", "2", TRAIN, "stepped"],
    "hf-stepped-ddp-tee.log": [TORCHRUN, "--nproc_per_node", "2", "--tee", "3", TRAIN, "stepped"],
}


def capture(command: list[str], log_path: str) -> None:
    """Run `command OUTPUT_DIR` with stdout and stderr both going to `log_path`, like `cmd > log 2>&1`."""
    with tempfile.TemporaryDirectory(prefix="losscli-console-") as work, open(log_path, "wb") as log:
        # torchrun --tee keeps per-rank copies under a log dir; keep them out of /tmp's top level.
        env = {**os.environ, "TMPDIR": work}
        subprocess.run(
            [*command, os.path.join(work, "output")], stdout=log, stderr=subprocess.STDOUT, env=env, check=True
        )


def main() -> None:
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, command in CAPTURES.items():
        path = os.path.join(OUT, name)
        capture(command, path)
        print(f"{os.path.relpath(path, ROOT)}: {os.path.getsize(path):,} bytes")


if __name__ == "__main__":
    main()
