"""The general decoders of event records: a field-by-field numpy parser, and the protobuf rules it follows.

`decode_general` follows each record's protobuf fields with arrays of offsets, for the records the word
templates of `decode` do not match: other tensor types (int, half, bool, tensor_content of any
numeric type), metadata on simple values, multi-byte lengths, non-summary events. What even this cannot read
(several values in one summary, shaped one-element tensors, negative integers, fields out of order, junk) is
marked SLOW and parsed by protobuf, one record at a time, under `tensor_scalar`'s rule: a numeric tensor with
exactly one element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.parsers.protobuf_wire import first_field

if TYPE_CHECKING:
    import numpy as np

# Kinds of record
SKIP, SCALAR, SLOW, VERSION, TEXT = 0, 1, 2, 3, 4

# TensorFlow DataType -> (tensor_content item size, the repeated field that holds values without
# tensor_content)
DTYPES: dict[int, tuple[int, str]] = {
    1: (4, "float_val"),
    2: (8, "double_val"),
    3: (4, "int_val"),
    4: (1, "int_val"),
    5: (2, "int_val"),
    6: (1, "int_val"),
    9: (8, "int64_val"),
    10: (1, "bool_val"),
    14: (2, "half_val"),
    17: (2, "int_val"),
    19: (2, "half_val"),
    22: (4, "uint32_val"),
    23: (8, "uint64_val"),
}
_CONTENT_TYPES = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    9: "<i8",
    10: "u1",
    17: "<u2",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}
DT_STRING = 7
_DT_BFLOAT16 = 14
_DT_HALF = 19
_DT_BOOL = 10
# value field byte -> repeated field, for the varint-encoded ones (packed and not)
_VARINT_FIELDS = {
    0x3A: "int_val",
    0x52: "int64_val",
    0x6A: "half_val",
    0x5A: "bool_val",
    0x38: "int_val",
    0x50: "int64_val",
    0x68: "half_val",
    0x58: "bool_val",
}
_NON_SCALAR_VALUES = (0x1A, 0x22, 0x2A, 0x32)  # Summary.Value histogram (old style), image, histo, audio
_OTHER_EVENTS = (0x22, 0x32, 0x3A, 0x42, 0x4A)  # graph, log message, session log, run metadata, meta graph


class Views:
    """Unaligned views of one buffer: `views.u64[i]` is the little-endian uint64 stored at byte `i`."""

    def __init__(self, buf: np.ndarray) -> None:
        from losscli.parsers.tensorboard.records import unaligned

        self.u8 = buf
        self.u32 = unaligned(buf, "<u4")
        self.u64 = unaligned(buf, "<u8")
        self.f32 = unaligned(buf, "<f4")
        self.f64 = unaligned(buf, "<f8")


def decode_general(v: Views, s: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    """Decode the records with data in [s, e): arrays kind, step, wall, value, tensor, tag_start, tag_len,
    meta."""
    import numpy as np

    buf = v.u8
    last = np.maximum(e - 1, s)

    def at(pos: np.ndarray) -> np.ndarray:
        return np.minimum(pos, last)

    def varint(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _varint(v.u64, at(pos))

    n = len(s)
    kind = np.full(n, SLOW, dtype=np.int8)
    ok = (e - s >= 10) & (buf[s] == 0x09)
    wall = v.f64[s + 1]
    c = s + 9
    has_step = buf[at(c)] == 0x10
    step, size, good = varint(c + 1)
    ok &= good | ~has_step
    step = np.where(has_step, step, 0).astype(np.int64)
    c = np.where(has_step, c + 1 + size, c)
    what = buf[at(c)]
    kind[ok & _any_of(what, _OTHER_EVENTS)] = SKIP
    kind[ok & (what == 0x1A)] = VERSION
    ok &= what == 0x2A
    # a Summary with one Value that fills it, its tag first
    for _ in range(2):
        length, size, good = varint(c + 1)
        c = c + 1 + size
        ok &= good & (c + length.astype(np.int64) == e) & (buf[at(c)] == 0x0A)
    length, size, good = varint(c + 1)
    tag_start = c + 1 + size
    tag_len = length.astype(np.int64)
    tag_end = tag_start + tag_len
    ok &= good & (tag_end < e)
    what = buf[at(tag_end)]
    kind[ok & _any_of(what, _NON_SCALAR_VALUES)] = SKIP
    value = np.full(n, np.nan)
    simple = ok & (what == 0x15) & (tag_end + 5 <= e)
    value[simple] = v.f32[at(tag_end + 1)][simple]
    kind[simple] = SCALAR
    tensor = ok & (what == 0x42)
    meta = np.full(n, -1, dtype=np.int64)
    if tensor.any():
        rows = np.flatnonzero(tensor)
        kind[rows], value[rows], meta[rows] = _decode_tensors(v, tag_end[rows], e[rows], last[rows])
    return {
        "kind": kind,
        "step": step,
        "wall": wall,
        "value": value,
        "tensor": tensor,
        "tag_start": tag_start,
        "tag_len": tag_len,
        "meta": meta,
    }


def _varint(u64: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Varints at `pos`, up to 8 bytes long: (value as uint64, byte count, whether they end within 8)."""
    import numpy as np

    word = u64[pos]
    value = word & np.uint64(0x7F)
    size = np.ones(len(pos), dtype=np.int64)
    going = (word & np.uint64(0x80)) != 0
    for k in range(1, 8):
        if not going.any():
            break
        byte = (word >> np.uint64(8 * k)) & np.uint64(0xFF)
        value |= np.where(going, (byte & np.uint64(0x7F)) << np.uint64(7 * k), np.uint64(0))
        size += going
        going &= (byte & np.uint64(0x80)) != 0
    return value, size, ~going


