"""`losscli watch` on W&B run folders while the wandb client (offline, the real writer) writes them.

wandb-core writes the `.wandb` transaction log in whole 32 KiB blocks, so a record that crosses a block
boundary reaches the disk in two writes, a block apart: the split records here are that, made by the real client
(and, for exact cuts, the committed sample's bytes appended at the block boundary the client flushes at).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLE_LOGS
from watching import Seen, append, assert_same_runs, followed, look, look_until, read_whole

from losscli.watch import Watcher

pytestmark = pytest.mark.timeout(180)
FMT = "wandb_run"
BLOCK = 32 * 1024
SAMPLE = next((SAMPLE_LOGS / "hf-stepped" / "wandb").glob("offline-run-*"))


def first_chunks(data: bytes) -> list[int]:
    """Offsets of the FIRST chunks of the records that are split into several chunks (LevelDB log format)."""
    pos, found = 7, []
    while pos < len(data):
        block_end = (pos // BLOCK + 1) * BLOCK
        if block_end - pos < 7:
            pos = block_end
            continue
        _, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 2:
            found.append(pos)
        pos += 7 + length
    return found


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, bytes]:
    """An empty copy of the sample's run folder, and the bytes of its `.wandb` file."""
    folder = tmp_path / "out" / "wandb" / SAMPLE.name
    folder.mkdir(parents=True)
    log = next(SAMPLE.glob("*.wandb"))
    return folder / log.name, log.read_bytes()


@pytest.mark.parametrize("cut", ["block", "inside-first-chunk"])
def test_a_record_split_across_two_writes_waits_for_its_second_half(sample: tuple[Path, bytes], cut: str) -> None:
    target, data = sample
    first = first_chunks(data)[0]
    assert first < BLOCK < first + 7 + 32  # the sample's first split record crosses the first block boundary
    at = BLOCK if cut == "block" else first + 10
    append(target, data[:at])
    watcher = Watcher([target.parent.parent.parent])
    run = f"wandb/{SAMPLE.name}"
    seen = look_until(watcher, lambda s: run in s.records)
    before = seen.records[run]["points"]
    look(watcher, seen)
    assert seen.warnings == []  # the record's second half is on its way, not lost
    append(target, data[at:])
    seen = look_until(watcher, lambda s: s.records[run]["points"] > before, seen=seen)
    assert seen.warnings == []
    assert seen.records[run]["points"] == 100
    assert seen.records[run]["verdict"] == "stepped"
    assert_same_runs(followed(watcher, FMT, target.parent), read_whole(watcher, FMT, target.parent))


def test_a_run_that_stops_mid_record_is_never_reported_damaged(sample: tuple[Path, bytes]) -> None:
    target, data = sample
    append(target, data[: first_chunks(data)[1] + 100])  # killed while writing a record that spans two blocks
    watcher = Watcher([target.parent.parent.parent])
    seen = Seen()
    for _ in range(4):
        look(watcher, seen)
    assert seen.warnings == []
    whole = read_whole(watcher, FMT, target.parent)[0]  # read whole, the same file says what it lost
    assert any("ends inside a record" in w for w in whole.warnings)


WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DISABLE_GIT="true", WANDB_DISABLE_CODE="true")
    import wandb
    run = wandb.init(project="watch", dir=sys.argv[1], config={"num_train_epochs": 3})
    per_epoch = 400
    for step in range(1, 3 * per_epoch + 1):
        epoch = (step - 1) // per_epoch
        loss = 2.0 - 0.4 * epoch + 0.02 * ((step * 7919) % 13 - 6) / 6
        run.log({"train/loss": loss, "train/epoch": step / per_epoch, "train/global_step": step})
        if step % per_epoch == 0 and step < 3 * per_epoch:
            # wait at each epoch's end until the watcher has seen new points (or 10 s): paced by the test, not
            # by the machine's load; the go files live outside the watched folder
            go, deadline = Path(sys.argv[2]) / f"go-{step // per_epoch}", time.monotonic() + 10
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
    run.finish()
    """
)


@pytest.mark.slow
def test_the_wandb_client_is_followed_while_it_logs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    watcher = Watcher([out])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(out), str(tmp_path)], env=env)
    try:
        seen, counts, epoch = Seen(), set(), 1
        while writer.poll() is None:
            look(watcher, seen)
            new = {r["points"] for r in seen.records.values()} - counts
            counts |= new
            if new:  # the writer may go on to its next epoch
                (tmp_path / f"go-{epoch}").touch()
                epoch += 1
        assert writer.wait(timeout=120) == 0
        seen = look_until(watcher, lambda s: any(r["points"] == 1200 for r in s.records.values()), seen=seen)
    finally:
        writer.kill()
    assert len(counts) >= 3  # judged while it logged, block by block, not only at the end
    assert seen.warnings == []
    assert len(seen.records) == 1, sorted(seen.records)
    (run,) = seen.records
    assert seen.records[run]["verdict"] == "stepped"
    stepped = [e for e in seen.events if e.verdict == "stepped" and e.event in ("found", "verdict")]
    assert stepped[0].details["first_step"]["step"] == 400
    folder = Path(seen.records[run]["path"])
    assert_same_runs(followed(watcher, FMT, folder), read_whole(watcher, FMT, folder))
    shutil.rmtree(out)  # wandb leaves links into its cache
