"""Make the W&B test fixtures and export samples from REAL wandb runs; nothing here writes a W&B file by hand.

    # 1. real offline runs for tests/data/wandb/ (needs the real wandb client; the generation venv has it)
    WANDB_MODE=offline /tmp/genvenv/bin/python scripts/make_wandb_samples.py runs

    # 2. sample_logs/wandb-exports/ and the export fixtures, from real offline runs' history (read by losscli)
    #    (needs only losscli + pandas + pyarrow)
    python scripts/make_wandb_samples.py exports

`runs` logs with `wandb.log` in offline mode into a temp dir, then copies the run folders (`run-<id>.wandb`
and `files/`, without `logs/`, whose links point outside the folder) with their `latest-run` link:

- `tests/data/wandb/direct/wandb/`: plain `wandb.log` calls (the step is `_step`), 4 epochs x 12 steps, the
  loss drops at each epoch start (stepped), an eval row per epoch, a nested dict, a bool and a text value, and
  a 66 kB config value so that one record spans three 32 KiB blocks (FIRST, MIDDLE, LAST chunks);
- `tests/data/wandb/typed/wandb/`: the same kind of run written with `x_history_value_encoding="json,typed"`,
  so the history items carry the typed value fields beside `value_json`, and logging `train/global_step` as
  the HF Trainer does.

`exports` reads real run folders with losscli's own reader and writes them out the way W&B does:

- a history export is `run.history()` as pandas gives it (index, `_step`, `_runtime`, `_timestamp`, the keys),
  saved with `to_csv` / `to_json` / `to_parquet`;
- a chart export is the web UI's "Export CSV" layout: `Step`, then per run `"<run> - <metric>"`, `__MIN`,
  `__MAX`, with empty cells where a run has no point at that step. `Step` is W&B's `_step` (for the HF runs it
  counts the eval rows too, so it runs ahead of `train/global_step`). Each row is one logged point (`__MIN` =
  `__MAX`): these runs are short enough that the UI would not merge points.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "data" / "wandb"
SAMPLES = ROOT / "sample_logs" / "wandb-exports"


def make_run(out: Path, name: str, encoding: str, seed: int, big_config: bool, global_step: bool) -> None:
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_DISABLE_GIT", "true")
    os.environ.setdefault("WANDB_DISABLE_CODE", "true")
    import wandb

    rng = random.Random(seed)
    epochs, steps = 4, 12
    config = {"epochs": epochs, "batch_size": 16, "lr": 0.001, "steps_per_epoch": steps}
    if big_config:
        config["notes_blob"] = "".join(rng.choice("abcdefghij") for _ in range(66_000))
    with tempfile.TemporaryDirectory() as tmp:
        run = wandb.init(
            dir=tmp,
            project="losscli-fixtures",
            name=name,
            config=config,
            settings=wandb.Settings(x_history_value_encoding=encoding, console="off"),
        )
        for epoch in range(epochs):
            for i in range(steps):
                step = epoch * steps + i + 1
                # memorisation: a drop at each epoch start, flat within the epoch
                loss = 2.5 * 0.6**epoch + 0.05 * math.exp(-i / 10) + rng.gauss(0, 0.01)
                row = {
                    "train/loss": loss,
                    "train/epoch": step / steps,
                    "train/learning_rate": 0.001 * (1 - step / (epochs * steps)),
                    "system": {"tokens": step * 512},
                    "is_warmup": step < 10,
                    "phase": "train",
                }
                wandb.log({**row, "train/global_step": step} if global_step else row)
            row = {"eval/loss": 2.0 - 0.1 * epoch + rng.gauss(0, 0.01), "train/epoch": float(epoch + 1)}
            wandb.log({**row, "train/global_step": (epoch + 1) * steps} if global_step else row)
        run.summary["best_eval"] = 1.7
        run.finish()
        wandb_dir = Path(tmp) / "wandb"
        target = out / "wandb"
        shutil.rmtree(out, ignore_errors=True)
        target.mkdir(parents=True)
        for folder in sorted(wandb_dir.glob("offline-run-*")):
            dest = target / folder.name
            dest.mkdir()
            for wandb_file in folder.glob("run-*.wandb"):
                shutil.copy2(wandb_file, dest / wandb_file.name)
            if (folder / "files").is_dir():
                shutil.copytree(folder / "files", dest / "files")
            (target / "latest-run").symlink_to(folder.name)


def make_runs() -> None:
    make_run(TESTS / "direct", "direct - stepped demo", "json", seed=1, big_config=True, global_step=False)
    make_run(TESTS / "typed", "typed-demo", "json,typed", seed=2, big_config=False, global_step=True)


# --- exports ------------------------------------------------------------------------------------------------


def history_table(run_folder: Path):  # -> pd.DataFrame
    """The run's history rows as `run.history()` returns them: one row per `log` call, columns sorted."""
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from losscli.parsers.protobuf_wire import fields
    from losscli.parsers.wandb import transaction_log as log

    wandb_file = next(run_folder.glob("run-*.wandb"))
    rows = []
    for payload in log.scan_log(wandb_file).records:
        for number, wire, value in fields(payload):
            if number == log.RECORD_HISTORY and wire == 2:
                row = log.decode_items(value)
                rows.append({k: v for k, v in row.items() if not isinstance(v, (dict, list))})
    table = pd.DataFrame(rows)
    first = [c for c in ("_step", "_runtime", "_timestamp") if c in table.columns]
    return table[first + sorted(c for c in table.columns if c not in first)]