def _decode_tensors(
    v: Views, at_tensor: np.ndarray, e: np.ndarray, last: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For Values whose tensor field starts at `at_tensor`: (kind, value, offset of the metadata or -1)."""
    import numpy as np

    buf = v.u8

    def at(pos: np.ndarray) -> np.ndarray:
        return np.minimum(pos, last)

    def varint(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _varint(v.u64, at(pos))

    n = len(at_tensor)
    length, size, ok = varint(at_tensor + 1)
    q0 = at_tensor + 1 + size
    q1 = q0 + length.astype(np.int64)
    ok &= q1 <= e
    # after the tensor: nothing, or the metadata up to the end of the value
    has_meta = q1 < e
    m_length, size, good = varint(q1 + 1)
    ok &= ~has_meta | ((buf[at(q1)] == 0x4A) & good & (q1 + 1 + size + m_length.astype(np.int64) == e))
    meta = np.where(has_meta, q1, -1)
    # dtype, then an optional shape
    ok &= buf[at(q0)] == 0x08
    dtype, size, good = varint(q0 + 1)
    ok &= good
    dtype = np.where(dtype < np.uint64(64), dtype, np.uint64(0)).astype(np.int64)
    k = q0 + 1 + size
    has_shape = buf[at(k)] == 0x12
    s_length, size, good = varint(k + 1)
    ok &= good | ~has_shape
    shaped = has_shape & (s_length != 0)
    k = np.where(has_shape, k + 1 + size + s_length.astype(np.int64), k)
    # the one value field
    vf = buf[at(k)]
    p_length, size, good = varint(k + 1)
    payload = k + 1 + size
    p_length = p_length.astype(np.int64)
    packed_end = payload + p_length
    count = np.zeros(n, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    value = np.full(n, np.nan)
    field_ok = np.zeros(n, dtype=bool)
    for byte, dt, width, packed in (
        (0x2A, 1, 4, True),
        (0x2D, 1, 4, False),
        (0x32, 2, 8, True),
        (0x31, 2, 8, False),
    ):
        rows = (vf == byte) & (dtype == dt) & (good | (not packed))
        if not rows.any():
            continue
        start = payload if packed else k + 1
        view = v.f32 if width == 4 else v.f64
        value[rows] = view[at(start)][rows]
        if packed:
            count[rows] = (p_length // width)[rows]
            end[rows] = np.where(p_length % width == 0, packed_end, -1)[rows]
        else:
            count[rows] = 1
            end[rows] = (k + 1 + width)[rows]
        field_ok |= rows
    content = (vf == 0x22) & good
    if content.any():
        itemsize = np.zeros(64, dtype=np.int64)
        for dt, (width, _) in DTYPES.items():
            itemsize[dt] = width
        width = np.maximum(itemsize[dtype], 1)
        content &= itemsize[dtype] > 0
        count[content] = (p_length // width)[content]
        end[content] = np.where(p_length % width == 0, packed_end, -1)[content]
        word = v.u64[at(payload)]
        for dt in np.flatnonzero(np.bincount(dtype[content], minlength=64)).tolist():
            rows = content & (dtype == dt)
            value[rows] = _from_word(word[rows], dt)
        field_ok |= content
    for byte, name in _VARINT_FIELDS.items():
        rows = vf == byte
        if not rows.any():
            continue
        packed = byte & 7 == 2
        start = payload if packed else k + 1
        number, size, fits = varint(start)
        rows &= _field_matches(dtype, name) & fits & (good | (not packed))
        value[rows] = _from_varint(number[rows], dtype[rows])
        if packed:
            count[rows] = np.where(size == p_length, 1, 2)[rows]
            end[rows] = packed_end[rows]
        else:
            count[rows] = 1
            end[rows] = (start + size)[rows]
        field_ok |= rows
    kind = np.full(n, SLOW, dtype=np.int8)
    whole = ok & field_ok & (end == q1)
    kind[whole & ~shaped & (count == 1)] = SCALAR
    kind[whole & (count != 1)] = SKIP
    kind[ok & (dtype == DT_STRING)] = TEXT
    return kind, value, meta


def _field_matches(dtype: np.ndarray, name: str) -> np.ndarray:

    return _any_of(dtype, [dt for dt, (_, field_name) in DTYPES.items() if field_name == name])


def _any_of(values: np.ndarray, wanted: Any) -> np.ndarray:
    """np.isin for a few wanted values, without the import of numpy.ma that np.isin may cost."""
    import numpy as np

    out = np.zeros(len(values), dtype=bool)
    for item in wanted:
        out |= values == item
    return out


def _from_word(word: np.ndarray, dt: int) -> np.ndarray:
    """The first element of a tensor_content of type `dt`, from the 8 bytes at its start."""
    import numpy as np

    if dt == _DT_BFLOAT16:
        bits = ((word & np.uint64(0xFFFF)) << np.uint64(16)).astype(np.uint32)
        return bits.view(np.float32).astype(np.float64)
    code = np.dtype(_CONTENT_TYPES[dt])
    if code.itemsize < 8:
        word = (word & np.uint64((1 << (8 * code.itemsize)) - 1)).astype(f"<u{code.itemsize}")
    return word.view(code.newbyteorder("=")).astype(np.float64)


def _from_varint(number: np.ndarray, dtype: np.ndarray) -> np.ndarray:
    """int_val / int64_val / bool_val / half_val values read as unsigned varints (negative ones: protobuf)."""
    import numpy as np

    out = number.astype(np.float64)
    half = dtype == _DT_HALF
    if half.any():
        out[half] = (number[half] & np.uint64(0xFFFF)).astype(np.uint16).view(np.float16).astype(np.float64)
    bf16 = dtype == _DT_BFLOAT16
    if bf16.any():
        bits = ((number[bf16] & np.uint64(0xFFFF)) << np.uint64(16)).astype(np.uint32)
        out[bf16] = bits.view(np.float32).astype(np.float64)
    boolean = dtype == _DT_BOOL
    out[boolean] = (number[boolean] != 0).astype(np.float64)
    return out


def parse_event(record: bytes) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event.FromString(record)


def tensor_scalar(tensor: Any) -> float | None:
    """The value of a numeric TensorProto with exactly one element, else None (the rule both paths follow)."""
    import numpy as np

    spec = DTYPES.get(tensor.dtype)
    if spec is None:
        return None
    elements = 1
    for dim in tensor.tensor_shape.dim:
        elements *= dim.size
    if tensor.tensor_shape.unknown_rank or elements != 1:
        return None
    width, name = spec
    if tensor.tensor_content:
        if len(tensor.tensor_content) != width:
            return None
        if tensor.dtype == _DT_BFLOAT16:
            return _bfloat16(int.from_bytes(tensor.tensor_content, "little"))
        return float(np.frombuffer(tensor.tensor_content, dtype=_CONTENT_TYPES[tensor.dtype])[0])
    values = getattr(tensor, name)
    if len(values) != 1:
        return None
    raw = values[0]
    if name == "half_val":
        if tensor.dtype == _DT_BFLOAT16:
            return _bfloat16(raw)
        return float(np.frombuffer((raw & 0xFFFF).to_bytes(2, "little"), dtype="<f2")[0])
    return float(raw)


def _bfloat16(bits: int) -> float:
    import numpy as np

    return float(np.frombuffer(((bits & 0xFFFF) << 16).to_bytes(4, "little"), dtype="<f4")[0])


def plugin_name(metadata: bytes) -> str:
    """plugin_data.plugin_name of a serialized Summary.Value field 9 (tag byte included); '' when absent."""
    try:
        summary_metadata = first_field(metadata, number=9)
        plugin_data = first_field(summary_metadata, number=1) if summary_metadata is not None else None
        name = first_field(plugin_data, number=1) if plugin_data is not None else None
    except ValueError:
        return ""
    return name.decode("utf-8", "replace") if name is not None else ""


def record_tag(record: bytes) -> str:
    """The first value's tag of a serialized Event with a summary ('' if it has none)."""
    try:
        summary = first_field(record, number=5)
        value = first_field(summary, number=1) if summary is not None else None
        tag = first_field(value, number=1) if value is not None else None
    except ValueError:
        return ""
    return tag.decode("utf-8", "replace") if tag is not None else ""
