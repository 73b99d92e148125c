"""Any loss table: a CSV, TSV, JSONL or Parquet file with a step column and a loss column, one row per log call.

Tables are what scripts write when no tracker is used (`csv.DictWriter`, `df.to_csv`, one `json.dumps` a line,
`df.to_parquet`). Which column is which is decided by `table_columns` (usual names, or `--step-col`,
`--loss-col`, `--epoch-col`, `--eval-col`). A table is found while walking a tree when its header names a step and
a loss in a usual way (or holds the columns the user named); one named on the command line is always read, so that
a table with unusual names gets the one error that lists its columns. Files another format claims stay theirs:
this reader is asked last, after Lightning's `version_N/metrics.csv`, W&B and TensorBoard exports, Trainer and
ms-swift logs.

**Cells.** An empty cell, a JSON `null` or a missing key is "not logged in this row". A number is a point,
infinities too; the text `nan` (as `csv` and `json` write a NaN float) is a NaN point, since the writer wrote it.
In Parquet, where pandas stores every missing value as NaN, NaN is "not logged". Text is not a point. A row
without a usable step is skipped, with a warning.

**Epochs.** A fractional epoch column is progress, as the frame wants it. Whole numbers that repeat over rows
are a counter: 0-based when it starts at 0 (Lightning's index, a `for epoch in range(n)` loop), 1-based
otherwise (`epoch 1` for the first epoch), and are turned into progress (`epoch_index`), with a note saying
which was found.

CSV, TSV and JSONL are read by `TableLines`, a `line_logs.LineLog` that can be fed more lines later.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import EPOCH, TRAIN_LOSS, Run
from losscli.metric_names import aliases
from losscli.parsers.base import Format, ReadOptions, Source
from losscli.parsers.line_logs import LineLog, feed_file
from losscli.parsers.records import Record
from losscli.parsers.table_columns import STEP_NAMES, looks_like_loss_table
from losscli.parsers.text_tables import header_fields

TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_MAGIC = b"PAR1"
_FOOTER_READ = 64 * 1024


def _suffix(path: Path) -> str:
    return path.suffix.lower()


class LossTable(Format):
    name = "loss_table"
    label = "loss table"

    def claim_file(self, path: Path, head: bytes) -> bool:
        names = table_header(path, head)
        return names is not None and looks_like_loss_table(names)

    def claim_chosen_file(self, path: Path, head: bytes, *, named: bool, options: ReadOptions) -> bool:
        suffix = _suffix(path)
        if suffix not in TEXT_SUFFIXES and suffix not in JSONL_SUFFIXES and suffix != ".parquet":
            return False
        if named:
            return True  # read it, to say which columns it has if they cannot be told apart
        names = table_header(path, head)
        return names is not None and looks_like_loss_table(names, options)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_loss_table(source.path, options=options)]

    def line_parser(self, source: Source, options: ReadOptions) -> TableLines | None:
        """CSV, TSV and JSONL tables grow by lines; a Parquet file is written whole."""
        return None if _suffix(source.path) == ".parquet" else TableLines(source.path, options=options)


def table_header(path: Path, head: bytes) -> list[str] | None:
    """The column names a table's first bytes show (a JSONL table's first object's keys; for Parquet, the names
    in its footer that are usual step names or losses); None when it is not a table of these kinds."""
    suffix = _suffix(path)
    if suffix in TEXT_SUFFIXES:
        return header_fields(head, delimiter=TEXT_SUFFIXES[suffix]) or None
    if suffix in JSONL_SUFFIXES:
        line = head.split(b"\n", 1)[0]
        try:
            first = json.loads(line.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            return None
        return [str(k) for k in first] if isinstance(first, dict) else None
    if suffix == ".parquet" and head.startswith(PARQUET_MAGIC):
        return _footer_names(path)
    return None


def _footer_names(path: Path) -> list[str] | None:
    """Usual step, loss and epoch names found in a Parquet footer (Thrift strings: a length byte, then the name),
    from one read of the file's tail: a cheap look; the schema is read properly later."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _FOOTER_READ))
            tail = handle.read()
    except OSError:
        return None
    if not tail.endswith(PARQUET_MAGIC):
        return None
    candidates = [*STEP_NAMES, *aliases(TRAIN_LOSS), *aliases(EPOCH)]
    return [n for n in candidates if bytes([len(n)]) + n.encode() in tail]