def chart_export(runs: dict[str, object], metric: str, x_axis: str = "Step"):  # -> pd.DataFrame
    """W&B's chart CSV layout for one metric over several runs, against `_step` (the UI's "Step")."""
    import pandas as pd

    columns = {}
    for name, table in runs.items():
        rows = table[table[metric].notna()]
        series = rows.set_index(rows["_step"].astype(int))[metric]
        columns[f"{name} - {metric}"] = series
        columns[f"{name} - {metric}__MIN"] = series
        columns[f"{name} - {metric}__MAX"] = series
    wide = pd.DataFrame(columns).sort_index()
    wide.index.name = x_axis
    return wide.reset_index()


def make_exports() -> None:
    direct = history_table((TESTS / "direct" / "wandb" / "latest-run").resolve())
    out = TESTS / "exports"
    out.mkdir(parents=True, exist_ok=True)
    direct.to_csv(out / "direct_history.csv")
    direct.to_json(out / "direct_history.json")  # pandas' default orient, "columns"
    direct.to_json(out / "direct_history_records.json", orient="records")
    direct.to_json(out / "direct_history.jsonl", orient="records", lines=True)
    direct.to_parquet(out / "direct_history.parquet")

    runs = {
        "hf-stepped": ROOT / "sample_logs" / "hf-stepped" / "wandb" / "latest-run",
        "hf-smooth": ROOT / "sample_logs" / "hf-smooth" / "wandb" / "latest-run",
        "wandb-direct": ROOT / "sample_logs" / "wandb-direct" / "wandb" / "latest-run",
    }
    missing = [str(p) for p in runs.values() if not p.exists()]
    if missing:
        sys.exit(f"make the sample runs first (scripts/make_sample_logs.py): missing {', '.join(missing)}")
    tables = {name: history_table(path.resolve()) for name, path in runs.items()}
    SAMPLES.mkdir(parents=True, exist_ok=True)
    chart_export(tables, "train/loss").to_csv(SAMPLES / "wandb_export_train_loss.csv", index=False, quoting=1)
    tables["hf-stepped"].to_csv(SAMPLES / "hf-stepped_history.csv")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "runs":
        make_runs()
    elif what == "exports":
        make_exports()
    else:
        sys.exit(__doc__)
