"""Decode scalar records by template: records of one length read as rows of 8-byte words, matched whole.

A writer lays out every point of one tag the same way (`layouts`), so two records of one tag and step width
differ only in their wall time, the 7-bit groups of their step and their value. `template_of` parses one record
into a `Template`: its tag, where those fields are, and which bits of the record are fixed.

The records left after the periodic runs (`columns`) are taken `_CHUNK` at a time, so that their bytes and the
slots they fill stay in the CPU cache. In a chunk, the records of one length are gathered as a table (one row of
8-byte words per record, one numpy gather through a strided view of the file) and checked against the templates
known for that length, whole words at a time: rows whose fixed bits equal a template's take its tag, and their
wall time, step and value come out of the words. The first row that no known template matches is parsed into a
new template (each distinct template is parsed once per file), until every row is matched or `_MAX_TEMPLATES`
templates were tried for the group (then, as for records in no writer's layout, `fields` decodes the rest).
This way an HF Trainer's interleaved evaluations, tags that start mid-run and tensors mixed with simple values
cost about what a periodic log costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from losscli.parsers.tensorboard.fields import plugin_name
from losscli.parsers.tensorboard.layouts import TENSOR_LAYOUTS

if TYPE_CHECKING:
    import numpy as np

    from losscli.parsers.tensorboard.collect import Collector

_CHUNK = 1 << 14  # records decoded together: a few hundred KB of file and slots
_MAX_LENGTH = 256  # longer records are not scalars in a writer's layout (one-byte lengths)
_MAX_TEMPLATES = 64  # templates tried per group and chunk; more (thousands of tags of one length) go to `fields`
_MIN_GROUP = 128  # records of one length in a chunk; fewer cost less in `fields`, whose work per call is shared
_MIN_RECORDS = 1 << 12  # in a smaller file, `fields` alone costs less than both
_MAX_STEP_BYTES = 8


@dataclass(frozen=True)
class Template:
    """The fixed byte layout of one tag's scalar records, so that a run of them is decoded as an array."""

    tag: str
    step_bytes: int  # 0: no step field (step 0)
    value_at: int
    width: int  # 4: float32, 8: float64
    tensor: bool
    metadata: bytes | None
    words: tuple[tuple[int, int, int], ...]  # (offset, mask, expected): uint64 words every record must match
    row_mask: tuple[int, ...]  # the same as whole rows: word i covers bytes 8i..8i+7 (bytes past the end: 0)
    row_expected: tuple[int, ...]


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
    fixed = bytearray(b"\xff" * n)
    fixed[1:9] = bytes(8)  # the wall time
    fixed[10 : 10 + step_bytes] = b"\x80" * step_bytes  # the step's continuation bits stay
    fixed[value_at : value_at + width] = bytes(width)
    mask = int.from_bytes(fixed, "little")
    expected = int.from_bytes(record, "little") & mask
    full = (1 << 64) - 1
    offsets = [*range(0, n - 7, 8), *([n - 8] if n % 8 else [])]
    words = tuple((o, (mask >> 8 * o) & full, (expected >> 8 * o) & full) for o in offsets if (mask >> 8 * o) & full)
    rows = range(0, n, 8)
    tag = record[pos + 6 : tag_end].decode("utf-8", "replace")
    return Template(
        tag,
        step_bytes,
        value_at,
        width,
        tensor,
        metadata,
        words,
        tuple((mask >> 8 * o) & full for o in rows),
        tuple((expected >> 8 * o) & full for o in rows),
    )


