"""`losscli watch` on text logs that grow by lines, while a process appends to them: LLaMA-Factory's
`trainer_log.jsonl`, Lightning's `metrics.csv`, W&B history exports (JSONL, CSV), a Trainer's console output and
loss tables (CSV, JSONL).

The lines are real files' (tests/data, sources in its SOURCES.md files), appended in pieces cut anywhere, also
inside a line, as a writer's buffered writes reach the disk:

    tmp/logs/
      llama-factory/trainer_log.jsonl
      lightning/version_0/metrics.csv
      exports/direct_history.jsonl, direct_history.csv
      console/train.log                 (sample_logs/console: a real Trainer's captured stdout and stderr)
      tables/loss_table.csv, .jsonl     (tests/data/tables: written by a plain torch loop)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import DATA, SAMPLE_LOGS, corpus
from watching import Seen, append, assert_same_runs, followed, look, look_until, read_whole

from losscli.watch import Watcher

pytestmark = pytest.mark.timeout(120)

# (real file, where the writer puts it below tmp/logs, the source's format, the source's path below tmp/logs)
LOGS = {
    "trainer_log": (corpus("tl-agosalvez-20ep") / "trainer_log.jsonl", "llama-factory/trainer_log.jsonl",
                    "trainer_state", "llama-factory"),
    "lightning": (corpus("lt-slm-20ep") / "metrics.csv", "lightning/version_0/metrics.csv",
                  "lightning_csv", "lightning/version_0/metrics.csv"),
    "wandb-jsonl": (DATA / "wandb" / "exports" / "direct_history.jsonl", "exports/direct_history.jsonl",
                    "wandb_history", "exports/direct_history.jsonl"),
    "wandb-csv": (DATA / "wandb" / "exports" / "direct_history.csv", "exports/direct_history.csv",
                  "wandb_history", "exports/direct_history.csv"),
    "console": (SAMPLE_LOGS / "console" / "hf-stepped.log", "console/train.log", "console", "console/train.log"),
    "table-csv": (DATA / "tables" / "loss_table.csv", "tables/loss_table.csv", "loss_table", "tables/loss_table.csv"),
    "table-jsonl": (DATA / "tables" / "loss_table.jsonl", "tables/loss_table.jsonl",
                    "loss_table", "tables/loss_table.jsonl"),
}  # fmt: skip


@pytest.mark.parametrize("name", LOGS)
def test_lines_appended_in_pieces_give_the_file_read_whole(tmp_path: Path, name: str) -> None:
    real, where, fmt, source = LOGS[name]
    logs = tmp_path / "logs"
    target = logs / where
    target.parent.mkdir(parents=True)
    data = real.read_bytes()
    append(target, data[:40])  # not even the first line yet: not a log anyone can recognise
    watcher = Watcher([logs], rescan_after=3600)
    seen = look(watcher)
    assert seen.records == {}
    points = []
    for start in range(40, len(data), 533):  # cuts inside lines
        append(target, data[start : start + 533])
        look(watcher, seen)
        points.extend(r["points"] for r in seen.records.values())
    look(watcher, seen)
    assert seen.warnings == [] and seen.problems == []
    assert len(set(points)) > 2  # judged as the lines came, not only at the end
    path = logs / source
    assert_same_runs(followed(watcher, fmt, path), read_whole(watcher, fmt, path))


def test_a_last_line_without_its_end_waits(tmp_path: Path) -> None:
    real, where, fmt, source = LOGS["trainer_log"]
    lines = real.read_bytes().splitlines(keepends=True)
    target = tmp_path / where
    target.parent.mkdir(parents=True)
    append(target, b"".join(lines[:20]) + lines[20][:30])  # a run that stopped mid-line
    watcher = Watcher([tmp_path])
    seen = Seen()
    for _ in range(3):
        look(watcher, seen)
    assert seen.warnings == []
    (record,) = seen.records.values()
    assert record["points"] == 20
    append(target, lines[20][30:])
    seen = look_until(watcher, lambda s: s.records[record["run"]]["points"] == 21, seen=seen)
    assert seen.warnings == []


def test_a_csv_written_again_with_a_new_column_is_read_again(tmp_path: Path) -> None:
    """Lightning's CSVLogger writes the whole file again, with a new header, when a metric is logged the first
    time (here `val_loss`, first logged at the end of the first epoch)."""
    real = DATA / "lightning-two-losses" / "version_0" / "metrics.csv"
    lines = real.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    keep = [i for i, name in enumerate(header) if name != "val_loss"]
    rows = [line for line in lines[1:] if line.rstrip("\n").split(",")[header.index("val_loss")] == ""]

    def without_val_loss(line: str) -> str:
        cells = line.rstrip("\n").split(",")
        return ",".join(cells[i] for i in keep) + "\n"

    target = tmp_path / "lightning" / "version_0" / "metrics.csv"
    target.parent.mkdir(parents=True)
    target.write_text("".join(without_val_loss(line) for line in [lines[0], *rows[:10]]))
    watcher = Watcher([tmp_path])
    seen = look_until(watcher, lambda s: bool(s.records))
    (run,) = seen.records
    target.write_text("".join(lines))  # written again, whole, with the new column
    seen = look_until(watcher, lambda s: s.records[run]["eval"] is not None, seen=seen)
    assert seen.warnings == []
    assert_same_runs(followed(watcher, "lightning_csv", target), read_whole(watcher, "lightning_csv", target))


APPENDER = textwrap.dedent(
    """
    import random, sys, time
    data = open(sys.argv[1], "rb").read()
    rng = random.Random(0)
    with open(sys.argv[2], "ab", buffering=0) as out:
        pos = 0
        while pos < len(data):
            size = rng.randint(1, 300)
            out.write(data[pos : pos + size])
            pos += size
            time.sleep(0.01)
    """
)


def test_a_process_appending_is_followed_to_the_end(tmp_path: Path) -> None:
    real, where, fmt, source = LOGS["trainer_log"]
    target = tmp_path / where
    target.parent.mkdir(parents=True)
    watcher = Watcher([tmp_path])
    writer = subprocess.Popen([sys.executable, "-c", APPENDER, str(real), str(target)])
    try:
        seen = Seen()
        while writer.poll() is None:
            look(watcher, seen)
        assert writer.wait(timeout=60) == 0
        look(watcher, seen)
    finally:
        writer.kill()
    assert seen.warnings == []
    path = tmp_path / source
    assert_same_runs(followed(watcher, fmt, path), read_whole(watcher, fmt, path))
