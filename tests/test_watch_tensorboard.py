"""`losscli watch` on TensorBoard runs while tensorboardX's SummaryWriter (the real writer) writes them.

    tmp/
      runs/exp/events.out.tfevents.*      written step by step while the watcher looks
      runs/late/...                       a run that starts after the watcher

Split records come from the real writer's bytes, appended to the watched file in two parts; nothing is
hand-written. Every test fails instead of hanging (`watching.look_until`, the timeout mark).
"""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tensorboardX import SummaryWriter
from watching import Seen, append, assert_same_runs, followed, look, look_until, read_whole, staircase

from losscli.watch import Watcher

pytestmark = pytest.mark.timeout(120)
FMT = "tensorboard"


def write_points(writer: SummaryWriter, points: list[tuple[int, float]], *, per_epoch: int = 20) -> None:
    """What the HF Trainer's TensorBoard logger writes at each log: the loss and the epoch at the step."""
    for step, loss in points:
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/epoch", step / per_epoch, step)
    writer.flush()


def event_file(folder: Path) -> Path:
    return next(folder.glob("*tfevents*"))


def record_ends(data: bytes) -> list[int]:
    """Where each TFRecord of a file ends (length, length CRC, data, data CRC)."""
    ends, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 16 + length
        ends.append(pos)
    return ends


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, bytes]:
    """A whole staircase run written by the real writer elsewhere: its event file's name and bytes."""
    folder = tmp_path / "source"
    writer = SummaryWriter(str(folder))
    write_points(writer, staircase())
    writer.close()
    path = event_file(folder)
    return path, path.read_bytes()


