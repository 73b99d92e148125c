"""Runs per second for one tree on a local disk, on a local S3 server, and on a two-worker Dask cluster reading
that server; and the bytes each run moves.

    python benchmarks/bench_scale.py            # 200 copies of an HF Trainer output folder (600 runs)
    python benchmarks/bench_scale.py --quick    # 40 copies

The tree is copies of `sample_logs/hf-stepped` (trainer_state.json with its checkpoints, the TensorBoard run in
`runs/`, the W&B run in `wandb/`: three runs per copy, each judged with its configuration), without symbolic
links (object stores have none). The S3 server is moto's (`moto_server`), in a process of its own on localhost:
it shares the machine's cores with the client and the workers, so the S3 figures are a floor for what a real
object store with its own machines gives. The three ways run interleaved, `--repeat` times each (medians), in
one process, so that the load of other processes falls on all of them.

Bytes moved per run are counted in this process by a one-job pass that counts what the file system returns:
"walk" is the listing's first bytes (the mirror the walk runs over), "run" what each run's private folder
fetches (on this machine the walk's first bytes are linked, not fetched again; on a cluster every file a run
needs is fetched by its worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "hf-stepped"


def make_tree(root: Path, copies: int) -> Path:
    for i in range(copies):
        for path in sorted(SAMPLE.rglob("*")):
            if path.is_symlink() or not path.is_file() or any(p.is_symlink() for p in path.parents):
                continue
            dest = root / f"run-{i:04d}" / path.relative_to(SAMPLE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_s3(tree: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """moto's S3 server in its own process, holding `tree` under s3://bench/tree."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    options = {"endpoint_url": f"http://127.0.0.1:{port}", "key": "bench", "secret": "bench"}
    import s3fs

    fs = s3fs.S3FileSystem(key="bench", secret="bench", client_kwargs={"endpoint_url": options["endpoint_url"]})
    for _ in range(100):
        try:
            fs.mkdir("bench")
            break
        except Exception:
            time.sleep(0.1)
    for path in sorted(tree.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"bench/tree/{path.relative_to(tree).as_posix()}", path.read_bytes())
    return server, options


def judged(paths: list[str], **kwargs: Any) -> tuple[float, int]:
    from losscli.api import iter_results

    start = time.perf_counter()
    results = list(iter_results(paths, display_points=0, **kwargs))
    assert not any(r.error for r in results), [r.error for r in results if r.error][:3]
    return time.perf_counter() - start, len(results)


def one_job_pass(url: str, options: dict[str, Any], *, on_cluster: bool) -> dict[str, float]:
    """One job, in this process: the walk (listing and first bytes) and the runs (fetch, read, judge), their
    seconds and the bytes the file system returned (module docstring)."""
    from losscli.api import _unfetched
    from losscli.storage.filesystem import open_url
    from losscli.storage.sources import closed, find, is_work, on_source

    fs, _ = open_url(url, options)  # the instance losscli uses (fsspec caches it by its options)
    counted = {"bytes": 0}
    real = fs.cat_ranges

    def counting(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        counted["bytes"] += sum(len(b) for b in out if isinstance(b, bytes))
        return out

    fs.cat_ranges = counting
    try:
        start = time.perf_counter()
        found = find([url], storage_options=options, local_workers=not on_cluster)
        items = list(found)
        walk_seconds, walk_bytes = time.perf_counter() - start, counted["bytes"]
        runs = 0
        start = time.perf_counter()
        for item in items:
            if is_work(item):
                runs += len(on_source(item, work=_judge, failed=_unfetched))
        closed(found)
        return {
            "runs": runs,
            "walk_seconds": walk_seconds,
            "walk_bytes": walk_bytes,
            "run_seconds": time.perf_counter() - start,
            "run_bytes": counted["bytes"] - walk_bytes,
        }
    finally:
        fs.cat_ranges = real


def _judge(located: Any) -> list[Any]:
    from losscli.analysis.settings import Settings
    from losscli.api import _judge_located
    from losscli.parsers.base import ReadOptions

    return _judge_located(located, settings=Settings(), read_options=ReadOptions(), display_points=0, raw_config=False)


def local_pass(tree: Path) -> dict[str, float]:
    """One job, in this process, on the local disk: the walk, then reading and judging."""
    from losscli.discover import find_sources

    start = time.perf_counter()
    found = find_sources([tree])
    walk_seconds = time.perf_counter() - start
    start = time.perf_counter()
    runs = sum(len(_judge(located)) for located in found.sources)
    return {"runs": runs, "walk_seconds": walk_seconds, "run_seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 copies instead of 200")
    parser.add_argument("--copies", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    copies = args.copies or (40 if args.quick else 200)
    with tempfile.TemporaryDirectory() as tmp:
        tree = make_tree(Path(tmp) / "tree", copies)
        server, options = start_s3(tree)
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        try:
            url = "s3://bench/tree"
            ways = {
                "local disk (2 processes)": lambda: judged([str(tree)]),
                "local S3 server (2 processes)": lambda: judged([url], storage_options=options),
                "S3 + Dask LocalCluster (2 workers)": lambda: judged(
                    [url], storage_options=options, dask=cluster.scheduler_address
                ),
            }
            times: dict[str, list[float]] = {name: [] for name in ways}
            runs = 0
            for _ in range(args.repeat):
                for name, way in ways.items():
                    seconds, runs = way()
                    times[name].append(seconds)
            here = one_job_pass(url, options, on_cluster=False)
            there = one_job_pass(url, options, on_cluster=True)
            disk = local_pass(tree)
        finally:
            cluster.close()
            server.terminate()
            server.wait()
    size = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file() and not p.is_symlink())
    print(
        f"{copies} copies of sample_logs/hf-stepped ({size / 1024:.0f} KiB each): {runs} runs; {os.cpu_count()} cores"
    )
    print()
    print(f"{'where':<36} {'seconds':>8} {'runs/s':>8} {'vs disk':>8}")
    base = statistics.median(times["local disk (2 processes)"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<36} {median:>8.2f} {runs / median:>8.1f} {base / median:>7.2f}x")
    print()
    print("one run's cost, one job in one process (ms per run; KiB moved per run)")
    print(f"{'':<36} {'walk ms':>8} {'run ms':>8} {'walk KiB':>9} {'run KiB':>8}")
    rows = {"local disk": disk, "S3, runs read here": here, "S3, runs read on a cluster worker": there}
    for name, row in rows.items():
        n = row["runs"]
        walk_kib = f"{row['walk_bytes'] / n / 1024:>9.1f}" if "walk_bytes" in row else f"{'-':>9}"
        run_kib = f"{row['run_bytes'] / n / 1024:>8.1f}" if "run_bytes" in row else f"{'-':>8}"
        walk_ms, run_ms = row["walk_seconds"] / n * 1000, row["run_seconds"] / n * 1000
        print(f"{name:<36} {walk_ms:>8.2f} {run_ms:>8.2f} {walk_kib} {run_kib}")


if __name__ == "__main__":
    main()
