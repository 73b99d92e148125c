"""Where the decoders of one event file put what they find, and how that becomes the file's points in order.

The array decoders give at most one point per record, so they write into arrays indexed by record number; the
protobuf path may give several (a summary with several values) and keeps a list. `finish` keeps the records
that gave a point, merges the protobuf points in by record number if there are any, numbers the tags in the
order their first point was logged, and drops the tensor points of tags whose metadata names a plugin other
than `scalars`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.parsers.protobuf_wire import first_field
from losscli.parsers.tensorboard.fields import DT_STRING, parse_event, tensor_scalar
from losscli.parsers.tensorboard.plugin_data import hparams_text

if TYPE_CHECKING:
    import numpy as np

SCALAR_PLUGINS = ("", "scalars")


@dataclass
class FileScalars:
    """The scalar points of one event file, in logged order."""

    tags: list[str]
    tag_code: np.ndarray  # int32 index into `tags`
    step: np.ndarray
    wall_time: np.ndarray
    value: np.ndarray
    records: int = 0
    slow_records: int = 0  # records decoded one by one by protobuf
    undecodable: int = 0  # records whose CRCs check (or were not checked) that are not a valid Event
    file_version: str | None = None
    texts: dict[str, str] = field(default_factory=dict)  # the first text (or hparams, as JSON) of each tag asked for
    plugins: dict[str, str] = field(default_factory=dict)  # the plugin each tag's metadata names, by tag


class Collector:
    def __init__(self, records: int, text_tags: tuple[str, ...], known_plugins: dict[str, str] | None = None) -> None:
        import numpy as np

        self.records = records
        self.text_tags = text_tags
        # what earlier records of the same file said about tags' plugins (a file read piece by piece): a tag's
        # metadata comes with its first point only
        self.known_plugins = known_plugins or {}
        self.texts: dict[str, str] = {}
        self.tag_numbers: dict[str, int] = {}
        self.key_numbers: dict[int, int] = {}  # tag hash (`decode`) -> tag number
        self.plugins: dict[int, tuple[int, str]] = {}  # tag number -> (record number, plugin name)
        self.first: dict[int, int] = {}  # tag number -> the first record with a point of it
        # one slot per record, filled where a record gave a point (tag -1: none; untouched slots cost no memory)
        self.tag = np.full(records, -1, dtype=np.int32)
        self.step = np.empty(records, dtype=np.int64)
        self.wall = np.empty(records, dtype=np.float64)
        self.value = np.empty(records, dtype=np.float64)
        self.tensor = np.zeros(records, dtype=bool)
        self.slow: list[tuple[int, int, int, float, float, bool]] = []
        self.slow_records = self.undecodable = 0
        self.file_version: str | None = None

    def put(self, rows: Any, tag: Any, step: Any, wall: Any, value: Any, tensor: Any) -> None:
        """Points of the records `rows` (a slice or an array of record numbers)."""
        self.tag[rows], self.step[rows], self.wall[rows], self.value[rows] = tag, step, wall, value
        if tensor is not False:
            self.tensor[rows] = tensor

    def undecoded(self) -> np.ndarray:
        """The numbers of the records that gave no point yet."""
        import numpy as np

        return np.flatnonzero(self.tag < 0)

    def met(self, number: int, record: int) -> None:
        """A point of tag `number` in `record` (the decoders say so once per batch, for its first record)."""
        if record < self.first.get(number, record + 1):
            self.first[number] = record

    def tag_number(self, tag: str) -> int:
        found = self.tag_numbers.get(tag)
        if found is None:
            found = self.tag_numbers[tag] = len(self.tag_numbers)
        return found

    def plugin(self, number: int, record: int, name: str) -> None:
        """The plugin a tag's metadata names; the record logged first wins."""
        known = self.plugins.get(number)
        if known is None or record < known[0]:
            self.plugins[number] = (record, name)

    def wants_text(self, tag: str) -> bool:
        return tag in self.text_tags and tag not in self.texts

    def version(self, record: bytes) -> None:
        try:
            found = first_field(record, number=3)
        except ValueError:
            found = None
        if found is not None and self.file_version is None:
            self.file_version = found.decode("utf-8", "replace")

    def add_text(self, index: int, record: bytes) -> None:
        """A text summary (a one-value summary with a string tensor: the HF Trainer's arguments) read with the
        wire reader, which needs no protobuf import; by protobuf when it is not what it seems."""
        try:
            summary = first_field(record, number=5)
            value = first_field(summary, number=1) if summary is not None else None
            tag = first_field(value, number=1) if value is not None else None
            tensor = first_field(value, number=8) if value is not None else None
            text = first_field(tensor, number=8) if tensor is not None else None  # the first string_val
        except ValueError:
            tag = text = None
        if tag is None or text is None:
            self.add_slow(index, record)
        elif self.wants_text(name := tag.decode("utf-8", "replace")):
            self.texts[name] = text.decode("utf-8", "replace")

    def add_slow(self, index: int, record: bytes) -> None:
        """Decode one record with protobuf."""
        self.slow_records += 1
        try:
            event = parse_event(record)
        except Exception:  # protobuf raises DecodeError, and other errors on some junk
            self.undecodable += 1
            return
        what = event.WhichOneof("what")
        if what == "file_version":
            self.file_version = self.file_version or event.file_version
            return
        if what != "summary":
            return
        for item in event.summary.value:
            kind = item.WhichOneof("value")
            if kind is None and self.wants_text(item.tag) and item.metadata.plugin_data.plugin_name == "hparams":
                text = hparams_text(item.metadata.plugin_data.content)  # a value that is only plugin data
                if text is not None:
                    self.texts[item.tag] = text
                continue
            if kind == "simple_value":
                number: float | None = item.simple_value
            elif kind == "tensor":
                if item.HasField("metadata"):
                    self.plugin(self.tag_number(item.tag), index, item.metadata.plugin_data.plugin_name)
                if item.tensor.dtype == DT_STRING:
                    if self.wants_text(item.tag) and item.tensor.string_val:
                        self.texts[item.tag] = item.tensor.string_val[0].decode("utf-8", "replace")
                    continue
                number = tensor_scalar(item.tensor)
            else:
                continue
            if number is not None:
                tag_number = self.tag_number(item.tag)
                self.met(tag_number, index)
                self.slow.append((index, tag_number, event.step, event.wall_time, number, kind == "tensor"))

    def finish(self) -> FileScalars:
        import numpy as np

        columns = (self.tag, self.step, self.wall, self.value, self.tensor)
        scalar = self.tag >= 0
        if scalar.all() and not self.slow:
            ids, step, wall, value, tensor = columns
        else:
            rows = np.flatnonzero(scalar)
            if not self.slow and len(rows) and rows[-1] - rows[0] + 1 == len(rows):
                kept: Any = slice(int(rows[0]), int(rows[-1]) + 1)  # one stretch: views, no copies
            else:
                kept = rows
            ids, step, wall, value, tensor = (c[kept] for c in columns)
            if self.slow:
                slow_index, *more = zip(*self.slow)
                index = np.concatenate([rows, np.asarray(slow_index, dtype=np.int64)])
                types = (np.int32, np.int64, float, float, bool)
                extra = [np.asarray(c, dtype=t) for c, t in zip(more, types)]
                order = np.argsort(index, kind="stable")  # the values of one record keep their order
                ids, step, wall, value, tensor = (
                    np.concatenate([a, b])[order] for a, b in zip((ids, step, wall, value, tensor), extra)
                )
        ids = self._number_in_logged_order(ids)
        for tag, name in self.known_plugins.items():
            number = self.tag_numbers.get(tag)
            if number is not None:
                self.plugin(number, -1, name)
        plugins = {tag: self.plugins[number][1] for tag, number in self.tag_numbers.items() if number in self.plugins}
        dropped = [number for number, (_, name) in self.plugins.items() if name not in SCALAR_PLUGINS]
        if dropped and tensor.any():
            other = np.zeros(len(self.tag_numbers), dtype=bool)
            other[dropped] = True
            keep = ~(tensor & other[ids])
            ids, step, wall, value = ids[keep], step[keep], wall[keep], value[keep]
        names = list(self.tag_numbers)
        used = np.zeros(len(names), dtype=bool)
        used[ids] = True
        if not used.all():  # tags without a scalar point (text, other plugins)
            ids = (np.cumsum(used) - 1)[ids].astype(np.int32)
            names = [t for t, u in zip(names, used.tolist()) if u]
        return FileScalars(
            names,
            ids,
            step,
            wall,
            value,
            self.records,
            self.slow_records,
            self.undecodable,
            self.file_version,
            dict(self.texts),
            plugins,
        )

    def _number_in_logged_order(self, ids: np.ndarray) -> np.ndarray:
        """Renumber the tags in the order of their first point (decoders number them as they meet them)."""
        import numpy as np

        names = list(self.tag_numbers)
        never = len(names) + self.records
        order = sorted(range(len(names)), key=lambda number: self.first.get(number, never))
        if order == list(range(len(names))):
            return ids
        renumber = np.empty(len(names), dtype=np.int32)
        renumber[order] = np.arange(len(names), dtype=np.int32)
        self.tag_numbers = {names[old]: new for new, old in enumerate(order)}
        self.plugins = {int(renumber[old]): found for old, found in self.plugins.items()}
        self.key_numbers = {key: int(renumber[old]) for key, old in self.key_numbers.items()}
        self.first = {int(renumber[old]): record for old, record in self.first.items()}
        return renumber[ids]


def join_scalars(parts: list[FileScalars]) -> FileScalars:
    """The points of one file read in pieces (`reader.read_event_file_from`) as if it had been read whole: tags
    numbered in the order of their first point, the first text and plugin of each tag kept."""
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    numbers: dict[str, int] = {}
    codes = []
    texts: dict[str, str] = {}
    plugins: dict[str, str] = {}
    for part in parts:
        lookup = np.asarray([numbers.setdefault(t, len(numbers)) for t in part.tags], dtype=np.int32)
        codes.append(lookup[part.tag_code] if len(part.tags) else part.tag_code.astype(np.int32))
        for tag, text in part.texts.items():
            texts.setdefault(tag, text)
        for tag, name in part.plugins.items():
            plugins.setdefault(tag, name)

    def joined(column: str) -> np.ndarray:
        return np.concatenate([getattr(p, column) for p in parts])

    return FileScalars(
        list(numbers),
        np.concatenate(codes),
        joined("step"),
        joined("wall_time"),
        joined("value"),
        sum(p.records for p in parts),
        sum(p.slow_records for p in parts),
        sum(p.undecodable for p in parts),
        next((p.file_version for p in parts if p.file_version), None),
        texts,
        plugins,
    )
