"""What losscli costs from a shell: start-up, one file, whole trees, loops over archives, one huge run.

    python benchmarks/bench_cli.py             # everything (about 10 minutes; ~0.7 GB of inputs in a tmp dir)
    python benchmarks/bench_cli.py --quick     # small sizes and few repeats, under a minute

Section (c) also checks that JSON Lines and CSV stream: the first record comes as early from 1,000 runs as from
100, and the peak memory of one process does not grow with the number of runs.
    python benchmarks/bench_cli.py --keep DIR  # keep the generated inputs in DIR and reuse them next time

Every figure is a fresh process of the `losscli` entry point installed next to the Python running this
script, timed from spawn to exit (wall clock), with its peak memory from `wait4` (the largest resident set of
the process or of any worker it waited for, not their sum). Commands that are compared run interleaved, so
that load from other processes on the machine falls on both; medians are compared, as ratios, in one run.

Inputs are copies of the real sample files (`sample_logs/`, `tests/data/corpus/`), laid out as their writers
lay them out. The 10-million-point run is a TensorBoard event file of 2.5 million steps x 4 tags (the HF
Trainer's loss, grad_norm, learning_rate, epoch), built with numpy because tensorboardX writes 17,000 points a
second (10 minutes for this file); its bytes are checked against tensorboardX's `add_scalar` for the first
steps.
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
CORPUS = ROOT / "tests" / "data" / "corpus"
PYTHON = sys.executable
LOSSCLI = str(Path(sys.executable).parent / "losscli")
HEAVY = (
    "pandas",
    "numpy",
    "plotly",
    "tensorboard",
    "google.protobuf",
    "tensorboardX",
    "pyarrow",
    "scipy",
    "matplotlib",
    "rich",
)
NOT_AT_START = ("pandas", "numpy", "plotly", "tensorboard", "google.protobuf", "pyarrow")  # issue 7


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    code: int


def spawn(cmd: list[str], stdout: Path | None = None, cwd: Path | None = None) -> Sample:
    """One fresh process: wall time from spawn to exit, and peak RSS from wait4."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(elapsed, usage.ru_maxrss / 1024, proc.returncode)


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, list[Sample]]:
    """Each command `repeat` times, round robin, after one untimed warm-up round (page cache, .pyc files)."""
    for cmd in commands.values():
        spawn(cmd)
    runs: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            runs[name].append(spawn(cmd))
    return runs


