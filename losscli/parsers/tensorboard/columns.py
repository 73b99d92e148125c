"""Decode runs of records that repeat, column by column, through strided views of the file (no index arrays).

When the framing finds records whose lengths repeat with a period (`Framing.blocks`: the same tags logged in
the same order, which is how nearly every training loop logs), the records at one position of the cycle sit at
a fixed distance from each other. For each such column the first record is parsed in Python into a template
(the layouts of `decode`: its tag, where the wall time, step and value are). Then every record of the
column is checked against the template in 8-byte words, all at once through a strided numpy view of the file:
every byte must equal the template's except the wall time, the step's 7-bit groups and the value. Records that
pass take the template's tag and their own wall time, step and value; the others are left to
`decode`, and so are blocks shorter than `_MIN_CYCLES` cycles, for which the work per column costs
more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from losscli.parsers.tensorboard.fields import plugin_name
from losscli.parsers.tensorboard.layouts import TENSOR_LAYOUTS

if TYPE_CHECKING:
    import numpy as np

    from losscli.parsers.tensorboard.collect import Collector

_CYCLES = 1 << 13  # cycles decoded at once: a few hundred KB, so the columns of a cycle share the CPU cache
_MIN_CYCLES = 1 << 10  # shorter blocks cost more in per-column work than the word matching of decode
_MAX_STEP_BYTES = 8


@dataclass(frozen=True)
class Template:
    tag: str
    step_bytes: int  # 0: no step field (step 0)
    value_at: int
    width: int  # 4: float32, 8: float64
    tensor: bool
    metadata: bytes | None
    words: tuple[tuple[int, int, int], ...]  # (offset, mask, expected): uint64 words every record must match


def template_of(record: bytes) -> Template | None:
    """The template of a record in one of the writers' layouts (`layouts`), or None."""
    try:
        return _template_of(record, TENSOR_LAYOUTS)
    except IndexError:  # a record too short for the layout it starts like
        return None


def _template_of(record: bytes, layouts: list[tuple[int, int, int, int, int]]) -> Template | None:
    n = len(record)
    if n < 16 or record[0] != 0x09:
        return None
    step_bytes, pos = 0, 9
    if record[9] == 0x10:
        while step_bytes < _MAX_STEP_BYTES and record[10 + step_bytes] & 0x80:
            step_bytes += 1
        step_bytes += 1
        if step_bytes > _MAX_STEP_BYTES or record[9 + step_bytes] & 0x80:
            return None
        pos = 10 + step_bytes
    if pos + 6 > n:
        return None
    kind, summary, one, value, two, tag_length = record[pos : pos + 6]
    if (kind, one, two) != (0x2A, 0x0A, 0x0A) or summary >= 0x80 or tag_length >= 0x80:
        return None
    if value + 2 != summary:
        return None
    tag_end = pos + 6 + tag_length
    if pos + 2 + summary != n or tag_end >= n:
        return None
    tensor, metadata = False, None
    if record[tag_end] == 0x15 and tag_end + 5 == n:
        value_at, width = tag_end + 1, 4
    else:
        word = int.from_bytes(record[tag_end : tag_end + 8].ljust(8, b"\0"), "little")
        for pattern, mask, offset, width, size in layouts:
            end = tag_end + size
            if (word & mask) != pattern or end > n:
                continue
            metadata_fills = end < n and record[end] == 0x4A and record[end + 1] < 0x80
            if end < n and not (metadata_fills and end + 2 + record[end + 1] == n):
                continue
            value_at, tensor, metadata = tag_end + offset, True, record[end:] or None
            break
        else:
            return None
    variable = dict.fromkeys(range(1, 9), 0)  # the wall time
    variable.update(dict.fromkeys(range(10, 10 + step_bytes), 128))  # the step's continuation bits stay
    variable.update(dict.fromkeys(range(value_at, value_at + width), 0))
    offsets = list(range(0, n - 7, 8)) + ([n - 8] if n % 8 else [])
    words = []
    for offset in offsets:
        mask = sum(variable.get(offset + b, 0xFF) << (8 * b) for b in range(8))
        if mask:
            expected = int.from_bytes(record[offset : offset + 8], "little") & mask
            words.append((offset, mask, expected))
    tag = record[pos + 6 : tag_end].decode("utf-8", "replace")
    return Template(tag, step_bytes, value_at, width, tensor, metadata, tuple(words))


def decode_blocks(
    buf: np.ndarray,
    *,
    starts: np.ndarray,
    lengths: np.ndarray,
    blocks: list[tuple[int, int, int]],
    collector: Collector,
) -> np.ndarray:
    """Decode the columns of every block into `collector`; return which records were decoded."""
    import numpy as np

    done = np.zeros(len(starts), dtype=bool)
    for first, period, cycles in blocks:
        if cycles < _MIN_CYCLES:
            continue
        stride = int((lengths[first : first + period] + 16).sum())  # record data, framing and CRC
        templates = []
        for row in range(first, first + period):
            start = int(starts[row])
            templates.append(template_of(bytes(buf[start : start + int(lengths[row])])))
        for cycle in range(0, cycles, _CYCLES):
            count = min(_CYCLES, cycles - cycle)
            for position, template in enumerate(templates):
                if template is None:
                    continue
                row = first + cycle * period + position
                _decode_column(buf, int(starts[row]), stride, count, template, row, period, collector, done)
    return done


def _decode_column(
    buf: np.ndarray,
    start: int,
    stride: int,
    count: int,
    t: Template,
    row: int,
    period: int,
    collector: Collector,
    done: np.ndarray,
) -> None:
    """Records `row`, `row + period`, ... (`count` of them), whose data start at `start` + i * `stride`."""
    import numpy as np

    def column(offset: int, dtype: str) -> np.ndarray:
        return np.ndarray((count,), dtype=dtype, buffer=buf, offset=start + offset, strides=(stride,))

    ok = None
    for offset, mask, expected in t.words:
        good = (column(offset, "<u8") & np.uint64(mask)) == np.uint64(expected)
        ok = good if ok is None else ok & good
    if ok is None or not ok.any():
        return
    step: np.ndarray | int = 0
    if t.step_bytes:
        word = column(10, "<u8").view(np.int64)
        step = word & 0x7F
        for b in range(1, t.step_bytes):
            step |= ((word >> (8 * b)) & 0x7F) << (7 * b)
    wall = column(1, "<f8")
    value = column(t.value_at, "<f4" if t.width == 4 else "<f8")
    number = collector.tag_number(t.tag)
    rows = slice(row, row + (count - 1) * period + 1, period)
    if not ok.all():
        rows = np.arange(row, row + count * period, period)[ok]
        step = step if isinstance(step, int) else step[ok]
        wall, value = wall[ok], value[ok]
    collector.put(rows, number, step, wall, value, t.tensor)
    collector.met(number, int(rows.start) if isinstance(rows, slice) else int(rows[0]))
    done[rows] = True
    if t.tensor and t.metadata:
        collector.plugin(number, row, plugin_name(t.metadata))
