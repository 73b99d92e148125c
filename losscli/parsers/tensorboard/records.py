"""TFRecord framing of TensorBoard event files: find every record, check its CRCs, resynchronise after damage.

A record is `uint64 length | uint32 masked CRC-32C of the 8 length bytes | data | uint32 masked CRC-32C of the
data`, little-endian (TensorFlow's `record_writer`). Finding the records is a walk, since each length says
where the next record starts, but numpy does nearly all of it. In a window of the file (`_WINDOW` bytes), every
position where a record could start is found at once: the data starts like an event (`0x09`, the wall time
field) and the header checks (a length that fits the file and, with checks on, its length CRC, looked up once
per distinct length: `checksums`). Each candidate says where the next record would start; a candidate whose next
start is the next candidate is linked to it, and the chain of linked candidates from the current position is
taken whole. Python runs once per chain, and for each position that is no candidate (a record whose data does not
start with a wall time, damage, the end), where it reads the one header as a plain walk would. So the records
found are exactly those of a record-by-record walk, for any order of tags, at the cost of a few array operations
per byte. Where records are large (images, histograms: more than `_SCAN_LIMIT` bytes on average so far),
reading each header costs less than scanning every byte, and the walk does that.

Runs of adjacent records whose lengths repeat with a period (the same tags logged in the same order) are
reported as `Framing.blocks`, for the column decoder of `columns`. Data CRCs are checked for all records at
once (`checksums.damaged`).

Damage: after a header whose length CRC fails (with checks off: whose length is 2 GiB or more) the next start
is unknown, so the reader scans forward to the next position where a header checks and the data starts like an
event, and goes on from there; the bytes in between are lost. An incomplete record at the end (a file still
being written, or a crash) is left out.

A file that grows is framed piece by piece (`open_tail`): each piece starts where the last complete record of
the one before ended, which is a record boundary.
"""

from __future__ import annotations

import mmap
import struct
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.parsers.tensorboard.checksums import HEADER, damaged, length_crc, length_crcs, masked_crc

if TYPE_CHECKING:
    import numpy as np

__all__ = ["HEADER", "OVERHEAD", "Framing", "frame_records", "masked_crc", "open_buffer", "open_tail", "unaligned"]

OVERHEAD = 16  # header + data CRC
_WINDOW = 1 << 20  # bytes scanned for candidates at once
_SCAN_LIMIT = 1024  # average record length above which headers are read one by one instead
_MAX_PERIOD = 8
_FIRST_PREDICTED = 32  # cycles predicted at first (or as many as held the time before), then twice as many, up to
_PREDICTED = 1 << 14
_MIN_BLOCK = 16  # cycles in a run of repeating records worth reporting
_SCAN_WINDOW = 1 << 20
_PLAUSIBLE_LENGTH = 1 << 31
_WALL_TIME_FIELD = 0x09


@dataclass
class Framing:
    """Where the intact records of one file are, and what was lost."""

    starts: np.ndarray  # int64 offset of each record's data
    lengths: np.ndarray  # int64 length of each record's data
    size: int
    damaged_records: int = 0  # records dropped for a data CRC that does not match
    lost_bytes: int = 0  # bytes skipped: damaged records and the stretches skipped while resynchronising
    lost_stretches: int = 0  # places where a header did not check and reading resynchronised
    truncated_bytes: int = 0  # bytes of an incomplete record at the end
    # runs of records whose lengths repeat with a period: (first record, period, number of whole cycles)
    blocks: list[tuple[int, int, int]] = field(default_factory=list)


def open_buffer(path: Path) -> tuple[Any, np.ndarray]:
    """The file's bytes as (a buffer for `struct`, a uint8 array); large files are memory-mapped."""
    import numpy as np

    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if size < (1 << 20):
            handle.seek(0)
            raw: Any = handle.read()
        else:
            raw = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return raw, np.frombuffer(raw, dtype=np.uint8)


