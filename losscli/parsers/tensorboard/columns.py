"""Decode runs of records that repeat, column by column, through strided views of the file (no index arrays).

When the framing finds records whose lengths repeat with a period (`Framing.blocks`: the same tags logged in
the same order, which is how nearly every training loop logs), the records at one position of the cycle sit at
a fixed distance from each other. For each such column the first record is parsed in Python into a template
(the layouts of `decode`: its tag, where the wall time, step and value are). Then every record of the
column is checked against the template in 8-byte words, all at once through a strided numpy view of the file:
every byte must equal the template's except the wall time, the step's 7-bit groups and the value. Records that
pass take the template's tag and their own wall time, step and value; the others are left to
`templates`, and so are blocks shorter than `_MIN_CYCLES` cycles, for which the work per column costs
more than it saves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from losscli.parsers.tensorboard.fields import plugin_name
from losscli.parsers.tensorboard.templates import Template, template_of

if TYPE_CHECKING:
    import numpy as np

    from losscli.parsers.tensorboard.collect import Collector

_CYCLES = 1 << 13  # cycles decoded at once: a few hundred KB, so the columns of a cycle share the CPU cache
_MIN_CYCLES = 1 << 10  # shorter blocks cost more in per-column work than the word matching of decode


def decode_blocks(
    buf: np.ndarray,
    *,
    starts: np.ndarray,
    lengths: np.ndarray,
    blocks: list[tuple[int, int, int]],
    collector: Collector,
) -> None:
    """Decode the columns of every block into `collector`."""
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
                _decode_column(buf, int(starts[row]), stride, count, template, row, period, collector)


def _decode_column(
    buf: np.ndarray,
    start: int,
    stride: int,
    count: int,
    t: Template,
    row: int,
    period: int,
    collector: Collector,
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
    if t.tensor and t.metadata:
        collector.plugin(number, row, plugin_name(t.metadata))