def decode_templates(
    buf: np.ndarray, *, starts: np.ndarray, lengths: np.ndarray, pending: np.ndarray | None, collector: Collector
) -> None:
    """Decode, into `collector`, the records numbered `pending` (all when None) that match a template."""
    import numpy as np

    known: dict[int, list[Template]] = {}  # templates by record length, the last one matched first
    count = len(starts) if pending is None else len(pending)
    if count < _MIN_RECORDS:
        return
    for a in range(0, count, _CHUNK):
        rows = np.arange(a, min(a + _CHUNK, count)) if pending is None else pending[a : a + _CHUNK]
        n = lengths[rows]
        fits = (n >= 16) & (n < _MAX_LENGTH) & (starts[rows] + (n + 7) // 8 * 8 <= len(buf))
        if not fits.all():
            rows, n = rows[fits], n[fits]
        order = np.argsort(n.astype(np.uint8), kind="stable")  # a radix sort; records keep their order
        rows, n = rows[order], n[order]
        bounds = [0, *(np.flatnonzero(n[1:] != n[:-1]) + 1).tolist(), len(rows)]
        for first, end in zip(bounds[:-1], bounds[1:]):
            if end - first < _MIN_GROUP:
                continue
            length = int(n[first])
            _decode_group(buf, starts, rows[first:end], length, known.setdefault(length, []), collector)


def _decode_group(
    buf: np.ndarray,
    starts: np.ndarray,
    rows: np.ndarray,
    length: int,
    known: list[Template],
    collector: Collector,
) -> None:
    """The records `rows`, all `length` bytes long: match them against templates and decode the matches."""
    import numpy as np

    width = (length + 7) // 8
    records = np.ndarray((len(buf) - 8 * width + 1,), dtype=f"V{8 * width}", buffer=buf, strides=(1,))
    table = records[starts[rows]].view("<u8").reshape(len(rows), width)  # copying whole records: one memcpy each
    left: np.ndarray | None = None  # rows of `table` not matched yet (None: all)
    for _ in range(_MAX_TEMPLATES):
        head = 0 if left is None else int(left[0])
        template = _find(known, table[head].tolist())
        if template is None:
            start = int(starts[rows[head]])
            template = template_of(bytes(buf[start : start + length]))
            if template is None:  # not in a writer's layout: left to `fields`
                left = np.arange(1, len(rows)) if left is None else left[1:]
                if not len(left):
                    return
                continue
        else:
            known.remove(template)
        known.insert(0, template)
        part = table if left is None else table[left]
        match = (part[:, 0] & np.uint64(template.row_mask[0])) == np.uint64(template.row_expected[0])
        for i in range(1, width):
            if template.row_mask[i]:
                match &= (part[:, i] & np.uint64(template.row_mask[i])) == np.uint64(template.row_expected[i])
        if match.all():
            hit, numbers = part, rows if left is None else rows[left]
            left = np.zeros(0, dtype=np.int64)
        else:
            where = np.flatnonzero(match)
            hit = part[where]
            numbers = rows[where] if left is None else rows[left[where]]
            left = np.flatnonzero(~match) if left is None else left[~match]
        _put(hit, numbers, template, collector)
        if not len(left):
            return


def _find(known: list[Template], row: list[int]) -> Template | None:
    """The first known template whose fixed bits `row` has."""
    for template in known:
        if all((w & m) == e for w, m, e in zip(row, template.row_mask, template.row_expected)):
            return template
    return None


def _put(table: np.ndarray, numbers: np.ndarray, t: Template, collector: Collector) -> None:
    """Wall time, step and value of rows that match `t`, out of their words."""
    import numpy as np

    wall = ((table[:, 0] >> np.uint64(8)) | (table[:, 1] << np.uint64(56))).view(np.float64)
    step: np.ndarray | int = 0
    if t.step_bytes:
        word = table[:, 1] >> np.uint64(16)
        if t.step_bytes > 6:
            word |= table[:, 2] << np.uint64(48)
        word = word.view(np.int64)
        step = word & 0x7F
        for b in range(1, t.step_bytes):
            step |= ((word >> (8 * b)) & 0x7F) << (7 * b)
    index, shift = divmod(t.value_at, 8)
    bits = table[:, index] >> np.uint64(8 * shift)
    if shift + t.width > 8:
        bits |= table[:, index + 1] << np.uint64(64 - 8 * shift)
    value = (bits & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32) if t.width == 4 else bits.view(np.float64)
    number = collector.tag_number(t.tag)
    collector.put(numbers, number, step, wall, value, t.tensor)
    collector.met(number, int(numbers[0]))
    if t.tensor and t.metadata:
        collector.plugin(number, int(numbers[0]), plugin_name(t.metadata))
