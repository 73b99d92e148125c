"""The byte layouts in which writers lay out a scalar event, for the templates of the array decoders.

Writers serialise fields in number order with one value per summary, so a scalar event is one of a few fixed byte
strings around its tag, wall time, step and value (see `decode`). `templates.template_of` turns a record in one of
them into a template, which `columns` and `templates` match against many records at once.
"""

from __future__ import annotations


def _word(pattern: bytes) -> tuple[int, int]:
    """(value, mask) comparing the first len(pattern) bytes of a little-endian uint64."""
    return int.from_bytes(pattern, "little"), (1 << (8 * len(pattern))) - 1


# tensor layouts: (value, mask), the number's offset from the tensor field's first byte, its width, the size
TENSOR_LAYOUTS = [
    (*_word(b"\x42\x0a\x08\x01\x12\x00\x2a\x04"), 8, 4, 12),  # summary_v2: DT_FLOAT, shape {}, float_val
    (*_word(b"\x42\x0a\x08\x01\x12\x00\x22\x04"), 8, 4, 12),  # TF2 C++: DT_FLOAT, shape {}, tensor_content
    (*_word(b"\x42\x08\x08\x01\x2a\x04"), 6, 4, 10),  # PyTorch new_style: DT_FLOAT, float_val
    (*_word(b"\x42\x0c\x08\x02\x32\x08"), 6, 8, 14),  # PyTorch double_precision: DT_DOUBLE, double_val
    (*_word(b"\x42\x0e\x08\x02\x12\x00\x32\x08"), 8, 8, 16),  # DT_DOUBLE, shape {}, double_val
    (*_word(b"\x42\x0e\x08\x02\x12\x00\x22\x08"), 8, 8, 16),  # DT_DOUBLE, shape {}, tensor_content
]
