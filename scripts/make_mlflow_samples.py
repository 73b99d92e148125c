"""Write sample_logs/mlflow-file/ and sample_logs/mlflow-sqlite/: Trainer runs logged by the real MLflow client.

Each run of scripts/sample_runs.py (stepped, smooth, nan) is trained with the Hugging Face Trainer and
`report_to=["mlflow"]`, so the metric keys, parameters and tags are exactly those the Trainer's MLflowCallback
writes for users. The same runs (same seeds, so the same values) are written to both MLflow backends:

  sample_logs/mlflow-file/mlruns/       the file store (`file:` tracking URI; in maintenance mode since MLflow 3,
                                        so it needs MLFLOW_ALLOW_FILE_STORE=true): mlruns/<experiment id>/<run id>/
                                        with metrics/<key> ("timestamp value step" lines), params/, tags/, meta.yaml
  sample_logs/mlflow-sqlite/mlflow.db   the SQLite store (`sqlite:///` tracking URI, MLflow 3's default backend)

All runs go to the experiment "losscli-samples" (MLFLOW_EXPERIMENT_NAME, read by the callback); MLflow adds its
"Default" experiment (id 0) as it always does. The run name (`mlflow.runName` tag) is the Trainer's `run_name`:
hf-stepped, hf-smooth, hf-nan. Checkpoints are saved every epoch into a temporary output_dir, and
HF_MLFLOW_LOG_ARTIFACTS is left off (its default), so no model or checkpoint is logged as an artifact.

Run from the repository root in the generation environment (torch 2.13.0 CPU, transformers, mlflow):

    /work/genvenv/bin/python scripts/make_mlflow_samples.py

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, mlflow 3.17.2,
SQLAlchemy 2.1.9. Runtime: about a minute on 2 CPU cores.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

# Before transformers is imported (tiny_training would otherwise switch the MLflow integration off).
os.environ["DISABLE_MLFLOW_INTEGRATION"] = "FALSE"
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ["MLFLOW_EXPERIMENT_NAME"] = "losscli-samples"
os.environ.pop("HF_MLFLOW_LOG_ARTIFACTS", None)  # the default: no checkpoint artifacts
os.environ.pop("MLFLOW_TRACKING_URI", None)  # set per store below

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mlflow  # noqa: E402
import sample_runs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = ("stepped", "smooth", "nan")


def write_store(folder: str, uri: str) -> None:
    """Train every run of RUNS, each logged through the Trainer's MLflowCallback to the store at `uri`."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    mlflow.set_tracking_uri(uri)
    cwd = os.getcwd()
    os.chdir(folder)  # where a user would start it: a default artifact root lands here, not in the repository
    try:
        for name in RUNS:
            with tempfile.TemporaryDirectory(prefix="losscli-mlflow-") as output_dir:
                trainer = sample_runs.build_trainer(
                    sample_runs.RECIPES[name],
                    output_dir,
                    run_name=f"hf-{name}",
                    report_to=["mlflow"],
                    disable_tqdm=True,
                )
                trainer.train()
            assert mlflow.active_run() is None, "the MLflowCallback should end its run at on_train_end"
    finally:
        os.chdir(cwd)


def main() -> None:
    file_dir = os.path.join(ROOT, "sample_logs", "mlflow-file")
    sqlite_dir = os.path.join(ROOT, "sample_logs", "mlflow-sqlite")
    write_store(file_dir, "file:" + os.path.join(file_dir, "mlruns"))
    write_store(sqlite_dir, "sqlite:///" + os.path.join(sqlite_dir, "mlflow.db"))
    for folder in (file_dir, sqlite_dir):
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files]
        print(f"{os.path.relpath(folder, ROOT)}: {len(sizes)} files, {sum(sizes):,} bytes")


if __name__ == "__main__":
    main()
