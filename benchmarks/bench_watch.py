"""What `losscli watch` costs: CPU while 100 runs sit idle, and the time from a point written to its line printed.

    python benchmarks/bench_watch.py           # 60 s of idle per row; 1k, 10k and 100k points (about 6 minutes)
    python benchmarks/bench_watch.py --quick   # 15 s of idle per row; 1k and 10k points (under 2 minutes)

(a) Idle: `losscli watch` (the installed entry point, a fresh process) over the mixed tree of `bench_cli.py`
(100 runs: Trainer output folders with their checkpoints, TensorBoard runs, W&B run folders, LLaMA-Factory and
Lightning logs, W&B exports: copies of the real samples), once its first look is done. CPU is user + system
time from /proc over the measuring window, as a share of one core. The peer is the least any poller can do: a
Python loop that `stat`s every file and folder of the same tree at the same interval, in a process of its own.
The rows run one after the other (two cores, shared: run it on a quiet machine and compare in one run).

(b) Latency: TensorBoard runs of 1k, 10k and 100k train-loss points (each step logs `train/loss` and `train/epoch`,
as the HF Trainer does), written by tensorboardX's SummaryWriter (the real writer) and copied five times. One
`losscli watch --interval 0.1 --format jsonl` follows the five; a point is then appended to each in turn (the
real writer's record of a NaN loss at the next step: the `nan` finding is printed for it, whatever the verdict),
the appends spread over the polling period, and the time from the append to the event's line on stdout is
taken: the wait for the next look (up to the interval) plus the look. Beside it: one look of the library's
`Watcher` after such an append (reading the record and judging the run, no polling wait), and `losscli classify`
of the same run in a fresh process (reading it whole again), the peer a wrapper script without `watch` would
run at each check.

(c) W&B: runs of the same sizes logged by the wandb client (offline; it writes its log in whole 32 KiB blocks), and
one look of the `Watcher` when the last block reaches the disk.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import LOSSCLI, mixed_tree, row, section  # noqa: E402

RUNS = 100
COPIES = 5
INTERVAL = 0.1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


POLLER = """
import os, sys, time
interval = float(sys.argv[2])
while True:
    for folder, dirs, files in os.walk(sys.argv[1]):
        for name in dirs + files:
            try:
                os.stat(os.path.join(folder, name))
            except OSError:
                pass
    time.sleep(interval)
"""


def idle_share(cmd: list[str], *, settle: float, window: float, ready: str | None) -> float:
    """CPU share of one core that `cmd` uses over `window` seconds, once it said `ready` on stderr (or after
    `settle` seconds)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        if ready:
            while ready not in proc.stderr.readline():
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[:2]} ended before it was ready")
        time.sleep(settle)
        start, wall = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(window)
        return (cpu_seconds(proc.pid) - start) / (time.monotonic() - wall)
    finally:
        proc.kill()
        proc.wait()


def idle(work: Path, window: float) -> None:
    tree = mixed_tree(work / "tree", RUNS)
    section(f"(a) idle: {RUNS} runs, CPU share of one core over {window:.0f} s after the first look")
    for interval, label in ((2.0, "losscli watch (default interval 2 s)"), (1.0, "losscli watch --interval 1")):
        cmd = [LOSSCLI, "watch", str(tree), "--interval", str(interval)]
        share = idle_share(cmd, settle=2 * interval, window=window, ready="watching")
        row(label, f"{100 * share:.2f} %", "aim: under 2 %", share < 0.02)
    for interval in (2.0, 1.0):
        share = idle_share(
            [sys.executable, "-c", POLLER, str(tree), str(interval)], settle=1, window=window, ready=None
        )
        row(f"peer: a bare loop stat-ing every file and folder, every {interval:g} s", f"{100 * share:.2f} %")


