"""What `losscli export` costs on large trees, and whether its memory grows with the number of runs.

    python benchmarks/bench_export.py            # trees of 100 and 1,000 runs (about 2 minutes)
    python benchmarks/bench_export.py --quick    # 40 and 200 runs

The trees mix the formats of issue 14 with the Trainer's own: per four runs, a Trainer output folder
(`trainer_state.json`), a console capture, a torchtune output folder and a loss table, copies of the real samples
(`sample_logs/`, `tests/data/tables/`). Each figure is a fresh process (wall clock from spawn to exit, peak resident
memory from `wait4`), `-j 1` so that the peak is one process's. The peer is what a notebook does without `export`:
`losscli.load` every run, `pandas.concat`, `to_parquet`, whose memory holds every run at once. Commands run
interleaved, `--repeat` times; medians are shown, and the ratio of the large tree's peak to the small tree's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
TABLES = ROOT / "tests" / "data" / "tables"
LOSSCLI = str(Path(sys.executable).parent / "losscli")
PEER = """
import sys, pandas as pd, losscli
runs = losscli.load(sys.argv[1])
frames = [r.scalars.assign(run=r.name, format=r.format, path=str(r.path)) for r in runs]
pd.concat(frames, ignore_index=True).to_parquet(sys.argv[2])
"""


def build(tree: Path, runs: int) -> None:
    """A tree of `runs` runs, four formats in turn (module docstring)."""
    for i in range(0, runs, 4):
        unit = tree / f"group-{i // 4:04d}"
        (unit / "trainer").mkdir(parents=True)
        shutil.copy(SAMPLES / "hf-stepped" / "trainer_state.json", unit / "trainer")
        shutil.copy(SAMPLES / "console" / "hf-stepped.log", unit / "train.log")
        shutil.copytree(SAMPLES / "torchtune" / "stepped", unit / "torchtune")
        shutil.copy(TABLES / "loss_table.csv", unit / "losses.csv")


def spawn(cmd: list[str]) -> tuple[float, float, int]:
    """Seconds from spawn to exit, peak resident MB, exit code."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = (40, 200) if args.quick else (100, 1000)
    with tempfile.TemporaryDirectory(prefix="losscli-bench-export-") as tmp:
        work = Path(tmp)
        commands: dict[tuple[str, int], list[str]] = {}
        for n in sizes:
            build(work / f"tree-{n}", n)
            tree = str(work / f"tree-{n}")
            for suffix in ("parquet", "csv"):
                out = str(work / f"out.{suffix}")
                commands[f"export --to .{suffix}", n] = [LOSSCLI, "export", tree, "--to", out, "-j", "1"]
            peer = [sys.executable, "-c", PEER, tree, str(work / "peer.parquet")]
            commands["load + concat + to_parquet (peer)", n] = peer
        results: dict[tuple[str, int], list[tuple[float, float]]] = {key: [] for key in commands}
        for _ in range(args.repeat):
            for key, cmd in commands.items():  # interleaved: load on the machine falls on all alike
                seconds, mb, code = spawn(cmd)
                assert code == 0, (key, code)
                results[key].append((seconds, mb))
        rows = (work / "out.csv").read_text().count("\n") - 1
        print(f"trees of {sizes[0]} and {sizes[1]} runs; the large tree's export holds {rows:,} points")
        print(f"{'command':36s} {'runs':>6s} {'seconds':>8s} {'peak MB':>8s}")
        names = sorted({name for name, _ in commands}, key=list(dict.fromkeys(n for n, _ in commands)).index)
        for name in names:
            peaks = []
            for n in sizes:
                seconds = statistics.median(s for s, _ in results[name, n])
                mb = statistics.median(m for _, m in results[name, n])
                peaks.append(mb)
                print(f"{name:36s} {n:6d} {seconds:8.2f} {mb:8.1f}")
            print(f"{'':36s} peak memory, {sizes[1]} runs / {sizes[0]} runs: {peaks[1] / peaks[0]:.2f}x")


if __name__ == "__main__":
    main()