def open_tail(path: Path, offset: int) -> tuple[Any, np.ndarray]:
    """The file's bytes from `offset` to where it ends now, as `open_buffer` gives them (for a file that grows:
    `reader.read_event_file_from`)."""
    import numpy as np

    if offset == 0:
        return open_buffer(path)
    with open(path, "rb") as handle:
        handle.seek(offset)
        raw = handle.read()
    return raw, np.frombuffer(raw, dtype=np.uint8)


def unaligned(buf: np.ndarray, dtype: str) -> np.ndarray:
    """A view whose element `i` is the `dtype` value stored at byte `i` (so `view[offsets]` gathers them)."""
    import numpy as np

    itemsize = np.dtype(dtype).itemsize
    count = max(len(buf) - itemsize + 1, 0)
    return np.ndarray((count,), dtype=dtype, buffer=buf, offset=0, strides=(1,))


def frame_records(raw: Any, *, buf: np.ndarray, verify: bool) -> Framing:
    """Find the records of one file (see the module docstring); with `verify`, check both CRCs of each."""
    walker = _Walker(raw, buf, verify)
    walker.walk()
    framing = walker.result()
    if verify and len(framing.starts):
        bad = damaged(buf, framing.starts, framing.lengths, gaps=bool(framing.lost_stretches))
        if bad.any():
            framing.damaged_records = int(bad.sum())
            framing.lost_bytes += int((framing.lengths[bad] + OVERHEAD).sum())
            framing.starts, framing.lengths = framing.starts[~bad], framing.lengths[~bad]
    gaps = bool(framing.lost_stretches or framing.damaged_records)
    framing.blocks = _blocks(framing.starts, framing.lengths, gaps=gaps)
    return framing


