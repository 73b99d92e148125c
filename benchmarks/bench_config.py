"""What reading each run's configuration costs: judging trees with it and without it, side by side.

    python benchmarks/bench_config.py            # 120 copies of the archive's Trainer folders, a mixed tree of 600
    python benchmarks/bench_config.py --quick    # a tenth of that

Both variants run in this process, one job, interleaved (the load of other processes falls on both), each with
cold caches (`losscli.config.files` reads each file once per process: the caches are cleared before every run).
"Without" replaces the configuration step of `losscli.api` by one that reads nothing; everything else (walk,
read, judge) is the same. Inputs are copies of the real sample files: the archive's six Trainer output folders
(trainer_state.json, runs/, wandb/, model card, config files) and `bench_cli.py`'s mixed tree (Trainer folders
without their logs, TensorBoard dirs, W&B runs, LLaMA-Factory, Lightning, exports).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402

import losscli.api as api  # noqa: E402
from losscli.config import files  # noqa: E402


def archive_copies(root: Path, copies: int) -> Path:
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        for i in range(copies):
            shutil.copytree(ROOT / "sample_logs" / "archive", root / f"batch-{i:03d}", symlinks=True)
        (root / ".done").touch()
    return root


def judge(tree: Path, *, with_config: bool) -> tuple[float, int]:
    """Seconds to judge every run under `tree` (one job, no curves kept), and the runs judged."""
    for cached in (files._read_file, files._read_events, files._read_wandb):
        cached.cache_clear()
    real = api._configuration
    if not with_config:
        api._configuration = lambda what, *, raw: (None, [])  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        results = list(api.iter_results([tree], jobs=1, display_points=0))
        return time.perf_counter() - start, len(results)
    finally:
        api._configuration = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the inputs, fewer repeats")
    args = parser.parse_args()
    scale, repeat = (10, 3) if args.quick else (1, 5)
    with tempfile.TemporaryDirectory() as tmp:
        trees = {
            f"archive x{120 // scale} (Trainer folders, 3 formats)": archive_copies(Path(tmp) / "a", 120 // scale),
            f"mixed tree of {600 // scale} runs": bench_cli.mixed_tree(Path(tmp) / "m", 600 // scale),
        }
        print(f"{'tree':<42} {'runs':>6} {'without':>9} {'with':>9} {'ratio':>6}  per run")
        for name, tree in trees.items():
            times: dict[bool, list[float]] = {True: [], False: []}
            runs: Any = 0
            for _ in range(repeat):
                for with_config in (False, True):
                    seconds, runs = judge(tree, with_config=with_config)
                    times[with_config].append(seconds)
            without, with_ = statistics.median(times[False]), statistics.median(times[True])
            extra = (with_ - without) / runs * 1000
            print(f"{name:<42} {runs:>6} {without:>8.2f}s {with_:>8.2f}s {with_ / without:>6.2f}  +{extra:.2f} ms")


if __name__ == "__main__":
    main()
