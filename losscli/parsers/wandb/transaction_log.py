"""Read a W&B transaction log (`run-<id>.wandb`) without the wandb package: its block log, then its records.

The file starts with a 7-byte header (`:W&B`, magic 0xBEE1 little-endian, version 0), then follows LevelDB's
log format: 32 KiB blocks of chunks, each chunk a 7-byte header (CRC-32 little-endian, length uint16, type
FULL=1, FIRST=2, MIDDLE=3, LAST=4) and its payload; a record too long for the rest of a block is split into
FIRST, MIDDLE..., LAST chunks, and fewer than 7 bytes left at a block's end are zero padding. The header
counts as part of block 0.

The checksum is W&B's own choice, not LevelDB's masked CRC-32C: plain IEEE CRC-32 (`zlib.crc32`) over the type
byte and the payload. Sources: wandb/wandb `wandb/sdk/internal/datastore.py` (the Python writer:
`zlib.crc32(data, crc32(chr(type)))`, header constants) and `core/pkg/leveldb/record.go` + `crc.go`, where
wandb-core's store opens the log with `leveldb.CRCAlgoIEEE` (`crc32.Checksum(type+payload, IEEE)`;
`CRCAlgoCustom` is LevelDB's masked CRC-32C).

Each record is a protobuf `wandb_internal.Record` (wandb/proto/wandb_internal.proto). wandb's generated
classes are not importable here, so the few fields needed are read with the wire-format walker of
`losscli.parsers.protobuf_wire`: unknown fields (everything else wandb adds over time) are skipped by their wire
type, so newer clients' records still decode. Damage never raises: a chunk
with a bad checksum is skipped, a record cut off by the end of the file is dropped, and both are reported as
warnings.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.parsers.protobuf_wire import fields, signed, zigzag

MAGIC_IDENT = b":W&B"
MAGIC = 0xBEE1
VERSION = 0
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4

# wandb_internal.Record: the oneof cases read here
RECORD_HISTORY, RECORD_SUMMARY, RECORD_CONFIG, RECORD_RUN, RECORD_EXIT = 2, 3, 5, 17, 18
# RunRecord
RUN_ID, RUN_PROJECT, RUN_CONFIG, RUN_SUMMARY, RUN_GROUP, RUN_DISPLAY_NAME, RUN_STARTING_STEP, RUN_RESUMED = (
    1,
    3,
    4,
    5,
    6,
    8,
    14,
    18,
)
RUN_START_TIME = 17  # a google.protobuf.Timestamp: seconds = 1, nanos = 2
# History/Config/SummaryItem share key=1, nested_key=2, value_json=16; HistoryItem adds a typed oneof
ITEM_KEY, ITEM_NESTED_KEY, ITEM_VALUE_JSON = 1, 2, 16
ITEM_NONE, ITEM_BOOL, ITEM_INT, ITEM_NUMBER, ITEM_TEXT, ITEM_JSON = 3, 4, 5, 6, 7, 8


@dataclass
class LogScan:
    """The record payloads of one file, and what was wrong with it."""

    records: list[bytes] = field(default_factory=list)
    bad_chunks: list[int] = field(default_factory=list)  # file offsets of chunks that failed their checksum
    broken_records: int = 0  # records lost because one of their chunks was skipped
    truncated: bool = False  # the file ends inside a chunk or a multi-chunk record
    version: int = VERSION
    # Where a later look at a growing file starts (`scan_log(start=...)`): the first chunk of the record the file
    # ends inside, or the end of the last complete one. Nothing before it is read again.
    resume: int = 0


def check_header(head: bytes) -> bool:
    return len(head) >= 6 and head[:4] == MAGIC_IDENT and struct.unpack_from("<H", head, 4)[0] == MAGIC


def scan_log(
    path: Path, *, verify_checksums: bool = True, start: int = 0, growing: bool = False, head: int | None = None
) -> LogScan:
    """Split the file (or its first `head` bytes) into record payloads, skipping damaged chunks; ParseError only
    for a foreign file.

    For a file still being written (`losscli watch`), `start` is an earlier scan's `resume` (the header is
    checked only from 0), and with `growing` a chunk that fails its checksum as the last thing in the file is
    taken for one being written: left for the next look, not counted as damage."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            data = handle.read() if head is None else handle.read(head)
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None
    if start == 0:
        if len(data) < CHUNK_HEADER or not check_header(data):
            if not data:
                raise ParseError(path, "empty file")
            raise ParseError(path, "no `:W&B` header: not a W&B transaction log")
        scan = LogScan(version=data[6])
        pos = CHUNK_HEADER
    else:
        scan = LogScan()
        pos = start
    _scan_chunks(data, start, pos, scan, verify_checksums, growing)
    return scan