def read_loss_table(path: Path, *, options: ReadOptions | None = None) -> Run:
    """Read one loss table (module docstring)."""
    options = options or ReadOptions()
    if _suffix(path) == ".parquet":
        from losscli.parsers.table_frame import read_parquet_table

        return read_parquet_table(path, options=options)
    return feed_file(TableLines(path, options=options)).run()


class TableLines(LineLog):
    """A CSV, TSV or JSONL loss table fed line by line: every column kept as numbers, decided at `run()`."""

    format = "loss_table"

    def __init__(self, path: Path, *, options: ReadOptions | None = None) -> None:
        super().__init__(path)
        self.options = options or ReadOptions()
        self.jsonl = _suffix(path) in JSONL_SUFFIXES
        self.delimiter = TEXT_SUFFIXES.get(_suffix(path), ",")
        self.header: list[str] | None = [] if self.jsonl else None
        self.cells: dict[str, list[float]] = {}
        self.nan_points: dict[str, list[int]] = {}  # rows where the writer wrote NaN itself
        self.rows = 0
        self.empty = "no rows under the header"

    def _line(self, line: str, *, cut: bool) -> None:
        if not line.strip():
            return
        if self.jsonl:
            self._json_line(line, cut)
            return
        try:
            row = next(csv.reader([line], delimiter=self.delimiter), [])
        except csv.Error:
            self.unreadable(cut=cut)
            return
        if self.header is None:
            self.header = [h.strip() for h in row]
            names = list(dict.fromkeys(self.header))
            self.cells = {name: [] for name in names}
            return
        if cut and len(row) < len(self.header):
            self.cut = True
            return
        self._row(dict(zip(self.header, row)))

    def _json_line(self, line: str, cut: bool) -> None:
        try:
            row = json.loads(line)
        except ValueError:
            self.unreadable(cut=cut)
            return
        if not isinstance(row, dict):
            self.unreadable(cut=cut)
            return
        assert self.header is not None
        for key in row:
            name = str(key)
            if name not in self.cells:
                self.header.append(name)
                self.cells[name] = [math.nan] * self.rows
        self._row({str(k): v for k, v in row.items()})

    def _row(self, row: dict[str, Any]) -> None:
        for name, column in self.cells.items():
            value = _cell(row.get(name))
            if value is not None and math.isnan(value):
                self.nan_points.setdefault(name, []).append(self.rows)
            column.append(math.nan if value is None else value)
        self.rows += 1

    def records(self) -> list[Record]:
        if not self.header or not self.rows:
            return []
        cols = self.run().columns()
        return list(zip(cols.metric, cols.tag, cols.step.tolist(), cols.epoch, cols.value, cols.wall_time))

    def points(self) -> list[Record]:
        return self.records()  # a table's columns are named all at once, from its header

    def run(self, *, name: str | None = None, path: Path | None = None) -> Run:
        import numpy as np

        from losscli.parsers.table_frame import table_run

        if self.header is None or not self.header:
            raise ParseError(self.path, "empty file" if not self.lines else "no header")
        if not self.rows:
            raise ParseError(self.path, self.empty)
        columns = {n: np.asarray(v, dtype=np.float64) for n, v in self.cells.items()}
        nans = {n: np.asarray(rows, dtype=np.int64) for n, rows in self.nan_points.items()}
        run = table_run(self.path, list(self.cells), columns, nans, options=self.options, warnings=self.warnings())
        if name is not None:
            run.name = name
        return run


def _cell(raw: Any) -> float | None:
    """A cell as a number; None when nothing was logged there or it is not a number (module docstring)."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


FORMATS = [LossTable()]
