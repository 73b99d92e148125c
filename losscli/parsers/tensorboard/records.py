"""TFRecord framing of TensorBoard event files: find every record, check its CRCs, resynchronise after damage.

A record is `uint64 length | uint32 masked CRC-32C of the 8 length bytes | data | uint32 masked CRC-32C of the
data`, little-endian (TensorFlow's `record_writer`). Finding the records is a walk, since each length says
where the next record starts. Most of the walk is done by numpy: once the last lengths repeat three times
(the same tags logged in the same order), the next thousands of records are predicted at once and their length
fields (and, with checks on, their length CRCs, which depend only on the length) compared with the prediction.
The Python loop runs only where the pattern changes; after an interruption (an evaluation's scalars) the last
pattern is tried again as soon as it reappears, and predictions that fail are tried less and less often, so an
irregular file costs about two plain walks. The runs of predicted records are kept (`Framing.blocks`) for the
column decoder of `columns`.

Data CRCs are checked all at once. CRC-32C is affine in its input: in a copy of the records in which every
stored CRC is replaced by `unmasked CRC xor CRC of that many zero bytes`, the CRC of a stretch of intact
records equals the CRC of as many zero bytes. A stretch that does not is halved until the damaged records are
found. (Damage in two records that cancels exactly passes, a 1 in 2**32 chance, the same odds as a damaged
record passing its own check.)

Damage: after a header whose length CRC fails (with checks off: whose length is 2 GiB or more) the next start
is unknown, so the reader scans forward to the next position where a header checks and the data starts like an
event (`0x09`, the wall time field), and goes on from there; the bytes in between are lost. An incomplete
record at the end (a file still being written, or a crash) is left out.

A file that grows is framed piece by piece (`open_tail`): each piece starts where the last complete record of
the one before ended, which is a record boundary.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

HEADER = 12  # length + length CRC
OVERHEAD = 16  # header + data CRC
_MASK_DELTA = 0xA282EAD8
_MAX_PERIOD = 8
_HISTORY = 3 * _MAX_PERIOD
_MAX_BACKOFF = 1024
_FIRST_CYCLES = 16
_MAX_CYCLES = 1 << 16
_CRC_STRETCH = 4 << 20  # bytes of records checked with one CRC call
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


def masked_crc(data: Any) -> int:
    """TensorFlow's masked CRC-32C of `data` (bytes or a contiguous numpy array)."""
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


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
        bad = _damaged(buf, framing.starts, framing.lengths)
        if bad.any():
            framing.damaged_records = int(bad.sum())
            framing.lost_bytes += int((framing.lengths[bad] + OVERHEAD).sum())
            framing.starts, framing.lengths = framing.starts[~bad], framing.lengths[~bad]
            framing.blocks = []  # record numbers moved
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
        self.length_crcs: dict[int, int] = {}
        self.lost_bytes = self.lost_stretches = self.truncated = 0
        self.count = 0  # records found so far
        self.blocks: list[tuple[int, int, int]] = []
        self.block_cycle: list[int] = []  # the lengths of the last block's cycle

    def walk(self) -> None:
        pos, size, unpack = 0, self.size, struct.Struct("<QI").unpack_from
        starts, lengths = self.one_starts, self.one_lengths
        history: list[int] = []
        cycles = _FIRST_CYCLES
        wait, backoff = 0, 1  # records to walk before predicting again, after predictions that failed
        resume: list[int] = []  # the last cycle that held for a while
        while pos < size:
            if size - pos < OVERHEAD:
                self.truncated = size - pos
                break
            length, length_crc = unpack(self.raw, pos)
            if not self._header_ok(length, length_crc):
                found = self._resync(pos + 1)
                if found is None:
                    self._lose(pos, size)
                    break
                self._lose(pos, found)
                pos, history = found, []
                continue
            if pos + OVERHEAD + length > size:
                self.truncated = size - pos
                break
            starts.append(pos + HEADER)
            lengths.append(length)
            self.count += 1
            pos += OVERHEAD + length
            history.append(length)
            if wait:
                wait -= 1
                continue
            if len(history) > _HISTORY:
                del history[:-_HISTORY]
            period = _period(history)
            if not period and resume and history[-len(resume) :] == resume:
                period = len(resume)  # the cycle seen last goes on after an interruption (an evaluation)
            run = 0
            while period:
                accepted, pos, tail = self._predict(pos, history[-period:], cycles)
                starts, lengths = self.one_starts, self.one_lengths  # _predict flushed them
                run += accepted // period
                if accepted < _FIRST_CYCLES * period:  # the pattern did not hold: predict less often
                    wait, backoff = backoff, min(backoff * 2, _MAX_BACKOFF)
                else:
                    backoff = 1
                if accepted:
                    history = tail
                if accepted < cycles * period:
                    resume = history[-period:] if run >= _FIRST_CYCLES else []
                    cycles = max(_FIRST_CYCLES, min(2 * run, _MAX_CYCLES))
                    break
                cycles = min(cycles * 4, _MAX_CYCLES)

    def _header_ok(self, length: int, length_crc: int) -> bool:
        if not self.verify:
            return length < _PLAUSIBLE_LENGTH
        expected = self.length_crcs.get(length)
        if expected is None:
            expected = self.length_crcs[length] = masked_crc(struct.pack("<Q", length))
        return expected == length_crc

    def _predict(self, pos: int, cycle: list[int], cycles: int) -> tuple[int, int, list[int]]:
        """Accept the records from `pos` on that continue the cycle of lengths: (count, new pos, lengths)."""
        import numpy as np

        lengths = np.asarray(cycle, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(lengths[:-1] + OVERHEAD)))
        cycle_bytes = int((lengths + OVERHEAD).sum())
        count = min(cycles, (self.size - pos) // cycle_bytes)
        if count <= 0:
            return 0, pos, []
        starts = (pos + np.arange(count, dtype=np.int64)[:, None] * cycle_bytes + offsets).ravel()
        expected = np.tile(lengths, count)
        ok = self.u64[starts] == expected.astype(np.uint64)
        if self.verify:
            crcs = np.asarray([self._crc_of(n) for n in cycle], dtype=np.uint32)
            ok &= self.u32[starts + 8] == np.tile(crcs, count)
        misses = np.flatnonzero(~ok)
        accepted = int(misses[0]) if len(misses) else len(starts)
        if not accepted:
            return 0, pos, []
        self._flush()
        self.parts.append((starts[:accepted] + HEADER, expected[:accepted]))
        period, whole = len(cycle), accepted // len(cycle)
        last = self.blocks[-1] if self.blocks else None
        adjoins = last is not None and last[0] + last[1] * last[2] == self.count
        if last and adjoins and last[1] == period and self.block_cycle == cycle:
            self.blocks[-1] = (last[0], period, last[2] + whole)  # the same run, predicted further
        elif whole:
            self.blocks.append((self.count, period, whole))
            self.block_cycle = list(cycle)
        self.count += accepted
        new_pos = int(starts[accepted - 1] + expected[accepted - 1] + OVERHEAD)
        return accepted, new_pos, expected[max(0, accepted - _HISTORY) : accepted].tolist()

    def _crc_of(self, length: int) -> int:
        self._header_ok(length, 0)
        return self.length_crcs[length]

    def _resync(self, start: int) -> int | None:
        """The first position at or after `start` where a record header checks, or None."""
        import numpy as np

        size, buf = self.size, self.buf
        unpack = struct.Struct("<QI").unpack_from
        window = start
        while window + OVERHEAD <= size:
            end = min(window + _SCAN_WINDOW, size - OVERHEAD + 1)
            hits = np.flatnonzero(buf[window + HEADER : end + HEADER] == _WALL_TIME_FIELD) + window
            hits = hits[self.u32[hits + 4] == 0]  # lengths under 4 GiB
            for pos in hits.tolist():
                length, length_crc = unpack(self.raw, pos)
                if not self._header_ok(length, length_crc):
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
        return Framing(starts, lengths, self.size, 0, self.lost_bytes, self.lost_stretches, self.truncated, self.blocks)


def _period(history: list[int]) -> int:
    """The shortest period with which the last lengths repeat (seen three times in full), or 0."""
    n = len(history)
    for period in range(1, min(_MAX_PERIOD, n // 3) + 1):
        last = history[n - period :]
        if last == history[n - 2 * period : n - period] and last == history[n - 3 * period : n - 2 * period]:
            return period
    return 0


def _damaged(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Which records' data CRC (or length CRC) does not match; see the module docstring for the method."""
    import google_crc32c
    import numpy as np

    begins = starts - HEADER
    ends = starts + lengths + 4
    bad = np.zeros(len(starts), dtype=bool)
    zero_crc = _zero_crc_table(int(lengths.max()))
    # stretches of adjacent records, each at most _CRC_STRETCH bytes (a bigger record is a stretch of its own)
    breaks = np.flatnonzero((begins[1:] != ends[:-1]) | (np.diff(begins // _CRC_STRETCH) != 0)) + 1
    bounds = np.concatenate(([0], breaks, [len(starts)])).tolist()
    longest = int(max(ends[j - 1] - begins[i] for i, j in zip(bounds[:-1], bounds[1:])))
    scratch = np.empty(longest, dtype=np.uint8)
    zeros = np.zeros(longest, dtype=np.uint8)
    value = google_crc32c.value
    length_slot = zero_crc[8]

    def check(first: int, last: int, base: int) -> None:
        lo, hi = int(begins[first]) - base, int(ends[last - 1]) - base
        if value(scratch[lo:hi]) == value(zeros[: hi - lo]):
            return
        if last - first == 1:
            bad[first] = True
            return
        middle = (first + last) // 2
        check(first, middle, base)
        check(middle, last, base)

    for first, last in zip(bounds[:-1], bounds[1:]):
        base = int(begins[first])
        span = int(ends[last - 1]) - base
        scratch[:span] = buf[base : base + span]
        words = unaligned(scratch[:span], "<u4")
        slots = begins[first:last] - base + 8
        words[slots] = _unmask(words[slots]) ^ np.uint32(length_slot)
        slots = starts[first:last] - base + lengths[first:last]
        words[slots] = _unmask(words[slots]) ^ _zero_crcs(zero_crc, lengths[first:last])
        check(first, last, base)
    return bad


def _unmask(masked: np.ndarray) -> np.ndarray:
    import numpy as np

    rotated = masked - np.uint32(_MASK_DELTA)
    return (rotated >> np.uint32(17)) | (rotated << np.uint32(15))


_TABLE_LIMIT = 1 << 16
_zero_table: list[np.ndarray] = []  # the largest table made so far, kept for the next file


def _zero_crc_table(longest: int) -> np.ndarray:
    """CRC-32C of n zero bytes for every n up to `longest` (at most _TABLE_LIMIT)."""
    import google_crc32c
    import numpy as np

    count = max(min(longest, _TABLE_LIMIT) + 1, 9)
    if _zero_table and len(_zero_table[0]) >= count:
        return _zero_table[0]
    table = np.empty(count, dtype=np.uint32)
    crc, zero, extend = 0, b"\x00", google_crc32c.extend
    for n in range(count):
        table[n] = crc
        crc = extend(crc, zero)
    _zero_table[:] = [table]
    return table


def _zero_crcs(table: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    import google_crc32c
    import numpy as np

    if int(lengths.max()) < len(table):
        return table[lengths]
    out = table[np.minimum(lengths, len(table) - 1)]
    for i in np.flatnonzero(lengths >= len(table)).tolist():
        out[i] = google_crc32c.value(bytes(int(lengths[i])))
    return out