def test_a_run_written_while_watched_is_judged_and_its_first_stepped_boundary_told(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "exp"
    points = staircase(epochs=3)
    writer = SummaryWriter(str(run))
    write_points(writer, points[:20])  # the first epoch: nothing to judge yet
    watcher = Watcher([tmp_path / "runs"])
    seen = look_until(watcher, lambda s: "found" in s.kinds())
    assert seen.first("found").verdict == "inconclusive"
    assert seen.first("found").run == "exp"
    write_points(writer, points[20:])
    seen = look_until(watcher, lambda s: "verdict" in s.kinds(), seen=seen)
    change = seen.first("verdict")
    assert (change.details["previous"], change.verdict) == ("inconclusive", "stepped")
    first = change.details["first_step"]
    assert first["epoch"] == 1 and first["step"] == 20
    assert first["drop"] == pytest.approx(0.4, abs=0.05)
    assert seen.warnings == []
    writer.close()
    look_until(watcher, lambda s: s.records["exp"]["points"] == 60, seen=seen)
    assert_same_runs(followed(watcher, FMT, run), read_whole(watcher, FMT, run))


def test_a_file_read_in_many_pieces_is_the_file_read_whole(tmp_path: Path, written: tuple[Path, bytes]) -> None:
    source, data = written
    run = tmp_path / "runs" / "exp"
    run.mkdir(parents=True)
    target = run / source.name
    watcher = Watcher([tmp_path / "runs"])
    seen = Seen()
    for start in range(0, len(data), 997):  # cuts that fall anywhere in records
        append(target, data[start : start + 997])
        look(watcher, seen)
    assert seen.warnings == []
    assert seen.records["exp"]["verdict"] == "stepped"
    assert_same_runs(followed(watcher, FMT, run), read_whole(watcher, FMT, run))


@pytest.mark.parametrize("into", [3, 12, 20, -2], ids=["length", "length-crc", "data", "data-crc"])
def test_a_record_split_across_two_writes_waits_for_its_second_half(
    tmp_path: Path, written: tuple[Path, bytes], into: int
) -> None:
    source, data = written
    ends = record_ends(data)
    cut = (ends[60] + into) if into > 0 else (ends[61] + into)  # inside record 61
    run = tmp_path / "runs" / "exp"
    run.mkdir(parents=True)
    target = run / source.name
    append(target, data[:cut])
    watcher = Watcher([tmp_path / "runs"])
    seen = look(watcher)
    before = seen.records["exp"]["points"]
    look(watcher, seen)
    assert seen.warnings == []  # half a record is a record being written, not damage
    append(target, data[cut:])
    seen = look_until(watcher, lambda s: s.records["exp"]["points"] > before, seen=seen)
    assert seen.warnings == []
    assert seen.records["exp"]["points"] == 60
    assert_same_runs(followed(watcher, FMT, run), read_whole(watcher, FMT, run))


def test_a_run_that_stops_mid_write_is_never_reported_damaged(tmp_path: Path, written: tuple[Path, bytes]) -> None:
    source, data = written
    ends = record_ends(data)
    run = tmp_path / "runs" / "exp"
    run.mkdir(parents=True)
    append(run / source.name, data[: ends[80] + 30])  # the writer was killed inside record 81
    watcher = Watcher([tmp_path / "runs"])
    seen = Seen()
    for _ in range(5):
        look(watcher, seen)
    assert seen.warnings == []
    assert seen.records["exp"]["points"] == 40  # 80 records: the file version event, then two per step
    # read whole afterwards, the same file says what it lost
    whole = read_whole(watcher, FMT, run)[0]
    assert any("last record is incomplete" in w for w in whole.warnings)


def test_damage_between_complete_records_is_told_once(tmp_path: Path, written: tuple[Path, bytes]) -> None:
    source, data = written
    ends = record_ends(data)
    damaged = bytearray(data[: ends[50]])
    damaged[ends[30] + 14] ^= 0xFF  # a flipped bit in the data of record 32
    run = tmp_path / "runs" / "exp"
    run.mkdir(parents=True)
    target = run / source.name
    append(target, bytes(damaged))
    watcher = Watcher([tmp_path / "runs"])
    seen = look_until(watcher, lambda s: bool(s.warnings))
    assert len(seen.warnings) == 1 and "damaged records were skipped" in seen.warnings[0]
    append(target, data[ends[50] :])
    seen = look_until(watcher, lambda s: s.records["exp"]["points"] > 24, seen=seen)
    assert len(seen.warnings) == 1


def test_a_new_event_file_in_the_run_folder_is_picked_up(tmp_path: Path) -> None:
    """A resumed run (or the Trainer's final evaluate()) opens a second writer in the same folder."""
    run = tmp_path / "runs" / "exp"
    points = staircase(epochs=3)
    first = SummaryWriter(str(run), filename_suffix=".a")
    write_points(first, points[:30])
    first.close()
    watcher = Watcher([tmp_path / "runs"], rescan_after=3600)
    seen = look_until(watcher, lambda s: "found" in s.kinds())
    assert seen.records["exp"]["points"] == 30
    second = SummaryWriter(str(run), filename_suffix=".b")
    write_points(second, points[30:])
    second.close()
    seen = look_until(watcher, lambda s: s.records["exp"]["points"] == 60, seen=seen)
    assert seen.records["exp"]["verdict"] == "stepped"
    assert len(watcher.sources[(FMT, run)].follower.source.files) == 2
    assert_same_runs(followed(watcher, FMT, run), read_whole(watcher, FMT, run))


def test_a_run_that_appears_after_the_start_is_found(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_points(SummaryWriter(str(runs / "early")), staircase(epochs=1))
    watcher = Watcher([runs], rescan_after=3600)  # found because its folder appears, not by a periodic walk
    seen = look_until(watcher, lambda s: "found" in s.kinds("early"))
    late = SummaryWriter(str(runs / "late"))
    write_points(late, staircase(epochs=3, seed=1))
    seen = look_until(watcher, lambda s: "found" in s.kinds("late"), seen=seen)
    assert seen.first("found", "late").verdict == "stepped"
    late.close()


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from tensorboardX import SummaryWriter
    from watching import staircase
    writer = SummaryWriter(sys.argv[1], flush_secs=1)
    for step, loss in staircase(epochs=4):
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/epoch", step / 20, step)
        if step % 3 == 0:
            writer.flush()
            time.sleep(0.02)
    writer.close()
    """
)


def test_a_writer_in_another_process_is_followed_to_the_end(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "exp"
    run.mkdir(parents=True)
    watcher = Watcher([tmp_path / "runs"])
    tests = str(Path(__file__).parent)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(run), tests])
    try:
        seen = Seen()
        while writer.poll() is None:
            look(watcher, seen)
        assert writer.wait(timeout=60) == 0
        seen = look_until(watcher, lambda s: s.records.get("exp", {}).get("points") == 80, seen=seen)
    finally:
        writer.kill()
    assert seen.warnings == []
    assert seen.records["exp"]["verdict"] == "stepped"
    stepped = [e for e in seen.events if e.verdict == "stepped" and e.event in ("found", "verdict")]
    assert stepped[0].details["first_step"]["step"] == 20
    assert_same_runs(followed(watcher, FMT, run), read_whole(watcher, FMT, run))
