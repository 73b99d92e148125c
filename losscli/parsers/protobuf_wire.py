"""The protobuf wire format, read by hand: the one walker both binary logs use for the few fields they need.

TensorBoard events are decoded with numpy templates (`tensorboard.decode`) and only a handful of fields are read
one message at a time (a record's tag, a plugin name, the file version); W&B's transaction log is read entirely
this way, because wandb's generated classes are not importable without the wandb package. A message is a sequence
of `key varint | value`, where the key is `field number << 3 | wire type`: 0 a varint, 1 eight bytes, 2 a
varint length then that many bytes, 5 four bytes. Unknown fields are skipped by their wire type, so messages
written by newer clients still read. Damage raises `ValueError` (never `IndexError`): callers turn it into a
warning about that one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def read_varint(buf: bytes, *, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the position after it."""
    result = shift = 0
    size = len(buf)
    while True:
        if pos >= size or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Yield `(field number, wire type, value)`: an int for varints, bytes for the other wire types."""
    pos, size = 0, len(buf)
    while pos < size:
        key = buf[pos]  # one-byte keys and lengths are the common case: read them inline
        if key < 0x80:
            pos += 1
        else:
            key, pos = read_varint(buf, pos=pos)
        number, wire = key >> 3, key & 7
        if wire == LENGTH_DELIMITED:
            if pos >= size:
                raise ValueError("truncated field")
            length = buf[pos]
            if length < 0x80:
                pos += 1
            else:
                length, pos = read_varint(buf, pos=pos)
            end = pos + length
            if end > size:
                raise ValueError("truncated field")
            yield number, wire, buf[pos:end]
            pos = end
            continue
        value: Any
        if wire == VARINT:
            value, pos = read_varint(buf, pos=pos)
        elif wire in (FIXED64, FIXED32):
            end = pos + (8 if wire == FIXED64 else 4)
            value, pos = buf[pos:end], end
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > size:
            raise ValueError("truncated field")
        yield number, wire, value


def first_field(buf: bytes, *, number: int) -> bytes | None:
    """The first length-delimited field `number` of a message, or None when it has none."""
    for found, wire, value in fields(buf):
        if found == number and wire == LENGTH_DELIMITED:
            return bytes(value)
    return None


def signed(value: int) -> int:
    """A 64-bit two's complement varint (`int64` fields) as a Python int."""
    return value - (1 << 64) if value >= 1 << 63 else value


def zigzag(value: int) -> int:
    """A `sint64` field's varint as a Python int."""
    return (value >> 1) ^ -(value & 1)