class _Walker:
    def __init__(self, raw: Any, buf: np.ndarray, verify: bool) -> None:
        self.raw, self.buf, self.verify = raw, buf, verify
        self.size = len(buf)
        self.u64 = unaligned(buf, "<u8")
        self.u32 = unaligned(buf, "<u4")
        self.parts: list[tuple[Any, Any]] = []
        self.one_starts: list[int] = []
        self.one_lengths: list[int] = []
        self.records = self.record_bytes = 0  # found so far
        self.last_run = 0  # cycles the last prediction held for
        self.length_crcs: dict[int, int] = {}
        self.lost_bytes = self.lost_stretches = self.truncated = 0
        self.unpack = struct.Struct("<QI").unpack_from

    def walk(self) -> None:
        import numpy as np

        pos, size, end = 0, self.size, 0
        found = lengths = ends = np.zeros(0, dtype=np.int64)
        last_of_chain: list[int] = []
        while pos < size:
            if pos >= end:  # the next window
                if self.record_bytes > _SCAN_LIMIT * self.records:
                    end = min(pos + _WINDOW, size)
                    while pos < end:
                        pos = self._step(pos)
                    continue
                predicted = self._predict(pos)
                if predicted - pos >= _WINDOW // 2:  # a long run of cycles: it may go on after an interruption
                    pos = end = predicted
                    continue
                pos, end = predicted, min(predicted + _WINDOW, size)
                found, lengths, ends = self._candidates(pos, end)
                last_of_chain = [*np.flatnonzero(ends[:-1] != found[1:]).tolist(), len(found) - 1]
            i = int(np.searchsorted(found, pos))
            if i < len(found) and found[i] == pos:
                j = last_of_chain[bisect_left(last_of_chain, i)]
                self._flush()
                self.parts.append((found[i : j + 1] + HEADER, lengths[i : j + 1]))
                self.records += j + 1 - i
                self.record_bytes += int(ends[j] - pos)
                pos = int(ends[j])
            else:
                pos = self._step(pos)

    def _predict(self, pos: int) -> int:
        """Take the records from `pos` on that go on with the cycle of lengths the last records repeat; the next
        position. Nearly every training loop logs its tags in the same order each time: this finds their records
        by reading just their headers, without scanning the bytes (a few cycles first, more while they hold)."""
        import numpy as np

        tail = self._tail()
        period = _period(tail)
        if not period:
            return pos
        cycle = np.asarray(tail[-period:], dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(cycle[:-1] + OVERHEAD)))
        cycle_bytes = int((cycle + OVERHEAD).sum())
        crcs = length_crcs(cycle) if self.verify else None
        cycles, run = self.last_run or _FIRST_PREDICTED, 0  # as many as held the time before, then a few, doubling
        growing = not self.last_run
        while True:
            count = min(cycles, (self.size - pos) // cycle_bytes)
            if count <= 0:
                return pos
            starts = (pos + np.arange(count, dtype=np.int64)[:, None] * cycle_bytes + offsets).ravel()
            ok = self.u64[starts] == np.tile(cycle.astype(np.uint64), count)
            if crcs is not None:
                ok &= self.u32[starts + 8] == np.tile(crcs, count)
            misses = np.flatnonzero(~ok)
            taken = int(misses[0]) if len(misses) else len(starts)
            if taken:
                lengths = np.tile(cycle, count)[:taken]
                self._flush()
                self.parts.append((starts[:taken] + HEADER, lengths))
                self.records += taken
                pos = int(starts[taken - 1] + lengths[-1] + OVERHEAD)
                self.record_bytes += int(lengths.sum()) + OVERHEAD * taken
            run += taken // period
            if taken < len(starts):
                self.last_run = min(run, _PREDICTED)
                return pos
            cycles, growing = (min(cycles * 2, _PREDICTED) if growing else _FIRST_PREDICTED), True

    def _tail(self) -> list[int]:
        """The lengths of the last records found (up to 3 cycles of `_MAX_PERIOD`)."""
        out: list[int] = [*self.one_lengths[-3 * _MAX_PERIOD :]]
        for _, lengths in reversed(self.parts):
            if len(out) >= 3 * _MAX_PERIOD:
                break
            out[:0] = [int(n) for n in lengths[-(3 * _MAX_PERIOD - len(out)) :]]
        return out

    def _candidates(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where in [lo, hi) a record can start (module docstring): the positions, the records' lengths, and
        where each of them ends."""
        import numpy as np

        top = min(hi, self.size - OVERHEAD + 1)
        found = np.flatnonzero(self.buf[lo + HEADER : max(top, lo) + HEADER] == _WALL_TIME_FIELD) + lo
        lengths = self.u64[found]
        fits = lengths < min(_PLAUSIBLE_LENGTH, self.size)
        found, lengths = found[fits], lengths[fits].astype(np.int64)
        ends = found + OVERHEAD + lengths
        keep = ends <= self.size
        if self.verify:
            keep &= self.u32[found + 8] == length_crcs(lengths)
        return found[keep], lengths[keep], ends[keep]

    def _step(self, pos: int) -> int:
        """Read the one record at `pos` by its header (or resynchronise, or meet the end); the next position."""
        size = self.size
        if size - pos < OVERHEAD:
            self.truncated = size - pos
            return size
        length, check = self.unpack(self.raw, pos)
        if not self._header_ok(length, check):
            found = self._resync(pos + 1)
            self._lose(pos, size if found is None else found)
            return size if found is None else found
        if pos + OVERHEAD + length > size:
            self.truncated = size - pos
            return size
        self.one_starts.append(pos + HEADER)
        self.one_lengths.append(length)
        self.records += 1
        self.record_bytes += OVERHEAD + length
        return pos + OVERHEAD + length

    def _header_ok(self, length: int, check: int) -> bool:
        if not self.verify:
            return length < _PLAUSIBLE_LENGTH
        expected = self.length_crcs.get(length)
        if expected is None:
            expected = self.length_crcs[length] = length_crc(length)
        return expected == check

    def _resync(self, start: int) -> int | None:
        """The first position at or after `start` where a record header checks, or None."""
        import numpy as np

        size, buf = self.size, self.buf
        window = start
        while window + OVERHEAD <= size:
            end = min(window + _SCAN_WINDOW, size - OVERHEAD + 1)
            hits = np.flatnonzero(buf[window + HEADER : end + HEADER] == _WALL_TIME_FIELD) + window
            hits = hits[self.u32[hits + 4] == 0]  # lengths under 4 GiB
            for pos in hits.tolist():
                length, check = self.unpack(self.raw, pos)
                if not self._header_ok(length, check):
                    continue
                if self.verify or self._plausible_next(pos + OVERHEAD + length):
                    return pos
            window = end
        return None

    def _plausible_next(self, pos: int) -> bool:
        """Without CRCs, a resynchronised header is trusted when the record after it looks like one too."""
        if pos == self.size:
            return True
        if pos + OVERHEAD > self.size:
            return False
        return int(self.u32[pos + 4]) == 0 and int(self.buf[pos + HEADER]) == _WALL_TIME_FIELD

    def _lose(self, start: int, end: int) -> None:
        self.lost_bytes += end - start
        self.lost_stretches += 1

    def _flush(self) -> None:
        if self.one_starts:
            self.parts.append((self.one_starts, self.one_lengths))
            self.one_starts, self.one_lengths = [], []

    def result(self) -> Framing:
        import numpy as np

        self._flush()
        if self.parts:
            starts = np.concatenate([np.asarray(s, dtype=np.int64) for s, _ in self.parts])
            lengths = np.concatenate([np.asarray(n, dtype=np.int64) for _, n in self.parts])
        else:
            starts = lengths = np.zeros(0, dtype=np.int64)
        return Framing(starts, lengths, self.size, 0, self.lost_bytes, self.lost_stretches, self.truncated)


def _period(lengths: list[int]) -> int:
    """The shortest period with which the last lengths repeat (seen three times in full), or 0."""
    n = len(lengths)
    for period in range(1, min(_MAX_PERIOD, n // 3) + 1):
        last = lengths[n - period :]
        if last == lengths[n - 2 * period : n - period] and last == lengths[n - 3 * period : n - 2 * period]:
            return period
    return 0


def _blocks(starts: np.ndarray, lengths: np.ndarray, *, gaps: bool) -> list[tuple[int, int, int]]:
    """Runs of adjacent records whose lengths repeat with the period most of the file has (up to `_MAX_PERIOD`
    records): (first record, period, whole cycles), of at least `_MIN_BLOCK` cycles each. Without `gaps`
    (bytes lost between records), every record starts where the one before it ends."""
    import numpy as np

    n = len(lengths)
    if n < 2 * _MIN_BLOCK:
        return []
    sample = np.arange(_MAX_PERIOD, n, max(1, n // 4096))
    sampled = lengths[sample]
    period = next((p for p in range(1, _MAX_PERIOD + 1) if (sampled == lengths[sample - p]).mean() > 0.5), 0)
    if not period:
        return []
    # record i + period goes on with the cycle: the length of record i, no gap in between
    goes_on = lengths[period:] == lengths[:-period]
    if gaps:
        adjacent = starts[1:] == starts[:-1] + lengths[:-1] + OVERHEAD  # record i + 1 starts where record i ends
        goes_on &= adjacent[period - 1 :] & adjacent[: n - period]
    changes = (np.flatnonzero(goes_on[1:] != goes_on[:-1]) + 1).tolist()
    edges = [*([0] if goes_on[0] else []), *changes, *([len(goes_on)] if goes_on[-1] else [])]
    out = []
    for first, last in zip(edges[::2], edges[1::2]):  # goes_on[first:last]: records first ...
        cycles = (last - first + period) // period  # ... to last + period - 1
        if cycles >= _MIN_BLOCK:
            out.append((first, period, cycles))
    return out
