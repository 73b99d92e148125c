"""JSON documents cut off mid-write: keep every element that is complete, and say what was lost.

A `trainer_state.json` being copied, or written by a job that was killed, ends in the middle of its `log_history`.
`json.loads` then rejects the whole file, though every entry before the cut is intact. `load_json` reads such a
document member by member: the members of the top-level object (or the elements of a top-level array) that are
complete are kept, and when the cut falls inside a member that is an array, that array's complete elements are
kept too (an element cut in half is dropped whole, never kept in part). Anything else that does not parse is not a
cut but damage, and is an error like any other invalid JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


@dataclass
class Cut:
    """Where a cut-off document ends, and what of it was kept."""

    size: int  # characters in the document
    kept_up_to: int  # characters up to the end of the last complete element kept
    member: str | None = None  # the top-level key whose array the cut fell in, if any
    elements: int = 0  # complete elements kept of that array (or of a top-level array)
    keys: list[str] = field(default_factory=list)  # top-level keys read completely

    @property
    def lost(self) -> int:
        return self.size - self.kept_up_to


class NotCut(ValueError):
    """The document is damaged, not cut off at its end."""


def load_json(text: str) -> tuple[Any, Cut | None]:
    """The document, and None; or, for a document cut off before its end, what is complete and the `Cut`.

    Raises `json.JSONDecodeError` for a document that is invalid otherwise.
    """
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        stripped = text.rstrip(_SPACE)
        if not is_cut(stripped, error) or stripped.lstrip(_SPACE)[:1] not in ("{", "["):
            raise
        try:
            return _partial(stripped)
        except NotCut:
            raise error from None


def is_cut(text: str, error: json.JSONDecodeError) -> bool:
    """Whether the parser failed because the text ends (a string, literal or container left open), not because
    of something wrong inside it."""
    if error.pos >= len(text) or error.msg.startswith("Unterminated string"):
        return True
    rest = text[error.pos :]
    if all(c in "0123456789.eE+-" for c in rest):  # a number cut after its dot or exponent sign
        return True
    return any(word.startswith(rest) for word in ("true", "false", "null", "NaN", "Infinity", "-Infinity"))


def _partial(text: str) -> tuple[Any, Cut]:
    start = _skip(text, 0)
    if text[start] == "[":
        items, end = _elements(text, start)
        return items, Cut(len(text), end, None, len(items))
    found: dict[str, Any] = {}
    cut = Cut(len(text), start + 1)
    pos = start + 1
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            return found, cut
        try:
            key, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            return found, cut  # the cut falls in a key
        pos = _skip(text, pos)
        if pos >= len(text):
            return found, cut
        if not isinstance(key, str) or text[pos] != ":":
            raise NotCut
        pos = _skip(text, pos + 1)
        try:
            value, end = _decode(text, pos)
        except json.JSONDecodeError:
            if pos < len(text) and text[pos] == "[":
                items, end = _elements(text, pos)
                found[key] = items
                cut.member, cut.elements, cut.kept_up_to = key, len(items), end
            return found, cut
        found[key] = value
        cut.keys.append(key)
        cut.kept_up_to = end
        pos = _skip(text, end)
        if pos >= len(text):
            return found, cut
        if text[pos] != ",":
            raise NotCut
        pos += 1


def _elements(text: str, start: int) -> tuple[list[Any], int]:
    """The complete elements of the array opening at `start`, and where the last of them ends."""
    items: list[Any] = []
    pos, end = start + 1, start + 1
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            return items, end
        try:
            value, end_of = _decode(text, pos)
        except json.JSONDecodeError:
            return items, end  # the element the cut fell in
        items.append(value)
        end = end_of
        pos = _skip(text, end_of)
        if pos >= len(text):
            return items, end
        if text[pos] != ",":
            raise NotCut
        pos += 1


def _decode(text: str, pos: int) -> tuple[Any, int]:
    """One complete value at `pos`; a number the text ends right after may be cut (`50` of `500`): not complete."""
    value, end = _DECODER.raw_decode(text, pos)
    if end >= len(text) and isinstance(value, (int, float)) and not isinstance(value, bool):
        raise json.JSONDecodeError("a number at the cut", text, pos)
    return value, end


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos
