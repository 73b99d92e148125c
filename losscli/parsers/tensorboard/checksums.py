"""The CRC-32C checks of TFRecord framing: TensorFlow's masked CRC, the length CRCs of many headers at once, and
the data CRCs of every record at once.

Length CRCs depend only on the length, and a file has few distinct lengths: they are kept in a table, computed
once per length per process, so that `records` checks the headers of a whole window with one lookup.

Data CRCs are checked all at once. CRC-32C is affine in its input: in a copy of the records in which every
header is zeroed (the framing checked it) and every stored data CRC is replaced by `unmasked CRC xor CRC of that
many zero bytes`, a stretch of intact records has the CRC of as many zero bytes, which is to say that the CRC
register started at zero stays zero through it: one pass of Google's C CRC-32C per few MB. A stretch that does
not is halved until the damaged records are found. (Damage in two records that cancels exactly passes, a 1 in
2**32 chance, the same odds as a damaged record passing its own check.)
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

HEADER = 12  # length + length CRC
_MASK_DELTA = 0xA282EAD8
_CRC_STRETCH = 4 << 20  # bytes of records checked with one CRC call
_LENGTH_TABLE = 1 << 16


def masked_crc(data: Any) -> int:
    """TensorFlow's masked CRC-32C of `data` (bytes or a contiguous numpy array)."""
    import google_crc32c

    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def length_crc(length: int) -> int:
    """The masked CRC a record header stores after its length."""
    return masked_crc(struct.pack("<Q", length))


_length_table: list[np.ndarray] = []  # [CRC of each length, whether it is computed yet], kept for the next file


def length_crcs(lengths: np.ndarray) -> np.ndarray:
    """`length_crc` of each of `lengths` (int64, none negative), from the table."""
    import numpy as np

    if not _length_table:
        _length_table[:] = [np.zeros(_LENGTH_TABLE, dtype=np.uint32), np.zeros(_LENGTH_TABLE, dtype=bool)]
    table, known = _length_table
    small = np.minimum(lengths, _LENGTH_TABLE - 1)
    wanted = np.zeros(_LENGTH_TABLE, dtype=bool)
    wanted[small] = True
    for length in np.flatnonzero(wanted & ~known).tolist():
        table[length], known[length] = length_crc(length), True
    out = table[small]
    for i in np.flatnonzero(lengths >= _LENGTH_TABLE - 1).tolist():
        out[i] = length_crc(int(lengths[i]))
    return out


def damaged(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, *, gaps: bool = True) -> np.ndarray:
    """Which records' data CRC does not match (module docstring). Their headers were checked while framing
    them, so here they count as zeros. Without `gaps`, each record starts where the one before it ends."""
    import google_crc32c
    import numpy as np

    begins = starts - HEADER
    ends = starts + lengths + 4
    bad = np.zeros(len(starts), dtype=bool)
    # stretches of adjacent records, each at most _CRC_STRETCH bytes (a bigger record is a stretch of its own)
    cuts = np.searchsorted(begins, np.arange(int(begins[0]), int(ends[-1]), _CRC_STRETCH)[1:])
    if gaps:
        cuts = np.concatenate((cuts, np.flatnonzero(begins[1:] != ends[:-1]) + 1))
    bounds = [0, *sorted({c for c in cuts.tolist() if 0 < c < len(starts)}), len(starts)]
    longest = max(int(ends[j - 1] - begins[i]) for i, j in zip(bounds[:-1], bounds[1:]))
    scratch = np.empty(longest, dtype=np.uint8)
    extend = google_crc32c.extend

    def check(first: int, last: int, base: int) -> None:
        lo, hi = int(begins[first]) - base, int(ends[last - 1]) - base
        if extend(0xFFFFFFFF, scratch[lo:hi]) == 0xFFFFFFFF:  # CRC from a zero state stays zero: all intact
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
        at = begins[first:last] - base
        np.ndarray((span - 7,), dtype="<u8", buffer=scratch, strides=(1,))[at] = 0  # the length
        words = np.ndarray((span - 3,), dtype="<u4", buffer=scratch, strides=(1,))  # the uint32 at each byte
        words[at + 8] = 0  # the length CRC
        slots = at + HEADER + lengths[first:last]
        words[slots] = _unmask(words[slots]) ^ _zero_crcs(lengths[first:last])
        check(first, last, base)
    return bad


def _unmask(masked: np.ndarray) -> np.ndarray:
    import numpy as np

    rotated = masked - np.uint32(_MASK_DELTA)
    return (rotated >> np.uint32(17)) | (rotated << np.uint32(15))


_zero_table: list[np.ndarray] = []  # [CRC-32C of n zero bytes, whether it is computed yet], kept for the next file


def _zero_crcs(lengths: np.ndarray) -> np.ndarray:
    """The CRC-32C of as many zero bytes as each of `lengths`, from the table."""
    import google_crc32c
    import numpy as np

    if not _zero_table:
        _zero_table[:] = [np.zeros(_LENGTH_TABLE, dtype=np.uint32), np.zeros(_LENGTH_TABLE, dtype=bool)]
    table, known = _zero_table
    small = np.minimum(lengths, _LENGTH_TABLE - 1)
    wanted = np.zeros(_LENGTH_TABLE, dtype=bool)
    wanted[small] = True
    for length in np.flatnonzero(wanted & ~known).tolist():
        table[length], known[length] = google_crc32c.value(bytes(length)), True
    out = table[small]
    for i in np.flatnonzero(lengths >= _LENGTH_TABLE - 1).tolist():
        out[i] = google_crc32c.value(bytes(int(lengths[i])))
    return out