def first_line(cmd: list[str]) -> tuple[float, float]:
    """Seconds from spawn to the first line on stdout, and to exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - start
    proc.stdout.read()
    proc.wait()
    return first, time.perf_counter() - start


def median(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


# --- inputs -------------------------------------------------------------------------------------------------


def _copy_run(kind: int, i: int, root: Path) -> None:
    """Run number `i` of a mixed tree: six kinds of real run, alternating the stepped and smooth sample."""
    sample = ("hf-stepped", "hf-smooth")[i // 6 % 2]
    name = f"{i:05d}"
    if kind == 0:  # a Trainer output folder with its checkpoints
        shutil.copytree(SAMPLES / sample, root / f"trainer-{name}", ignore=shutil.ignore_patterns("wandb", "runs"))
    elif kind == 1:  # a TensorBoard log dir
        shutil.copytree(next((SAMPLES / sample / "runs").iterdir()), root / f"tb-{name}")
    elif kind == 2:  # a wandb folder with one offline run
        run = next(p for p in (SAMPLES / sample / "wandb").iterdir() if p.name.startswith("offline-run-"))
        shutil.copytree(run, root / f"wandb-{name}" / "wandb" / run.name, symlinks=True)
    elif kind == 3:  # LLaMA-Factory
        (root / f"llamafactory-{name}").mkdir()
        shutil.copy(CORPUS / "tl-agosalvez-20ep" / "trainer_log.jsonl", root / f"llamafactory-{name}")
    elif kind == 4:  # Lightning
        folder = root / f"lightning-{name}" / "lightning_logs" / "version_0"
        folder.mkdir(parents=True)
        shutil.copy(CORPUS / "lt-slm-20ep" / "metrics.csv", folder)
    else:  # a W&B history export
        (root / f"export-{name}").mkdir()
        export = SAMPLES / "wandb-exports" / "hf-stepped_history.csv"
        shutil.copy(export, root / f"export-{name}" / f"{sample}.csv")


def mixed_tree(root: Path, runs: int) -> Path:
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        for i in range(runs):
            _copy_run(i % 6, i, root)
        (root / ".done").touch()
    return root


def archive(root: Path, folders: int) -> list[str]:
    """`archive/<name>/trainer_state.json`: checkpoints archived one per folder, as shell loops meet them."""
    if not (root / ".done").exists():
        shutil.rmtree(root, ignore_errors=True)
        state = SAMPLES / "hf-stepped" / "checkpoint-100" / "trainer_state.json"
        for i in range(folders):
            (root / f"ckpt-{i:05d}").mkdir(parents=True)
            shutil.copy(state, root / f"ckpt-{i:05d}")
        (root / ".done").touch()
    return sorted(str(p) + "/" for p in root.iterdir() if p.is_dir())  # what `archive/*/` expands to


TAGS = ("train/loss", "train/grad_norm", "train/learning_rate", "train/epoch")


def _masked_crc(data: bytes) -> int:
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _records(steps: np.ndarray, values: dict[str, np.ndarray], wall: np.ndarray) -> bytes:
    """Framed scalar events for `steps` (all with the same varint length), the tags interleaved per step, as
    protobuf and TensorFlow's record writer lay them out: 09 <wall f64> 10 <step varint> 2a <n> 0a <n> 0a <n>
    <tag> 15 <f32>, framed as <u64 length> <masked crc32c> <data> <masked crc32c>."""
    import numpy as np

    n = len(steps)
    width = 1 if steps[-1] < 1 << 7 else 2 if steps[-1] < 1 << 14 else 3 if steps[-1] < 1 << 21 else 4
    varint = np.empty((n, width), np.uint8)
    for b in range(width):
        varint[:, b] = ((steps >> (7 * b)) & 0x7F) | (0x80 if b < width - 1 else 0)
    parts = []
    for tag in TAGS:
        t = tag.encode()
        value_len = 2 + len(t) + 5
        summary = bytes([0x0A, value_len, 0x0A, len(t)]) + t + b"\x15"
        data_len = 9 + 1 + width + 2 + len(summary) + 4
        rec = np.zeros((n, 12 + data_len + 4), np.uint8)
        length = data_len.to_bytes(8, "little")
        rec[:, :8] = np.frombuffer(length, np.uint8)
        rec[:, 8:12] = np.frombuffer(_masked_crc(length).to_bytes(4, "little"), np.uint8)
        rec[:, 12] = 0x09
        rec[:, 13:21] = np.ascontiguousarray(wall, "<f8").view(np.uint8).reshape(n, 8)
        rec[:, 21] = 0x10
        rec[:, 22 : 22 + width] = varint
        at = 22 + width
        rec[:, at : at + 2] = (0x2A, len(summary) + 4)
        rec[:, at + 2 : at + 2 + len(summary)] = np.frombuffer(summary, np.uint8)
        rec[:, -8:-4] = np.ascontiguousarray(values[tag], "<f4").view(np.uint8).reshape(n, 4)
        crcs = [_masked_crc(row[12:-4].tobytes()) for row in rec]
        rec[:, -4:] = np.asarray(crcs, "<u4").view(np.uint8).reshape(n, 4)
        parts.append(rec)
    return np.concatenate(parts, axis=1).tobytes()


def _curve(steps: np.ndarray, per_epoch: int) -> dict[str, np.ndarray]:
    """A staircase: flat inside each epoch, a drop at each boundary; noise from a fixed seed."""
    import numpy as np

    rng = np.random.default_rng(int(steps[0]))
    epoch = steps / per_epoch
    done = np.floor(epoch - 1e-9)
    loss = 2.5 - 0.3 * done - 0.03 * (epoch - done) + rng.normal(0, 0.05, len(steps))
    return {
        "train/loss": loss,
        "train/grad_norm": 1 + rng.random(len(steps)),
        "train/learning_rate": 2e-5 * (1 - steps / (steps[-1] + per_epoch)),
        "train/epoch": epoch,
    }


def _tb_header(wall: float) -> bytes:
    import struct

    version = b"brain.Event:2"
    data = b"\x09" + struct.pack("<d", wall) + b"\x1a" + bytes([len(version)]) + version
    length = len(data).to_bytes(8, "little")
    return length + _masked_crc(length).to_bytes(4, "little") + data + _masked_crc(data).to_bytes(4, "little")


def big_tensorboard(folder: Path, steps: int, per_epoch: int) -> Path:
    """One TensorBoard run of `steps` x 4 tags, written in chunks of at most 200,000 steps."""
    import numpy as np

    path = folder / "events.out.tfevents.1795550524.bench.1.0"
    if (folder / ".done").exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [1, 1 << 7, 1 << 14, 1 << 21, 1 << 28]
    with open(path, "wb") as out:
        out.write(_tb_header(1795550524.0))
        for lo, hi in zip(bounds, bounds[1:]):
            for start in range(lo, min(hi, steps + 1), 200_000):
                s = np.arange(start, min(start + 200_000, hi, steps + 1), dtype=np.int64)
                values = {k: np.asarray(v, np.float32) for k, v in _curve(s, per_epoch).items()}
                out.write(_records(s, values, 1795550524.0 + s * 0.01))
    (folder / ".done").touch()
    return path


def check_against_tensorboardx(tmp: Path) -> str:
    """The generator's bytes against tensorboardX's `add_scalar` for steps 1..300 (1- and 2-byte varints)."""
    import numpy as np

    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return "not checked against tensorboardX (not installed)"
    s = np.arange(1, 301, dtype=np.int64)
    values = {k: np.asarray(v, np.float32) for k, v in _curve(s, 100).items()}
    wall = 1795550524.0 + s * 0.01
    writer = SummaryWriter(str(tmp / "tbx"))
    for i, step in enumerate(s):
        for tag in TAGS:
            writer.add_scalar(tag, float(values[tag][i]), int(step), walltime=float(wall[i]))
    writer.close()
    written = next((tmp / "tbx").iterdir()).read_bytes()
    header = 12 + int.from_bytes(written[:8], "little") + 4
    groups = ((0, 127), (127, 300))  # steps 1-127 and 128-300
    mine = b"".join(_records(s[a:b], {k: v[a:b] for k, v in values.items()}, wall[a:b]) for a, b in groups)
    if written[header:] != mine:
        raise SystemExit("the generated event records differ from tensorboardX's")
    return "bytes identical to tensorboardX add_scalar for steps 1-300"


# --- what start-up imports ----------------------------------------------------------------------------------

_PROBE = """
import json, sys
sys.argv = ["losscli", *json.loads(sys.argv[1])]
from losscli.cli import main
try:
    main()
