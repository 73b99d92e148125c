"""Runs per second over trees of 1,000, 10,000 and 100,000 runs: the walk, and `losscli classify` on all cores.

    python benchmarks/bench_trees.py              # 1k, 10k and 100k runs (about 15 minutes on 2 cores)
    python benchmarks/bench_trees.py --quick      # 1k and 10k runs
    python benchmarks/bench_trees.py --baseline /tmp/main-src   # another losscli's source too, side by side

Each tree is a folder of HF Trainer output folders, each laid out as `sample_logs/archive/sft-v1` (written by the
real Trainer): `trainer_state.json`, `checkpoint-*/` with their `trainer_state.json` and configs, `runs/<date>/`
with the two event files of training and `trainer.evaluate()`, the model card and results files; two runs each
(the Trainer's state and its TensorBoard log). The files are hard links to the sample's (a tree of 100k runs
takes the disk space of its folders only: check with `df -h /tmp`); the page cache holds them, so the figures
are the CPU's, not the disk's. Trees are built under a temporary folder and deleted at the end (`--keep DIR`
keeps them there for the next time).

For each size: the walk alone (`losscli.discover.walk`, in one process: sources a second and its peak memory),
then `losscli classify TREE -f jsonl` on all cores and with `-j 1`, each a fresh process timed from spawn to exit,
with its CPU time and that of its workers, and its peak memory (`wait4`: the largest of the process and each
worker). The CPU time per run should stay the same from 1k to 100k runs (linear), and the peak memory flat
(records stream out; nothing kept per run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "archive" / "sft-v1"
LOSSCLI = str(Path(sys.executable).parent / "losscli")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
RUNS_PER_FOLDER = 2

_WALK = """
import json, resource, sys, time
from losscli.discover import walk
start, cpu = time.perf_counter(), time.process_time()
found = sum(1 for item in walk([sys.argv[1]]) if isinstance(item, tuple))
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu, "found": found,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build(root: Path, runs: int) -> Path:
    """A tree of `runs` runs: Trainer output folders of hard links to the sample's files."""
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    files = [p for p in sorted(SAMPLE.rglob("*")) if p.is_file() and "wandb" not in p.relative_to(SAMPLE).parts]
    for i in range(runs // RUNS_PER_FOLDER):
        folder = root / f"sft-{i:06d}"
        for path in files:
            target = folder / path.relative_to(SAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
    (root / ".done").touch()
    return root


def spawn(command: list[str], env: dict[str, str]) -> tuple[float, float, float, int, int]:
    """Seconds from spawn to exit, CPU seconds (the process and its workers), peak memory (MB), lines on stdout,
    exit code."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        lines = sum(1 for _ in out)
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, lines, os.waitstatus_to_exitcode(status)


def walk_only(tree: Path, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _WALK, str(tree)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k runs")
    parser.add_argument("--sizes", help="comma-separated among " + ",".join(SIZES))
    parser.add_argument("--keep", type=Path, help="build the trees in this folder and keep them")
    parser.add_argument("--baseline", type=Path, help="the source folder of another losscli, run the same way")
    parser.add_argument(
        "--serial-up-to", default="100k", choices=list(SIZES), help="run `-j 1` too up to this size (default: all)"
    )
    args = parser.parse_args()
    sizes = args.sizes.split(",") if args.sizes else (["1k", "10k"] if args.quick else list(SIZES))
    work = args.keep or Path(tempfile.mkdtemp(prefix="losscli-trees-"))
    work.mkdir(parents=True, exist_ok=True)
    versions = {"losscli": ENV}
    if args.baseline:
        versions["baseline"] = {**ENV, "PYTHONPATH": str(args.baseline.resolve())}
    usage = shutil.disk_usage(work)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
        f"{usage.free / 2**30:.0f} GB free under {work}; Trainer folders like {SAMPLE.relative_to(ROOT)}, "
        f"{RUNS_PER_FOLDER} runs each"
    )
    header = (
        f"{'runs':>7} {'version':<9} {'what':<20} {'seconds':>8} {'runs/s':>7} {'CPU s':>8} {'runs/CPU s':>10} "
        f"{'peak MB':>8}  {'CPU per run vs first':>20}"
    )
    print("\n" + header + "\n" + "-" * len(header), flush=True)
    first: dict[tuple[str, str], float] = {}
    try:
        for size in sizes:
            runs = SIZES[size]
            began = time.perf_counter()
            tree = build(work / f"tree-{size}", runs)
            print(f"  (built {size} in {time.perf_counter() - began:.0f} s)", file=sys.stderr, flush=True)
            for version, env in versions.items():
                walked = walk_only(tree, env)
                if walked["found"] != runs:
                    raise SystemExit(f"the walk found {walked['found']} runs in a tree of {runs}")
                rows = [("walk", walked["seconds"], walked["cpu"], walked["peak_mb"])]
                modes = [("classify, all cores", [])]
                if runs <= SIZES[args.serial_up_to]:
                    modes.append(("classify -j 1", ["-j", "1"]))
                for label, jobs in modes:
                    command = [LOSSCLI, "classify", str(tree), "-f", "jsonl", *jobs]
                    seconds, cpu, peak, lines, code = spawn(command, env)
                    if lines != runs or code != 0:
                        raise SystemExit(f"{label} on {runs} runs: {lines} records, exit {code}")
                    rows.append((label, seconds, cpu, peak))
                for what, seconds, cpu, peak in rows:
                    per_run = cpu / runs
                    first.setdefault((version, what), per_run)
                    growth = per_run / first[(version, what)]
                    print(
                        f"{runs:>7,} {version:<9} {what:<20} {seconds:>8.1f} {runs / seconds:>7,.0f} {cpu:>8.1f} "
                        f"{runs / cpu:>10,.0f} {peak:>8.0f}  {growth:>20.2f}",
                        flush=True,
                    )
            if not args.keep:
                shutil.rmtree(tree, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(
        "\nLinear: the CPU time per run the same at every size (about 1 against the first size; CPU time, because "
        "other work on a shared machine slows the wall clock); flat: the same peak memory at every size."
    )


if __name__ == "__main__":
    main()
