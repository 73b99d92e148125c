"""A big JSON document's one big array of objects, parsed a piece at a time.

A long run's `trainer_state.json` is nearly all one member: its `log_history` list of small dicts. Parsed whole,
that list takes several times the file's size in memory before a single point is kept. `load_in_pieces` hands the
list over a few MB at a time instead: it cuts the array between two of its objects (at a `}`, `,`, `{`; a cut
that falls inside a string or a nested object leaves a piece that does not parse, and the next such place is
tried) and parses each piece on its own, by orjson (several times faster than the json module, and a dependency
for that reason) or, where orjson refuses, by the json module (the bare NaN and Infinity that Python's json writes
for a diverged loss). The rest of the document is parsed with the array left empty.

A piece that parses as `[` + piece + `]` holds exactly the elements the whole array holds there, so the pieces
give what parsing the whole document gives. Anything else (no such member at the top level, a document cut off
or invalid) raises `NotInPieces` before or while handing pieces over, and the caller reads the document whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

PIECE = 4 << 20  # bytes parsed at once
_TRIES = 64  # cuts tried for one piece before giving up
_BETWEEN = re.compile(rb"\}\s*,\s*\{")
_DECODER = json.JSONDecoder()


class NotInPieces(ValueError):
    """The document cannot be read in pieces; read it whole."""


def load_in_pieces(
    raw: bytes, *, member: str, take: Callable[[list[Any]], None], piece: int | None = None
) -> dict[str, Any]:
    """Parse `raw`, a JSON object (UTF-8, no BOM), handing the elements of its array `member` to `take`, a list
    at a time in order (about `piece` bytes each, `PIECE` by default); return the object with that member an
    empty list."""
    piece = piece or PIECE
    found = re.search(rb'"' + re.escape(member.encode()) + rb'"\s*:\s*\[', raw)
    if found is None:
        raise NotInPieces(f"no {member!r} array")
    head = raw[: found.start()]
    try:
        document = json.loads(head + b'"' + member.encode() + b'": []}')
    except ValueError:
        raise NotInPieces(f"{member!r} is not a member of the top-level object") from None
    if not isinstance(document, dict):
        raise NotInPieces("not an object")
    pos = found.end()
    while True:
        pos, elements = _next_piece(raw, pos, piece)
        if elements is None:
            break
        take(elements)
    try:
        text = "[" + raw[pos:].decode("utf-8")
        elements, end = _DECODER.raw_decode(text)
        rest = json.loads(head.decode("utf-8") + json.dumps(member) + ": []" + text[end:])
    except ValueError:
        raise NotInPieces("cut off or invalid after its last piece") from None
    if elements:
        take(elements)
    return rest if isinstance(rest, dict) else document


def _next_piece(raw: bytes, pos: int, piece: int) -> tuple[int, list[Any] | None]:
    """The elements from `pos` (the start of one) to a cut about `piece` bytes on, and where the next starts;
    None when the array ends before such a cut."""
    target = pos + piece
    for _ in range(_TRIES):
        cut = _BETWEEN.search(raw, target)
        if cut is None:
            return pos, None
        elements = _parse(b"[" + raw[pos : cut.start() + 1] + b"]")
        if elements is not None:
            return cut.end() - 1, elements
        target = cut.start() + 1
    raise NotInPieces("no place to cut the array")


def _parse(text: bytes) -> list[Any] | None:
    """The array `text` holds, or None when it is not one."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency; the json module reads the same, slower
        pass
    else:
        try:
            found = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # NaN, Infinity, integers beyond 64 bits: the json module reads those
        else:
            return found if isinstance(found, list) else None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, list) else None