except SystemExit:
    pass
found = sorted({h for h in %r for m in list(sys.modules) if m == h or m.startswith(h + ".")})
sys.__stderr__.write("IMPORTED " + json.dumps(found) + "\\n")
"""


def imported(args: list[str], cwd: Path) -> list[str]:
    proc = subprocess.run([PYTHON, "-c", _PROBE % (HEAVY,), json.dumps(args)], capture_output=True, text=True, cwd=cwd)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("IMPORTED "))
    return json.loads(line[len("IMPORTED ") :])


# --- the report ---------------------------------------------------------------------------------------------


def row(what: str, value: str, aim: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("  ok" if ok else "  MISSED")
    print(f"  {what:<58} {value:>26}   {aim}{mark}", flush=True)


def section(title: str) -> None:
    print(f"\n{title}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated inputs in this folder")
    args = parser.parse_args()
    quick = args.quick
    repeat = 5 if quick else 15
    trees = (20, 100) if quick else (100, 1000)
    folders, loop_sample = (100, 10) if quick else (1000, 50)
    big_steps = 250_000 if quick else 2_500_000

    tmp_holder = None if args.keep else tempfile.TemporaryDirectory(prefix="losscli-bench-")
    work = args.keep or Path(tmp_holder.name)  # type: ignore[union-attr]
    work.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([LOSSCLI, "--version"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{version} | Python {sys.version.split()[0]} | {os.cpu_count()} cores, load {load} | {LOSSCLI}"
        f"{' | --quick' if quick else ''}"
    )
    try:
        _run(work, quick, repeat, trees, folders, loop_sample, big_steps)
    finally:
        if tmp_holder:
            tmp_holder.cleanup()


def _run(
    work: Path,
    quick: bool,
    repeat: int,
    trees: tuple[int, int],
    folders: int,
    loop_sample: int,
    big_steps: int,
) -> None:
    one = work / "one"
    one.mkdir(exist_ok=True)
    shutil.copy(SAMPLES / "hf-stepped" / "trainer_state.json", one / "trainer_state.json")

    section(f"(a) start-up: median of {repeat} fresh processes each, interleaved")
    runs = interleaved(
        {"python": [PYTHON, "-c", "pass"], "version": [LOSSCLI, "--version"], "help": [LOSSCLI, "--help"]},
        repeat,
    )
    bare = median(runs["python"])
    row("python -c pass", f"{bare * 1000:.0f} ms")
    for name in ("version", "help"):
        t = median(runs[name])
        row(
            f"losscli --{name}",
            f"{t * 1000:.0f} ms (+{(t - bare) * 1000:.0f} ms)",
            "aim: within +100 ms",
            t - bare <= 0.1,
        )

    section(f"(b) one trainer_state.json: median of {repeat}, interleaved")
    runs = interleaved(
        {
            "pandas": [PYTHON, "-c", "import pandas"],
            "classify": [LOSSCLI, "classify", str(one / "trainer_state.json")],
        },
        repeat,
    )
    pandas, classify = median(runs["pandas"]), median(runs["classify"])
    row('python -c "import pandas"', f"{pandas * 1000:.0f} ms")
    row(
        "losscli classify one/trainer_state.json",
        f"{classify * 1000:.0f} ms = {classify / pandas:.2f}x",
        "aim: <= 1.25x",
        classify / pandas <= 1.25,
    )
    row(
        "  peak memory",
        f"{statistics.median(s.rss_mb for s in runs['classify']):.0f} MB "
        f"(pandas alone {statistics.median(s.rss_mb for s in runs['pandas']):.0f} MB)",
    )

    section("    heavy modules imported (in a fresh process)")
    for label, argv in (
        ("--version", ["--version"]),
        ("--help", ["--help"]),
        ("classify one/trainer_state.json", ["classify", str(one / "trainer_state.json")]),
    ):
        found = imported(argv, work)
        unwanted = (
            [m for m in found if m in NOT_AT_START]
            if label.startswith("--")
            else [m for m in found if m in ("plotly", "tensorboard", "google.protobuf", "pyarrow", "tensorboardX")]
        )
        flag = "flag: " + (", ".join(unwanted) or "none")
        row(f"losscli {label}", ", ".join(found) or "none", flag, not unwanted)

    section("(c) mixed trees (Trainer, TensorBoard, wandb, LLaMA-Factory, Lightning, W&B export; all cores)")
    per_run = {}
    for n in trees:
        root = mixed_tree(work / f"tree-{n}", n)
        for jobs in ([], ["-j", "1"]):
            cmd = [LOSSCLI, "classify", str(root), "-f", "jsonl", *jobs]
            samples = [spawn(cmd, stdout=work / "out.jsonl") for _ in range(1 if n >= 1000 or quick else 3)]
            records = len((work / "out.jsonl").read_text().splitlines())
            if records != n or samples[0].code != 0:
                raise SystemExit(f"tree of {n}: {records} records, exit {samples[0].code}")
            t = median(samples)
            label = "all cores" if not jobs else "-j 1"
            per_run[(n, label)] = t / n
            row(
                f"{n:>5} runs, {label}",
                f"{t:6.2f} s  {t / n * 1000:6.1f} ms/run  {max(s.rss_mb for s in samples):4.0f} MB",
            )
    small, large = trees
    for label in ("all cores", "-j 1"):
        growth = per_run[(large, label)] / per_run[(small, label)]
        row(
            f"per-run time at {large} / at {small} ({label})",
            f"{growth:.2f}",
            "aim: ~1 (linear)",
            growth <= 1.25,
        )
    section("    streaming: memory and the first record (-j 1, one process, so that its peak is the whole)")
    for fmt in ("jsonl", "csv"):
        peaks = {}
        for n in trees:
            cmd = [LOSSCLI, "classify", str(work / f"tree-{n}"), "-f", fmt, "-j", "1"]
            peaks[n] = max(spawn(cmd, stdout=work / f"out.{fmt}").rss_mb for _ in range(1 if quick else 2))
        row(
            f"peak memory, -f {fmt}: {large} runs vs {small}",
            f"{peaks[large]:.0f} MB vs {peaks[small]:.0f} MB",
            "aim: flat (<= 1.1x)",
            peaks[large] <= 1.1 * peaks[small],
        )
    firsts = {n: first_line([LOSSCLI, "classify", str(work / f"tree-{n}"), "-f", "jsonl"]) for n in trees}
    row(
        f"first record: {large} runs vs {small} (all cores)",
        f"{firsts[large][0]:.2f} s of {firsts[large][1]:.1f} vs {firsts[small][0]:.2f} s of {firsts[small][1]:.1f}",
        "aim: as early (<= 1.5x)",
        firsts[large][0] <= 1.5 * firsts[small][0],
    )

    section(f"(d) `classify archive/*/` over {folders} checkpoint folders vs a shell loop of separate calls")
    paths = archive(work / "archive", folders)
    whole = median(
        [
            spawn([LOSSCLI, "classify", *paths, "-f", "jsonl"], stdout=work / "out.jsonl")
            for _ in range(1 if quick else 2)
        ]
    )
    assert len((work / "out.jsonl").read_text().splitlines()) == folders
    picks = paths[:: max(1, folders // loop_sample)][:loop_sample]
    loop = [spawn([LOSSCLI, "classify", p, "-f", "jsonl"]) for p in picks]
    each = statistics.mean(s.seconds for s in loop)
    serial = spawn([LOSSCLI, "classify", *paths, "-f", "jsonl", "-j", "1"]).seconds
    row(f"one process, {folders} folders", f"{whole:.2f} s  (-j 1: {serial:.2f} s)")
    row(
        f"separate calls: {len(picks)} timed, x{folders / len(picks):.0f} (extrapolated)",
        f"{each * folders:.1f} s ({each * 1000:.0f} ms each)",
    )
    row(
        "speed-up of one process",
        f"{each * folders / whole:.0f}x  (-j 1: {each * folders / serial:.0f}x)",
        "aim: >= 20x",
        each * folders / whole >= 20,
    )

    points = f"{big_steps * 4 / 1e6:g} million points ({big_steps:,} steps x 4 tags)"
    section(f"(e) one TensorBoard run of {points}")
    checked = check_against_tensorboardx(work)
    t0 = time.perf_counter()
    path = big_tensorboard(work / f"big-{big_steps}", big_steps, per_epoch=big_steps // 10)
    made = time.perf_counter() - t0
    row("event file", f"{path.stat().st_size / 1e6:.0f} MB in {made:.0f} s", checked)
    for options in ([], ["--no-checksums"]):
        s = spawn([LOSSCLI, "classify", str(path.parent), "-f", "jsonl", *options], stdout=work / "out.jsonl")
        record = json.loads((work / "out.jsonl").read_text())
        row(
            f"losscli classify {' '.join(['big/', *options])}",
            f"{s.seconds:.1f} s  {s.rss_mb:.0f} MB",
            f"verdict {record['verdict']}, {record['points']:,} loss points",
        )


if __name__ == "__main__":
    main()