def _scan_chunks(data: bytes, base: int, pos: int, scan: LogScan, verify: bool, growing: bool) -> None:
    """The chunks of `data` (the file's bytes from offset `base`) from file offset `pos` on, into `scan`."""
    view = memoryview(data)
    pending: bytearray | None = None  # payload of a FIRST chunk waiting for its LAST
    pending_at = pos  # where that record's first chunk starts
    size = base + len(data)
    scan.resume = pos
    while pos < size:
        block_end = min((pos // BLOCK + 1) * BLOCK, size)
        if block_end - pos < CHUNK_HEADER:
            if block_end == size and any(data[pos - base : size - base]):
                scan.truncated = True  # a chunk header cut off by the end of the file
            elif pending is None:
                scan.resume = block_end
            pos = block_end
            continue
        checksum, length, kind = struct.unpack_from("<IHB", data, pos - base)
        if checksum == 0 and length == 0 and kind == 0:
            pos = block_end  # zero padding to the end of the block (preallocated or mmap-written files)
            if pending is None and block_end < size:
                scan.resume = block_end
            continue
        start, end = pos + CHUNK_HEADER, pos + CHUNK_HEADER + length
        if end > block_end:
            if block_end == size:
                scan.truncated = True
            else:
                scan.bad_chunks.append(pos)  # a length that overruns its block: the header itself is damaged
            if pending is not None:
                scan.broken_records += 0 if block_end == size else 1
                pending = None
            pos = block_end
            continue
        if verify and zlib.crc32(view[start - 1 - base : end - base]) != checksum:
            if growing and end == size:
                scan.truncated = True  # the last chunk, still being written
                break
            scan.bad_chunks.append(pos)  # skip this chunk only: the chunks after it carry their own checksums
            scan.broken_records += 1
            pending = None
            pos = end
            scan.resume = pos
            continue
        payload = data[start - base : end - base]
        if kind == FULL:
            if pending is not None:
                scan.broken_records += 1
                pending = None
            scan.records.append(payload)
        elif kind == FIRST:
            if pending is not None:
                scan.broken_records += 1
            pending, pending_at = bytearray(payload), pos
        elif kind in (MIDDLE, LAST):
            if pending is None:
                pass  # the rest of a record whose start was skipped, already counted
            elif kind == MIDDLE:
                pending += payload
            else:
                scan.records.append(bytes(pending + payload))
                pending = None
        else:
            scan.bad_chunks.append(pos)
        pos = end
        if pending is None:
            scan.resume = pos
    if pending is not None:
        scan.truncated = True
        scan.resume = pending_at


def log_warnings(path: Path, *, scan: LogScan) -> list[str]:
    """One line per kind of damage, for `Run.warnings`."""
    found: list[str] = []
    if scan.bad_chunks:
        where = ", ".join(str(o) for o in scan.bad_chunks[:5]) + (", ..." if len(scan.bad_chunks) > 5 else "")
        found.append(
            f"{path}: {len(scan.bad_chunks)} damaged chunk(s) (bad checksum or length at byte {where}) "
            f"were skipped; {scan.broken_records} record(s) lost"
        )
    if scan.truncated:
        found.append(
            f"{path}: the file ends inside a record (a run that crashed or is still writing); "
            "every complete record was kept"
        )
    if scan.version != VERSION:
        found.append(f"{path}: unknown transaction log version {scan.version}; read as version {VERSION}")
    return found


# --- records -------------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8", errors="replace")


def json_value(text: str) -> Any:
    """A `value_json` text as a Python value (wandb writes non-finite floats as `NaN`, `Infinity`)."""
    import json

    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return float(text)  # the common case, and much faster than the JSON parser
    except ValueError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return text


class RawJson(str):
    """A `value_json` text not parsed yet (see `decode_item(parse=False)`)."""


def decode_item(buf: bytes, *, parse: bool = True) -> tuple[str, Any]:
    """A HistoryItem, SummaryItem or ConfigItem: its key (`nested_key` joined with "/") and its value.

    A typed value (written by newer clients with `x_history_value_encoding` "typed") wins over `value_json`.
    With `parse=False` a JSON value comes back as `RawJson` text, for values mostly overwritten later.
    """
    key = ""
    nested: list[str] = []
    typed: tuple[bool, Any] = (False, None)
    value_json: str | None = None
    for number, wire, value in fields(buf):
        if number == ITEM_KEY and wire == 2:
            key = _text(value)
        elif number == ITEM_NESTED_KEY and wire == 2:
            nested.append(_text(value))
        elif number == ITEM_VALUE_JSON and wire == 2:
            value_json = _text(value)
        elif number == ITEM_NONE and wire == 0:
            typed = (True, None)
        elif number == ITEM_BOOL and wire == 0:
            typed = (True, bool(value))
        elif number == ITEM_INT and wire == 0:
            typed = (True, zigzag(value))  # sint64
        elif number == ITEM_NUMBER and wire == 1:
            typed = (True, struct.unpack("<d", value)[0])
        elif number == ITEM_TEXT and wire == 2:
            typed = (True, _text(value))
        elif number == ITEM_JSON and wire == 2:
            value_json = _text(value) if value_json is None else value_json
    name = "/".join(nested) if nested else key
    if typed[0]:
        return name, typed[1]
    if value_json is None:
        return name, None
    return name, json_value(value_json) if parse else RawJson(value_json)


def decode_items(buf: bytes, *, parse: bool = True) -> dict[str, Any]:
    """The `update` items (field 1) of a History, Summary or Config record."""
    return dict(decode_item(v, parse=parse) for n, w, v in fields(buf) if n == 1 and w == 2)


def decode_update(buf: bytes, *, parse: bool = True) -> tuple[dict[str, Any], list[str]]:
    """A Summary or Config record: its `update` items (field 1) and the keys it `remove`s (field 2)."""
    updates: dict[str, Any] = {}
    removed: list[str] = []
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            key, item = decode_item(value, parse=parse)
            updates[key] = item
        elif number == 2 and wire == 2:
            removed.append(decode_item(value, parse=False)[0])
    return updates, removed


def decode_history(buf: bytes) -> dict[str, Any]:
    """A HistoryRecord's row; `_step` from its `step` field (HistoryStep.num) when no item carries it."""
    row: dict[str, Any] = {}
    step: int | None = None
    for number, wire, value in fields(buf):
        if number == 1 and wire == 2:
            key, item = decode_item(value)
            row[key] = item
        elif number == 2 and wire == 2:
            step = next((v for n, w, v in fields(value) if n == 1 and w == 0), 0)
    if row and step is not None and "_step" not in row:
        row["_step"] = signed(step)
    return row


def decode_run(buf: bytes) -> dict[str, Any]:
    """The parts of a RunRecord that name the run and hold its config."""
    found: dict[str, Any] = {}
    names = {RUN_ID: "run_id", RUN_PROJECT: "project", RUN_GROUP: "group", RUN_DISPLAY_NAME: "display_name"}
    for number, wire, value in fields(buf):
        if number in names and wire == 2:
            found[names[number]] = _text(value)
        elif number == RUN_CONFIG and wire == 2:
            found.setdefault("config", {}).update(decode_items(value))
        elif number == RUN_SUMMARY and wire == 2:
            found.setdefault("summary", {}).update(decode_items(value, parse=False))
        elif number == RUN_STARTING_STEP and wire == 0:
            found["starting_step"] = signed(value)
        elif number == RUN_RESUMED and wire == 0:
            found["resumed"] = bool(value)
        elif number == RUN_START_TIME and wire == 2:
            parts = {n: v for n, w, v in fields(value) if w == 0}
            if parts.get(1):
                found["start_time"] = signed(parts[1]) + signed(parts.get(2, 0)) / 1e9
    return found
