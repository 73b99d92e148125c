"""Benchmark losscli's TensorBoard reader against tbparse, TensorBoard's EventAccumulator and two floors.

    python benchmarks/bench_tensorboard.py            # periodic 10k/100k/1M, HF and irregular 200k (~15 min)
    python benchmarks/bench_tensorboard.py --quick    # periodic 10k/100k, HF and irregular 50k (~3 min)
    python benchmarks/bench_tensorboard.py --layouts hf,irregular   # only the writers' layouts
    python benchmarks/bench_tensorboard.py --data /tmp/tb-bench     # keep the event files and reuse them

Event files are written by real writers. `periodic`: 4 tags logged in turn (`train/loss`, `train/learning_rate`,
`train/grad_norm`, `train/epoch`), as `simple_value` by tensorboardX's SummaryWriter and as the TF2 tensor form by
TensorBoard's EventFileWriter with `summary_v2.scalar_pb` (what `tf.summary.scalar` writes): the best case for a
reader that predicts records. `hf`: laid out as the HF Trainer's TensorBoardCallback writes a run (text summaries
first, four train tags each logging step, an evaluation's five tags every 500 steps and at the end, the closing
summary, `trainer.evaluate()` in a second file; checked against a file the real Trainer wrote). `irregular`: TF2
tensors mixed with simple values, a tag that starts a third of the way in, tags every 7 and 10 steps, evaluations,
histograms (`tensorboard_layouts` says how each is written).

Every reader reads the run folder into its own result: `losscli.load(folder)` and each run's `.scalars`
DataFrame (losscli+pandas; `losscli` and `losscli-nocrc` stop at the numpy columns, with and without CRC checks),
`SummaryReader(folder)` and its `.scalars` and `.tensors` DataFrames (tbparse), every point read out of an
EventAccumulator with `size_guidance` 0 (accumulator); `bytes` reads the files, `walk` walks their framing in a
Python loop. Each is timed three ways, the same number of rounds for every reader, medians, readers interleaved
round by round so that load from other work on the machine falls on all of them:

- fresh: one read in a fresh Python process that has imported what it needs (as a script's first call);
- process: the same process from spawn to exit, imports included (what a one-off command costs);
- warm: reads in one process after a first, untimed one (a notebook reading run after run).

Peak memory (the process's own high-water mark: `peak_memory`) and how much it grew during the fresh read are
reported too. Child processes run without PYTHONDONTWRITEBYTECODE, so that every package imports from its compiled
files as installed packages do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak_memory import peak_mb

TAGS = ("train/loss", "train/learning_rate", "train/grad_norm", "train/epoch")
SIZES = {"10k": 10_000, "50k": 50_000, "100k": 100_000, "200k": 200_000, "1M": 1_000_000}
READERS = ("bytes", "walk", "losscli", "losscli-nocrc", "losscli+pandas", "tbparse", "accumulator")
ROOT = Path(__file__).resolve().parent.parent
HF_SAMPLE = ROOT / "sample_logs" / "findings" / "eval-leak" / "runs" / "eval-leak"  # eval_steps 9, real Trainer
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# ---------------------------------------------------------------- writing


def values(count: int):
    """(tag, value, step) for `count` events: a loss that falls, a schedule, a grad norm, the epoch."""
    steps_per_epoch = 1000
    for i in range(count):
        step = i // len(TAGS)
        tag = TAGS[i % len(TAGS)]
        if tag == "train/loss":
            value = 2.0 * math.exp(-step / 50_000) + 0.05 * math.sin(step)
        elif tag == "train/learning_rate":
            value = 1e-4 * (1 - step / (count / len(TAGS) + 1))
        elif tag == "train/grad_norm":
            value = 1.0 + 0.3 * math.cos(step / 7)
        else:
            value = step / steps_per_epoch
        yield tag, value, step


def write_simple(folder: Path, count: int) -> None:
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(folder), max_queue=4096, flush_secs=3600)
    start = time.time()
    for tag, value, step in values(count):
        writer.add_scalar(tag, value, step, walltime=start + step * 0.01)
    writer.close()


def write_tf2(folder: Path, count: int) -> None:
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.scalar import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder), max_queue_size=4096, flush_secs=3600)
    start = time.time()
    for tag, value, step in values(count):
        summary = summary_v2.scalar_pb(tag, value)
        writer.add_event(event_pb2.Event(wall_time=start + step * 0.01, step=step, summary=summary))
    writer.close()


def write_hf(folder: Path, count: int) -> None:
    from tensorboard_layouts import write_hf as write

    write(folder, steps=round(count / (4 + 5 / 500)), eval_steps=500)


def write_irregular(folder: Path, count: int) -> None:
    from tensorboard_layouts import write_irregular as write

    write(folder, steps=round(count / 2.93))  # about 2.93 events a step


WRITERS = {"simple_value": write_simple, "tf2-tensor": write_tf2, "hf": write_hf, "irregular": write_irregular}


def prepare(data: Path, plan: list[tuple[str, str]]) -> list[tuple[str, str, Path]]:
    """Write (or reuse) each (layout, size) folder; return (layout, size, folder)."""
    out = []
    for form, size in plan:
        folder = data / f"{form}-{size}"
        done = folder / "done.json"
        if not (done.exists() and json.loads(done.read_text()).get("events") == SIZES[size]):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            began = time.perf_counter()
            WRITERS[form](folder, SIZES[size])
            done.write_text(json.dumps({"events": SIZES[size]}))
            print(f"  wrote {form} {size} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        out.append((form, size, folder))
    return out


# ---------------------------------------------------------------- readers (each run in a child process)


def event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if "tfevents" in p.name)


def reader_function(reader: str, folder: Path):
    """Import what `reader` needs; return a function that reads `folder` once: (points, frame bytes)."""
    import struct

    if reader.startswith("losscli"):
        import google_crc32c  # noqa: F401
        import numpy  # noqa: F401

        import losscli
        from losscli.parsers.base import ReadOptions

        if reader == "losscli+pandas":
            import pandas  # noqa: F401
        options = ReadOptions(verify_checksums=reader != "losscli-nocrc")

        def read():
            runs = losscli.load(folder, read_options=options)
            if reader == "losscli+pandas":
                return sum(len(r.scalars) for r in runs), sum(int(r.scalars.memory_usage().sum()) for r in runs)
            columns = [r.columns() for r in runs]
            names = ("metric", "tag", "step", "epoch", "value", "wall_time")
            return sum(len(c) for c in columns), sum(getattr(c, n).nbytes for c in columns for n in names)

    elif reader == "tbparse":
        from tbparse import SummaryReader

        def read():
            summary = SummaryReader(str(folder))
            frames = [summary.scalars, summary.tensors]
            return sum(len(f) for f in frames), sum(int(f.memory_usage(index=True).sum()) for f in frames)

    elif reader == "accumulator":
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.util import tensor_util

        def read():
            points = 0
            for path in event_files(folder):
                guidance = {event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0}
                accumulator = event_accumulator.EventAccumulator(str(path), size_guidance=guidance)
                accumulator.Reload()
                tags = accumulator.Tags()
                points += sum(len(accumulator.Scalars(t)) for t in tags["scalars"])
                for tag in tags["tensors"]:  # the scalar ones (one number), not text or histograms
                    arrays = [tensor_util.make_ndarray(e.tensor_proto) for e in accumulator.Tensors(tag)]
                    points += len([float(a) for a in arrays if a.size == 1 and a.dtype.kind in "fiu"])
            return points, 0

    elif reader == "bytes":

        def read():
            return sum(len(p.read_bytes()) for p in event_files(folder)), 0

    else:  # walk

        def read():
            points, unpack = 0, struct.Struct("<Q").unpack_from
            for path in event_files(folder):
                data, pos = path.read_bytes(), 0
                while pos < len(data):
                    (length,) = unpack(data, pos)
                    pos += length + 16
                    points += 1
            return points, 0

    return read


def child(reader: str, folder: Path, warm: int) -> dict:
    """Import, then time one read (and `warm` more after it); report seconds, points and memory."""
    read = reader_function(reader, folder)
    before = peak_mb()
    began = time.perf_counter()
    points, frame_bytes = read()
    seconds = time.perf_counter() - began
    after = peak_mb()
    warm_times = []
    for _ in range(warm):
        began = time.perf_counter()
        read()
        warm_times.append(time.perf_counter() - began)
    return {
        "seconds": seconds,
        "warm": warm_times,
        "points": points,
        "peak_mb": after,
        "grew_mb": after - before,
        "frame_mb": frame_bytes / 2**20,
    }


BASELINE: list[str] = []  # --baseline: the source folder of another losscli, for readers named `...@base`


def spawn(reader: str, folder: Path, warm: int) -> dict:
    env = dict(ENV)
    if reader.endswith("@base"):
        reader, env["PYTHONPATH"] = reader[: -len("@base")], BASELINE[0]
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", reader, str(folder), str(warm)], capture_output=True, text=True, env=env
    )
    process = time.perf_counter() - began
    if out.returncode != 0:
        raise SystemExit(f"{reader} on {folder} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = process
    return result


def measure(readers: list[str], folder: Path, rounds: int) -> dict[str, dict]:
    """Every reader `rounds` times in fresh processes and `rounds` warm reads, interleaved; medians."""
    for reader in readers:  # untimed: compiled files written, the files in the page cache
        spawn(reader, folder, 0)
    fresh: dict[str, list[dict]] = {r: [] for r in readers}
    warm: dict[str, list[float]] = {r: [] for r in readers}
    for round_number in range(rounds):
        for reader in readers:
            fresh[reader].append(spawn(reader, folder, 0))
        if round_number == 0:
            for reader in readers:
                warm[reader] = spawn(reader, folder, rounds)["warm"]
    out = {}
    for reader in readers:
        runs = fresh[reader]
        out[reader] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "process": statistics.median(r["process"] for r in runs),
            "warm": statistics.median(warm[reader]),
            "points": runs[0]["points"],
            "peak_mb": statistics.median(r["peak_mb"] for r in runs),
            "grew_mb": statistics.median(r["grew_mb"] for r in runs),
            "frame_mb": runs[0]["frame_mb"],
        }
    return out


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="periodic 10k and 100k, the writers' layouts at 50k")
    parser.add_argument("--layouts", default="simple_value,tf2-tensor,hf,irregular", help="comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes and warm reads per reader")
    parser.add_argument(
        "--data", type=Path, help="folder for the event files, kept and reused (default: a temporary one)"
    )
    parser.add_argument("--readers", default=",".join(READERS), help="comma-separated subset of " + ",".join(READERS))
    parser.add_argument(
        "--baseline",
        type=Path,
        help="the source folder of another losscli (a copy of a checkout): its losscli readers run too, as @base",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        reader, folder, warm = args.child
        print(json.dumps(child(reader, Path(folder), int(warm))))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    readers = [r for r in args.readers.split(",") if r]
    if args.baseline:
        BASELINE.append(str(args.baseline.resolve()))
        readers += [f"{r}@base" for r in readers if r.startswith("losscli")]
    layouts = [x for x in args.layouts.split(",") if x]
    periodic = ["10k", "100k"] if args.quick else ["10k", "100k", "1M"]
    real = "50k" if args.quick else "200k"
    plan = [(f, s) for f in ("simple_value", "tf2-tensor") if f in layouts for s in periodic]
    plan += [(f, real) for f in ("hf", "irregular") if f in layouts]
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-tensorboard-"))
    try:
        checked = ""
        if "hf" in layouts:
            from tensorboard_layouts import check_hf_order

            with tempfile.TemporaryDirectory() as scratch:
                checked = check_hf_order(HF_SAMPLE, 9, Path(scratch) / "hf")
        files = prepare(data, plan)
        rows = []
        for form, size, folder in files:
            megabytes = sum(p.stat().st_size for p in event_files(folder)) / 2**20
            results = measure(readers, folder, args.rounds)
            for reader in readers:
                print(f"  {form} {size} {reader}: {results[reader]['seconds']:.3f} s", file=sys.stderr)
            rows.append((form, size, SIZES[size], megabytes, len(event_files(folder)), results))
        report(rows, readers, args.rounds, checked)
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)


def report(rows: list, readers: list[str], rounds: int, checked: str) -> None:
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; medians of "
        f"{rounds} rounds per reader, interleaved; x tbparse = tbparse's time / the reader's, each way"
    )
    if checked:
        print(checked)
    print()
    header = (
        f"{'file':<22} {'reader':<19} {'fresh s':>8} {'process s':>9} {'warm s':>8} {'events/s':>11} "
        f"{'x tbparse':>16} {'peak MB':>8} {'grew MB':>8} {'frame MB':>8}"
    )
    print(header)
    print(f"{'':<22} {'':<19} {'':>8} {'':>9} {'':>8} {'(fresh)':>11} {'fresh/proc/warm':>16}")
    print("-" * len(header))
    aims = []
    for form, size, events, megabytes, count, results in rows:
        tb = results.get("tbparse")
        label = f"{form} {size}" + (f" ({count} files)" if count > 1 else "")
        for reader in readers:
            r = results[reader]
            ratio = "-"
            if tb:
                ratio = "/".join(f"{tb[k] / r[k]:.0f}" for k in ("seconds", "process", "warm"))
            frame = f"{r['frame_mb']:.1f}" if r["frame_mb"] else "-"
            print(
                f"{label:<22} {reader:<19} {r['seconds']:>8.3f} {r['process']:>9.3f} {r['warm']:>8.3f} "
                f"{events / r['seconds']:>11,.0f} {ratio:>16} {r['peak_mb']:>8.0f} {r['grew_mb']:>8.0f} {frame:>8}"
            )
        print(f"{'':<22} {megabytes:.1f} MB of event files, {results[readers[0]]['points']:,} points by {readers[0]}\n")
        aims.extend(_aims(form, size, megabytes, results))
    if aims:
        print("Aims:")
        for line in aims:
            print("  " + line)


def _aims(form: str, size: str, megabytes: float, results: dict) -> list[str]:
    tb, walk = results.get("tbparse"), results.get("walk")
    crc, nocrc, pandas = results.get("losscli"), results.get("losscli-nocrc"), results.get("losscli+pandas")
    lines = []
    if form in ("hf", "irregular") and tb and pandas:
        for key, how in (("seconds", "fresh"), ("warm", "warm")):
            lines.append(
                _aim(f"{form} {size}: DataFrames, checks on, {how}: >= 40x tbparse", tb[key] / pandas[key], 40)
            )
    if size == "1M" and tb and crc:
        need = 40 if form == "simple_value" else 60
        lines.append(_aim(f"{form} 1M: checks on, >= {need}x tbparse", tb["seconds"] / crc["seconds"], need))
        if nocrc:
            lines.append(_aim(f"{form} 1M: checks off, >= 80x tbparse", tb["seconds"] / nocrc["seconds"], 80))
            if walk:
                to_walk = nocrc["seconds"] / walk["seconds"]
                lines.append(_aim(f"{form} 1M: checks off, <= 2x the walk floor", to_walk, 2, upper=True))
        bound = 2 * (megabytes + crc["frame_mb"])
        lines.append(
            _aim(
                f"{form} 1M: memory grown while reading < 2 x (file + frame) = {bound:.0f} MB",
                crc["grew_mb"],
                bound,
                True,
            )
        )
    return lines


def _aim(what: str, got: float, need: float, upper: bool = False) -> str:
    ok = got <= need if upper else got >= need
    return f"{'met ' if ok else 'MISSED'} {what}: {got:.2f}"


if __name__ == "__main__":
    main()