def write_run(folder: Path, points: int) -> None:
    """A TensorBoard run of `points` steps over 4 epochs, by the real writer."""
    from tensorboardX import SummaryWriter

    per_epoch = points // 4
    writer = SummaryWriter(str(folder), flush_secs=3600, max_queue=100_000)
    for step in range(1, points + 1):
        epoch = (step - 1) // per_epoch
        loss = 2.0 - 0.3 * epoch + 0.02 * ((step * 7919) % 13 - 6) / 6
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/epoch", step / per_epoch, step)
    writer.close()


def nan_record(scratch: Path, step: int) -> bytes:
    """The real writer's record of a NaN train loss at `step` (the last record of a file it writes)."""
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(scratch))
    logging.getLogger("tensorboardX.x2num").setLevel(logging.ERROR)  # its note about the NaN
    writer.add_scalar("train/loss", float("nan"), step)
    writer.close()
    data = next(scratch.glob("*tfevents*")).read_bytes()
    pos, last = 0, 0
    while pos < len(data):
        last = pos
        pos += 16 + int.from_bytes(data[pos : pos + 8], "little")
    return data[last:]


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)
        handle.flush()


class Lines(threading.Thread):
    """Reads a process's stdout, noting when each line arrived."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc, self.lines = proc, []  # type: list[tuple[float, dict]]
        self.start()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter(), json.loads(line)))

    def wait(self, test, timeout: float = 600) -> float:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for when, event in list(self.lines):
                if test(event):
                    return when
            time.sleep(0.002)
        raise TimeoutError("no such line")


def latency(work: Path, sizes: tuple[int, ...]) -> None:
    from losscli.watch import Watcher

    section(f"(b) from a point written to its line printed, TensorBoard runs, {COPIES} runs per size (median, min-max)")
    print(
        f"  {'points':>8} {'watch --interval 0.1':>24} {'one look: wall (CPU)':>24} {'of which analyze':>18} "
        f"{'classify (fresh process)':>26}"
    )
    for points in sizes:
        base = work / f"latency-{points}"
        shutil.rmtree(base, ignore_errors=True)
        write_run(base / "source", points)
        source = next((base / "source").glob("*tfevents*"))
        record = nan_record(base / "scratch", points + 1)
        runs = []
        for i in range(COPIES + 1):  # the last copy is for the library's look
            folder = base / "runs" / f"run-{i}"
            folder.mkdir(parents=True)
            shutil.copy(source, folder / source.name)
            runs.append(folder / source.name)
        watched = base / "watched"
        watched.mkdir()
        for path in runs[:COPIES]:
            shutil.move(str(path.parent), watched / path.parent.name)
        files = [watched / f"run-{i}" / source.name for i in range(COPIES)]
        cmd = [LOSSCLI, "watch", str(watched), "--interval", str(INTERVAL), "--format", "jsonl"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            lines = Lines(proc)
            for i in range(COPIES):
                lines.wait(lambda e, i=i: e["run"] == f"run-{i}" and e["event"] == "found")
            took = []
            for i, path in enumerate(files):
                time.sleep(0.5 + INTERVAL * (i + 0.5) / COPIES)  # appends spread over the polling phase
                start = time.perf_counter()
                append(path, record)
                arrived = lines.wait(lambda e, i=i: e["run"] == f"run-{i}" and e.get("kind") == "nan")
                took.append(arrived - start)
        finally:
            proc.kill()
            proc.wait()
        watcher = Watcher([runs[COPIES].parent])
        watcher.look()
        append(runs[COPIES], record)
        start, cpu = time.perf_counter(), time.process_time()
        look = watcher.look()
        one_look, one_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert any(e.event == "finding" and e.details.get("kind") == "nan" for e in look.events)
        analysis = _analysis_seconds(watcher)
        fresh = []
        for _ in range(COPIES):
            start = time.perf_counter()
            subprocess.run([LOSSCLI, "classify", str(files[0].parent)], capture_output=True, check=False)
            fresh.append(time.perf_counter() - start)
        look_text = f"{one_look * 1000:.0f} ms ({one_cpu * 1000:.0f} ms)"
        print(
            f"  {points:>8,} {_spread(took):>24} {look_text:>24} {analysis * 1000:>15.0f} ms {_spread(fresh):>26}",
            flush=True,
        )
        shutil.rmtree(base, ignore_errors=True)


WANDB_WRITER = """
import os, sys
os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DISABLE_GIT="true", WANDB_DISABLE_CODE="true")
import wandb
points = int(sys.argv[2])
per_epoch = points // 4
run = wandb.init(project="bench-watch", dir=sys.argv[1], config={"num_train_epochs": 4})
for step in range(1, points + 1):
    epoch = (step - 1) // per_epoch
    loss = 2.0 - 0.3 * epoch + 0.02 * ((step * 7919) % 13 - 6) / 6
    run.log({"train/loss": loss, "train/epoch": step / per_epoch, "train/global_step": step})
