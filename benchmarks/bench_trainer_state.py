"""Reading a big `trainer_state.json`: losscli against `json.load` alone (and orjson), time and peak memory.

    python benchmarks/bench_trainer_state.py              # 1,000,000 log entries (a file of about 150 MB)
    python benchmarks/bench_trainer_state.py --quick      # 100,000 entries
    python benchmarks/bench_trainer_state.py --entries 300000 --rounds 5 --data /tmp/state-bench
    python benchmarks/bench_trainer_state.py --baseline /tmp/main-src   # another losscli's source, side by side

The file is laid out as the HF Trainer writes it: `TrainerState.save_to_json` is
`json.dumps(dataclasses.asdict(state), indent=2, sort_keys=True) + "\\n"`, with the state's fields, a train entry
`{epoch, grad_norm, learning_rate, loss, step}` each logging step (logging every step of a long run, the numbers
as a float32 `.item()` gives them, as the Trainer logs them), an evaluation's entry every 500 steps and the closing
summary. `check_layout` writes the state of `sample_logs/hf-stepped/trainer_state.json`, which the real Trainer
wrote, the same way and compares the bytes.

Each reader runs in a fresh process (imports first, not timed), the same number of rounds each, interleaved,
medians: `json.load` (the file into Python objects, nothing more), `orjson.loads` (the same with orjson, which
losscli uses), and `losscli.load` (the file into a run: every point as numpy columns, the restart rule and the
log checks applied). Peak memory is the process's own high-water mark (`peak_memory`); `grew` is how much it
grew during the read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak_memory import peak_mb

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "hf-stepped" / "trainer_state.json"
READERS = ("json.load", "orjson", "losscli")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def save_to_json(state: dict) -> str:
    """What `TrainerState.save_to_json` writes for a state with these fields."""
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


def check_layout() -> str:
    text = SAMPLE.read_text()
    if save_to_json(json.loads(text)) != text:
        raise SystemExit(f"the layout differs from the real Trainer's {SAMPLE}")
    return f"layout: byte for byte the real Trainer's ({SAMPLE.relative_to(ROOT)})"


def state(entries: int, eval_steps: int = 500) -> dict:
    """A Trainer state with `entries` log entries: a train entry every step, an evaluation every `eval_steps`."""
    import numpy as np

    rng = np.random.default_rng(0)
    steps = entries - entries // (eval_steps + 1) - 1
    per_epoch = steps // 3
    loss = (2.5 - 0.3 * (np.arange(1, steps + 1) // per_epoch) + 0.05 * rng.standard_normal(steps)).astype(np.float32)
    grad = (1.0 + 0.3 * rng.random(steps)).astype(np.float32)
    log: list[dict] = []
    for step in range(1, steps + 1):
        epoch = step / per_epoch
        lr = 5e-05 * (1 - step / steps)
        log.append(
            {
                "epoch": epoch,
                "grad_norm": grad[step - 1].item(),
                "learning_rate": lr,
                "loss": loss[step - 1].item(),
                "step": step,
            }
        )
        if step % eval_steps == 0:
            log.append(
                {
                    "epoch": epoch,
                    "eval_loss": float(np.float32(2.4 - step / steps)),
                    "eval_runtime": 12.3456,
                    "eval_samples_per_second": 811.304,
                    "eval_steps_per_second": 101.413,
                    "step": step,
                }
            )
    log.append(
        {
            "epoch": 3.0,
            "step": steps,
            "total_flos": 1.2e17,
            "train_loss": 1.8,
            "train_runtime": 98765.4,
            "train_samples_per_second": 321.0,
            "train_steps_per_second": 40.1,
        }
    )
    control = {"should_epoch_stop": False, "should_evaluate": False, "should_log": False, "should_save": True}
    return {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": 3.0,
        "eval_steps": eval_steps,
        "global_step": steps,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": log,
        "logging_steps": 1,
        "max_steps": steps,
        "num_input_tokens_seen": 0,
        "num_train_epochs": 3,
        "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {"args": {**control, "should_training_stop": True}, "attributes": {}}},
        "total_flos": 1.2e17,
        "train_batch_size": 8,
        "trial_name": None,
        "trial_params": None,
    }


def prepare(folder: Path, entries: int) -> Path:
    path = folder / f"state-{entries}" / "trainer_state.json"
    done = path.with_name("done.json")
    if done.exists() and json.loads(done.read_text()).get("entries") == entries:
        return path
    shutil.rmtree(path.parent, ignore_errors=True)
    path.parent.mkdir(parents=True)
    began = time.perf_counter()
    path.write_text(save_to_json(state(entries)))
    done.write_text(json.dumps({"entries": entries}))
    print(f"  wrote {entries:,} entries in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return path


def child(reader: str, path: Path) -> dict:
    """Import, then time one read; report seconds, what was read, and memory."""
    if reader == "losscli":
        import numpy  # noqa: F401

        import losscli
        from losscli.parsers import trainer_logs  # noqa: F401
    elif reader == "orjson":
        import orjson
    before = peak_mb()
    began = time.perf_counter()
    if reader == "json.load":
        with open(path, encoding="utf-8") as handle:
            count = len(json.load(handle)["log_history"])
    elif reader == "orjson":
        count = len(orjson.loads(path.read_bytes())["log_history"])
    else:
        (run,) = losscli.load(path)
        count = len(run.columns())
    seconds = time.perf_counter() - began
    after = peak_mb()
    return {"seconds": seconds, "count": count, "peak_mb": after, "grew_mb": after - before}


BASELINE: list[str] = []  # --baseline: the source folder of another losscli, read as `losscli@base`


def spawn(reader: str, path: Path) -> dict:
    env = dict(ENV)
    if reader == "losscli@base":
        reader, env["PYTHONPATH"] = "losscli", BASELINE[0]
    command = [sys.executable, __file__, "--child", reader, str(path)]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{reader} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 entries")
    parser.add_argument("--entries", type=int, help="log entries (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, help="keep the file in this folder and reuse it")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="the source folder of another losscli (a copy of a checkout), read as losscli@base",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    entries = args.entries or (100_000 if args.quick else 1_000_000)
    folder = args.data or Path(tempfile.mkdtemp(prefix="bench-state-"))
    try:
        checked = check_layout()
        path = prepare(folder, entries)
        readers = list(READERS)
        if args.baseline:
            BASELINE.append(str(args.baseline.resolve()))
            readers.append("losscli@base")
        for reader in readers:  # untimed: compiled files written, the file in the page cache
            spawn(reader, path)
        runs: dict[str, list[dict]] = {r: [] for r in readers}
        for _ in range(args.rounds):
            for reader in readers:
                runs[reader].append(spawn(reader, path))
        report(path, entries, runs, args.rounds, checked)
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)


def report(path: Path, entries: int, runs: dict[str, list[dict]], rounds: int, checked: str) -> None:
    megabytes = path.stat().st_size / 2**20
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"trainer_state.json of {entries:,} log entries, {megabytes:.0f} MB; medians of {rounds} fresh processes each"
    )
    print(checked + "\n")
    base = statistics.median(r["seconds"] for r in runs["json.load"])
    header = f"{'reader':<13} {'seconds':>8} {'x json.load':>12} {'peak MB':>8} {'grew MB':>8} {'x file':>7}  read"
    print(header)
    print("-" * len(header))
    figures = {}
    for reader, samples in runs.items():
        seconds = statistics.median(r["seconds"] for r in samples)
        peak = statistics.median(r["peak_mb"] for r in samples)
        grew = statistics.median(r["grew_mb"] for r in samples)
        what = "points" if reader.startswith("losscli") else "entries"
        figures[reader] = (seconds, grew)
        print(
            f"{reader:<13} {seconds:>8.2f} {seconds / base:>12.2f} {peak:>8.0f} {grew:>8.0f} {grew / megabytes:>7.2f}"
            f"  {samples[0]['count']:,} {what}"
        )
    seconds, grew = figures["losscli"]
    print("\nAims:")
    for what, got, need in (
        ("losscli: <= 2x the time of json.load", seconds / base, 2.0),
        ("losscli: memory grown while reading <= 3x the file", grew / megabytes, 3.0),
    ):
        print(f"  {'met ' if got <= need else 'MISSED'} {what}: {got:.2f}")


if __name__ == "__main__":
    main()
