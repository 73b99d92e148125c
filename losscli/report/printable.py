"""Text from the user's disk made safe to print, the same way in every output.

A folder name that is not valid UTF-8 reaches Python as a string with lone surrogates (`os.fsdecode`), which no
UTF-8 writer accepts; a name may also hold a newline, a tab or a terminal escape sequence. Every reporter (the
table, JSON, JSON Lines, CSV, HTML, the messages on stderr) shows such characters as backslash escapes: the
undecodable byte 0xff as `\\xff`, a newline as `\\n`, ESC as `\\x1b`. One function, so that a name reads the same
in every output and can be searched for in any of them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, surrogates, line and paragraph separators


def printable(text: str) -> str:
    """`text` with undecodable bytes and control characters written as backslash escapes."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE else c for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable_values(value: Any) -> Any:
    """`value` (JSON-like: dicts, lists, tuples, scalars) with every string, key included, made printable."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_values(k): printable_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_values(v) for v in value]
    return value
