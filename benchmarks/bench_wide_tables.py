"""Peak memory of reading wide tables: a Lightning `metrics.csv` and a W&B history export, 10,000 columns each.

    python benchmarks/bench_wide_tables.py                  # about 12 MB files, 10,000 columns
    python benchmarks/bench_wide_tables.py --columns 2000   # narrower

A run that logs thousands of metrics (per-class accuracy at every validation, say) writes a table with a column for
each, nearly all cells empty. Each file is read by `losscli.load` in a fresh process, which reports its peak
resident memory (`ru_maxrss`) before and after reading, and what was read. Run it on two versions of losscli (set
PYTHONPATH to the other one's source) to compare them side by side.

The files are written as the loggers write them: Lightning's CSVLogger puts every key it has seen in the header
and leaves the cells of keys not logged in a row empty (rows: a train loss and learning rate every step, the
validation metrics once an epoch); `run.history()` saved with pandas' `to_csv` has the `_step`, `_runtime`,
`_timestamp` columns and the same cells.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

EPOCHS, STEPS = 10, 110


def rows(columns: int, epochs: int, steps: int) -> tuple[list[str], list[dict[str, object]]]:
    """The header and rows of a run: train loss and lr every step, `columns` validation metrics every epoch."""
    rng = random.Random(0)
    classes = [f"val_acc_class_{i:05d}" for i in range(columns)]
    out: list[dict[str, object]] = []
    step = 0
    for epoch in range(epochs):
        for _ in range(steps):
            loss = 2.0 * math.exp(-step / 2000) + rng.gauss(0, 0.02)
            out.append({"epoch": epoch, "step": step, "train_loss": round(loss, 6), "lr-AdamW": 1e-4})
            step += 1
        row: dict[str, object] = {"epoch": epoch, "step": step - 1, "val_loss": round(1.5 - epoch / 100, 6)}
        row.update({c: round(rng.random(), 6) for c in classes})
        out.append(row)
    return ["epoch", "lr-AdamW", "step", "train_loss", "val_loss", *classes], out


def write_lightning(path: Path, header: list[str], table: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)  # what CSVLogger uses
        writer.writeheader()
        writer.writerows(table)


def write_history(path: Path, header: list[str], table: list[dict[str, object]]) -> None:
    import pandas as pd

    history = []
    for i, row in enumerate(table):
        entry = {"_step": i, "_runtime": i * 0.1, "_timestamp": 1.7e9 + i * 0.1}
        entry.update({("train/loss" if k == "train_loss" else k): v for k, v in row.items() if k != "step"})
        entry["train/global_step"] = row["step"]
        history.append(entry)
    pd.DataFrame(history).to_csv(path)


def child(path: str) -> dict[str, object]:
    import resource

    import losscli

    losscli.load  # noqa: B018  (the import of the API, and what it imports, before the baseline)
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        runs = losscli.load(path)
    except Exception as exc:  # the old version may fail on what the new one reads
        return {"error": f"{type(exc).__name__}: {exc}"}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (run,) = runs
    return {
        "losscli": str(Path(losscli.__file__).parent),
        "baseline_mb": round(before),
        "peak_mb": round(peak),
        "grew_mb": round(peak - before),
        "metrics": len(run.metrics()),
        "points": len(run.columns()),
        "train_loss_points": run.metrics().get("train/loss", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--write", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    if args.write:  # in a process of its own: `ru_maxrss` is kept across fork and exec, so the readers are
        # started from a parent that never held the tables (nor imported pandas)
        header, table = rows(args.columns, epochs=EPOCHS, steps=STEPS)
        write_lightning(Path(args.write) / "lightning_logs" / "version_0" / "metrics.csv", header, table)
        write_history(Path(args.write) / "history.csv", header, table)
        return
    with tempfile.TemporaryDirectory(prefix="bench-wide-") as tmp:
        files = {
            "lightning metrics.csv": Path(tmp) / "lightning_logs" / "version_0" / "metrics.csv",
            "W&B history export": Path(tmp) / "history.csv",
        }
        command = [sys.executable, __file__, "--columns", str(args.columns), "--write", tmp]
        subprocess.run(command, check=True)
        count = EPOCHS * (STEPS + 1)
        print(f"{args.columns:,} metric columns, {count} rows\n")
        print(f"{'file':<24} {'MB':>6} {'baseline MB':>12} {'peak MB':>8} {'grew MB':>8} {'metrics':>8} {'points':>8}")
        for name, path in files.items():
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
            ).stdout
            result = json.loads(out)
            size = path.stat().st_size / 2**20
            print(f"  (losscli from {result.get('losscli', '?')})", file=sys.stderr)
            if "error" in result:
                print(f"{name:<24} {size:>6.1f} error: {result['error']}")
                continue
            print(
                f"{name:<24} {size:>6.1f} {result['baseline_mb']:>12} {result['peak_mb']:>8} {result['grew_mb']:>8} "
                f"{result['metrics']:>8} {result['points']:>8}"
            )


if __name__ == "__main__":
    main()
