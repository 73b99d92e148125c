"""Decode the scalars of TensorBoard event records, nearly all of them with numpy array operations.

Writers lay a scalar event out in a few fixed ways (fields in number order, one value per summary):

    09 <wall_time f64> [10 <step varint>] 2a <len> 0a <len> 0a <tag len> <tag> <value>

where `<value>` is `15 <f32>` (`simple_value`: tensorboardX, PyTorch, Keras 1) or a scalar tensor
(`42 <len> 08 <dtype> [12 00] 2a 04 <f32>` from PyTorch `new_style` and tensorboard's `summary_v2`,
`... 22 04 <f32>` from TF2's C++ writer, and the float64 forms), optionally followed by `4a <len> <metadata>`.
Runs of records that repeat are decoded column by column through strided views (`columns`). Other
records in these layouts are matched by comparing 8-byte words at computed offsets for all records at once, in
chunks that fit the CPU cache. The rest go to the field-by-field numpy parser of `fields`, and what
that cannot read to protobuf (see there); every path applies the same rules.

A value is a scalar when it is a `simple_value`, or a numeric tensor with exactly one element whose tag's
metadata names the plugin `scalars` or none. Strings, histograms, images, audio, and tensors of other plugins
(hparams, text, pr_curves, ...) are skipped. Tags are told apart by a 64-bit hash of their bytes (and length);
two different tags of one file would have to collide in all 64 bits to be merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.parsers.tensorboard.collect import Collector, FileScalars
from losscli.parsers.tensorboard.columns import decode_blocks
from losscli.parsers.tensorboard.fields import (
    SCALAR,
    SLOW,
    TEXT,
    VERSION,
    Views,
    decode_general,
    plugin_name,
    record_tag,
)
from losscli.parsers.tensorboard.layouts import SUMMARY_HEAD, SUMMARY_MASK, TENSOR_LAYOUTS

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FileScalars", "decode_records"]
_CHUNK = 1 << 16
_TRAILING = 8  # the word matching reads up to 8 bytes past a record's last byte
_LEADING = 24  # and up to 24 bytes from its first, whatever its length


_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)


def decode_records(
    buf: np.ndarray,
    *,
    starts: np.ndarray,
    lengths: np.ndarray,
    text_tags: tuple[str, ...] = (),
    blocks: list[tuple[int, int, int]] | None = None,
    known_plugins: dict[str, str] | None = None,
) -> FileScalars:
    """The scalars of the records whose data start at `starts`; the first text of the `text_tags` summaries.

    `blocks` are the framing's runs of repeating records (`Framing.blocks`), decoded column by column.
    `known_plugins` are the plugins earlier records of the same file named (`FileScalars.plugins`), for records
    read after them.
    """
    import numpy as np

    collector = Collector(len(starts), text_tags, known_plugins)
    with np.errstate(all="ignore"):  # junk bytes make signalling NaNs; they are values like any other
        if len(starts):
            rest = None
            if blocks:
                done = decode_blocks(buf, starts=starts, lengths=lengths, blocks=blocks, collector=collector)
                rest = np.flatnonzero(~done) if done.any() else None
            _decode_rest(buf, starts, lengths, rest, collector)
    return collector.finish()


def _decode_rest(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, rest: np.ndarray | None, collector: Collector
) -> None:
    """Decode the records numbered `rest` (all when None)."""
    import numpy as np

    if rest is not None:
        if not len(rest):
            return
        starts, lengths = starts[rest], lengths[rest]
    ends = starts + lengths
    near_end = np.maximum(ends + _TRAILING, starts + _LEADING) > len(buf)
    if not near_end.any():
        _decode(Views(buf), starts, ends, rest, collector)
        return
    inner = np.flatnonzero(~near_end)
    _decode(Views(buf), starts[inner], ends[inner], inner if rest is None else rest[inner], collector)
    for i in np.flatnonzero(near_end).tolist():  # copied into a padded buffer of their own
        start, length = int(starts[i]), int(lengths[i])
        padded = np.zeros(length + _TRAILING + _LEADING, dtype=np.uint8)
        padded[:length] = buf[start : start + length]
        zero = np.zeros(1, dtype=np.int64)
        _decode(Views(padded), zero, zero + length, np.asarray([i if rest is None else rest[i]]), collector)


def _decode(v: Views, s: np.ndarray, e: np.ndarray, index: np.ndarray | None, collector: Collector) -> None:
    """Decode the records with data in [s, e), numbered `index` (or 0, 1, ... when None), into `collector`."""
    import numpy as np

    leftovers = []
    for a in range(0, len(s), _CHUNK):
        numbers = index[a : a + _CHUNK] if index is not None else None
        left = _match_words(v, s[a : a + _CHUNK], e[a : a + _CHUNK], a, numbers, collector)
        if len(left):
            leftovers.append(left + a)
    if not leftovers:
        return
    rest = np.concatenate(leftovers)
    s, e = s[rest], e[rest]
    numbers = rest if index is None else index[rest]
    general = decode_general(v, s, e)
    kind = general["kind"]
    rows = np.flatnonzero(kind == SCALAR)
    if len(rows):
        keys = _tag_hash(v.u64, general["tag_start"][rows], general["tag_len"][rows])
        ids = _tag_ids(collector, keys, v.u8, s[rows], e[rows], numbers[rows])
        tensor = general["tensor"][rows]
        step, wall, value = general["step"][rows], general["wall"][rows], general["value"][rows]
        collector.put(numbers[rows], ids, step, wall, value, tensor)
        _note_plugins(collector, ids, tensor, general["meta"][rows], v.u8, e[rows], numbers[rows])
    for i in np.flatnonzero((kind == SLOW) | (kind == VERSION) | (kind == TEXT)).tolist():
        record = bytes(v.u8[s[i] : e[i]])
        if kind[i] == VERSION:
            collector.version(record)
        elif kind[i] != TEXT or collector.wants_text(record_tag(record)):
            collector.add_slow(int(numbers[i]), record)


def _match_words(
    v: Views, s: np.ndarray, e: np.ndarray, a: int, numbers: np.ndarray | None, collector: Collector
) -> np.ndarray:
    """Decode one chunk of records laid out as writers do (module docstring); return the rows left over."""
    import numpy as np

    u64 = v.u64
    last = e - 1
    w0 = u64[s]
    w1 = u64[s + 8]
    ok = ((w0 & np.uint64(0xFF)) == 0x09) & (e - s >= 16)
    wall = ((w0 >> np.uint64(8)) | (w1 << np.uint64(56))).view(np.float64)
    # the step: a varint of up to 4 bytes here
    has_step = ((w1 >> np.uint64(8)) & np.uint64(0xFF)) == 0x10
    word = (w1 >> np.uint64(16)).view(np.int64)
    c1 = (word >> 7) & 1
    c2 = c1 & (word >> 15)
    c3 = c2 & (word >> 23)
    ok &= ~has_step | ((c3 & (word >> 31) & 1) == 0)
    size = 1 + c1 + c2 + c3
    packed = (word & 0x7F) | ((word >> 1) & 0x3F80) | ((word >> 2) & 0x1FC000) | ((word >> 3) & 0xFE00000)
    step = np.where(has_step, packed & ((1 << (7 * size)) - 1), 0)
    c = s + 9 + has_step * (1 + size)
    # summary, value and tag lengths
    head = u64[np.minimum(c, last)]
    ok &= (head & np.uint64(SUMMARY_MASK)) == np.uint64(SUMMARY_HEAD)
    head = head.view(np.int64)
    summary_len = (head >> 8) & 0x7F
    tag_len = (head >> 40) & 0x7F
    ok &= (c + 2 + summary_len == e) & (((head >> 24) & 0x7F) + 2 == summary_len)
    tag_start = c + 6
    tag_end = tag_start + tag_len
    x = u64[np.minimum(tag_end, last)]
    low = x & np.uint64(0xFF)
    scalar = ok & (low == 0x15) & (tag_end + 5 == e)
    value = ((x >> np.uint64(8)) & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.float32)
    value = value.astype(np.float64)
    tensor = ok & (low == 0x42)
    meta = None
    if tensor.any():
        tensor, meta = _match_tensors(v, x, tensor, tag_end, e, last, value)
        scalar |= tensor
    every = bool(scalar.all())
    rows: Any = slice(None) if every else np.flatnonzero(scalar)
    if every or len(rows):
        keys = _tag_hash(u64, tag_start[rows], tag_len[rows])
        if numbers is not None:
            record: Any = numbers[rows]
        else:
            record = slice(a, a + len(s)) if every else rows + a
        where = np.arange(a, a + len(s))[rows] if isinstance(record, slice) else record
        ids = _tag_ids(collector, keys, v.u8, s[rows], e[rows], where)
        collector.put(record, ids, step[rows], wall[rows], value[rows], tensor[rows])
        if meta is not None:
            _note_plugins(collector, ids, tensor[rows], meta[rows], v.u8, e[rows], where)
    return np.flatnonzero(~scalar) if not every else np.zeros(0, dtype=np.int64)


def _match_tensors(
    v: Views,
    x: np.ndarray,
    candidates: np.ndarray,
    tag_end: np.ndarray,
    e: np.ndarray,
    last: np.ndarray,
    value: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose tensor is one of `TENSOR_LAYOUTS` (their numbers written into `value`), and where their
    metadata starts."""
    import numpy as np

    tensor = np.zeros(len(x), dtype=bool)
    meta = np.full(len(x), -1, dtype=np.int64)
    for pattern, mask, offset, width, size in TENSOR_LAYOUTS:
        hit = candidates & ((x & np.uint64(mask)) == np.uint64(pattern))
        if not hit.any():
            continue
        end = tag_end + size
        meta_len = v.u8[np.minimum(end + 1, last)].astype(np.int64)
        has_meta = (v.u8[np.minimum(end, last)] == 0x4A) & (meta_len < 0x80) & (end + 2 + meta_len == e)
        hit &= (end == e) | has_meta
        rows = np.flatnonzero(hit)
        view = v.f32 if width == 4 else v.f64
        value[rows] = view[np.minimum(tag_end[rows] + offset, last[rows])]
        tensor[rows] = True
        meta[rows] = np.where(has_meta, end, -1)[rows]
    return tensor, meta


