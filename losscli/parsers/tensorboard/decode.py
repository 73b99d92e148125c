"""Decode the scalars of TensorBoard event records, nearly all of them with numpy array operations.

Writers lay a scalar event out in a few fixed ways (fields in number order, one value per summary):

    09 <wall_time f64> [10 <step varint>] 2a <len> 0a <len> 0a <tag len> <tag> <value>

where `<value>` is `15 <f32>` (`simple_value`: tensorboardX, PyTorch, Keras 1) or a scalar tensor
(`42 <len> 08 <dtype> [12 00] 2a 04 <f32>` from PyTorch `new_style` and tensorboard's `summary_v2`,
`... 22 04 <f32>` from TF2's C++ writer, and the float64 forms), optionally followed by `4a <len> <metadata>`.
Runs of records that repeat are decoded column by column through strided views (`columns`); the other
records in these layouts, records of one length at a time, as tables of 8-byte words matched against each tag's
template (`templates`). The rest go to the field-by-field numpy parser of `fields`, and what that cannot read to
protobuf (see there); every path applies the same rules. Text summaries wanted for the run's meta (the HF
Trainer's arguments) are read with the wire reader, so that a Trainer's run needs no protobuf import.

A value is a scalar when it is a `simple_value`, or a numeric tensor with exactly one element whose tag's
metadata names the plugin `scalars` or none. Strings, histograms, images, audio, and tensors of other plugins
(hparams, text, pr_curves, ...) are skipped. Tags are told apart by a 64-bit hash of their bytes (and length);
two different tags of one file would have to collide in all 64 bits to be merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from losscli.parsers.tensorboard.templates import decode_templates

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FileScalars", "decode_records"]
_TRAILING = 8  # the general decoder reads up to 8 bytes past a record's last byte
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
            pending = None
            if blocks:
                decode_blocks(buf, starts=starts, lengths=lengths, blocks=blocks, collector=collector)
                pending = collector.undecoded()
            if pending is None or len(pending):
                decode_templates(buf, starts=starts, lengths=lengths, pending=pending, collector=collector)
                pending = collector.undecoded()
            if len(pending):
                _decode_rest(buf, starts, lengths, pending, collector)
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

    numbers = np.arange(len(s)) if index is None else index
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
        elif kind[i] == SLOW:
            collector.add_slow(int(numbers[i]), record)
        elif collector.wants_text(record_tag(record)):
            collector.add_text(int(numbers[i]), record)


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