run.finish()
"""
BLOCK = 32 * 1024


def wandb_look(work: Path, sizes: tuple[int, ...]) -> None:
    """One look of the library's `Watcher` at a W&B run when its last block reaches the disk."""
    from losscli.analysis.settings import Settings
    from losscli.watch import Watcher

    section("(c) W&B run folders written by the wandb client (offline): one look when the last block arrives")
    print(f"  {'points':>8} {'one look: wall (CPU)':>24} {'of which analyze':>18}")
    for points in sizes:
        base = work / f"wandb-{points}"
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
        subprocess.run([sys.executable, "-c", WANDB_WRITER, str(base), str(points)], env=env, check=True)
        log = next(base.glob("wandb/offline-run-*/*.wandb"))
        data = log.read_bytes()
        cut = (len(data) - 1) // BLOCK * BLOCK  # wandb-core writes whole blocks: the last one comes last
        watched = base / "watched" / log.parent.name
        watched.mkdir(parents=True)
        append(watched / log.name, data[:cut])
        watcher = Watcher([base / "watched"])
        watcher.look()
        append(watched / log.name, data[cut:])
        start, cpu = time.perf_counter(), time.process_time()
        look = watcher.look()
        took, took_cpu = time.perf_counter() - start, time.process_time() - cpu
        # every point was read; a run of more than max_points is analysed on that many averaged points
        assert look.records and look.records[0]["points"] == min(points, Settings().max_points)
        analysis = _analysis_seconds(watcher)
        look_text = f"{took * 1000:.0f} ms ({took_cpu * 1000:.0f} ms)"
        print(f"  {points:>8,} {look_text:>24} {analysis * 1000:>15.0f} ms", flush=True)
        shutil.rmtree(base, ignore_errors=True)


def _analysis_seconds(watcher) -> float:  # type: ignore[no-untyped-def]
    """The analysis alone, on the run the watcher holds (the rest of a look is reading and bookkeeping)."""
    from losscli.analysis.classify import analyze

    (tracked,) = watcher.sources.values()
    (run,) = tracked.follower.runs()
    start = time.perf_counter()
    analyze(run)
    return time.perf_counter() - start


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{statistics.median(ms):.0f} ms ({min(ms):.0f}-{max(ms):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s of idle per row; 1k and 10k points")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated tree in this folder")
    args = parser.parse_args()
    holder = None if args.keep else tempfile.TemporaryDirectory(prefix="losscli-bench-watch-")
    work = args.keep or Path(holder.name)  # type: ignore[union-attr]
    work.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([LOSSCLI, "--version"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{version} | Python {sys.version.split()[0]} | {os.cpu_count()} cores, load {load}")
    try:
        idle(work, 15.0 if args.quick else 60.0)
        sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
        latency(work, sizes)
        wandb_look(work, sizes)
    finally:
        if holder:
            holder.cleanup()


if __name__ == "__main__":
    main()