def _tag_hash(u64: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """A 64-bit key of each tag's bytes and length, for tags inside records (exact input up to 16 bytes; every
    byte of longer tags is mixed in too)."""
    import numpy as np

    mix = [np.uint64(m) for m in _MIX]
    first = u64[start]
    if int(length.min(initial=8)) < 8:
        drop = ((8 - np.clip(length, 1, 8)) * 8).astype(np.uint64)
        first = np.where(length > 0, (first << drop) >> drop, np.uint64(0))
    key = (first * mix[0]) ^ (length.astype(np.uint64) * mix[2])
    longest = int(length.max(initial=0))
    if longest > 8:
        tail = u64[start + np.maximum(length - 8, 0)]
        key ^= (tail if int(length.min()) > 8 else np.where(length > 8, tail, np.uint64(0))) * mix[1]
    if longest > 16:
        middle = u64[start + 8]
        key ^= (middle if int(length.min()) > 16 else np.where(length > 16, middle, np.uint64(0))) * mix[3]
        for offset in range(16, longest - 8, 8):
            rows = np.flatnonzero(length - 8 > offset)
            key[rows] = (key[rows] ^ u64[start[rows] + offset]) * mix[3]
    return key


def _tag_ids(
    collector: Collector, keys: np.ndarray, buf: np.ndarray, s: np.ndarray, e: np.ndarray, records: np.ndarray
) -> np.ndarray:
    """Tag numbers for tag hashes (a hash met for the first time is named from its record), noting where each
    tag is first met; `records` are the rows' record numbers."""
    import numpy as np

    known = collector.key_numbers
    ids = np.full(len(keys), -1, dtype=np.int32)
    if 0 < len(known) <= 64:
        for key, number in known.items():
            hit = keys == np.uint64(key)
            first = int(np.argmax(hit))
            if hit[first]:
                ids[hit] = number
                collector.met(number, int(records[first]))
        missing = np.flatnonzero(ids < 0)
    else:
        missing = np.arange(len(keys))
    if len(missing):
        uniques, firsts, inverse = _unique_first(keys[missing])
        numbers = np.empty(len(uniques), dtype=np.int32)
        for j in np.argsort(firsts).tolist():  # new tags numbered in the order they are met
            row = int(missing[firsts[j]])
            found = known.get(int(uniques[j]))
            if found is None:
                found = known[int(uniques[j])] = collector.tag_number(record_tag(bytes(buf[s[row] : e[row]])))
            collector.met(found, int(records[row]))
            numbers[j] = found
        ids[missing] = numbers[inverse]
    return ids


def _unique_first(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(keys, return_index=True, return_inverse=True), without the import of numpy.ma it costs."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], order[starts], inverse


def _note_plugins(
    collector: Collector,
    ids: np.ndarray,
    tensor: np.ndarray,
    meta: np.ndarray,
    buf: np.ndarray,
    e: np.ndarray,
    record: np.ndarray,
) -> None:
    """Read the plugin name of tags not seen with metadata yet, from one tensor record of each."""
    import numpy as np

    rows = np.flatnonzero(tensor & (meta >= 0))
    if not len(rows):
        return
    for number in np.flatnonzero(np.bincount(ids[rows])).tolist():
        if number in collector.plugins:
            continue
        row = int(rows[np.argmax(ids[rows] == number)])
        collector.plugin(number, int(record[row]), plugin_name(bytes(buf[meta[row] : e[row]])))
