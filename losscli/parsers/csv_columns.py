"""A CSV file's columns, only those asked for, each as a float64 array.

Reading streams the rows from the file with the `csv` module and keeps only the columns asked for (NaN where a cell
is empty or not a number), so a table 10,000 columns wide costs what its kept columns cost. `TableRows` collects
them, from a whole file or from lines as a growing file gets them.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.parsers.text_tables import BOM

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Table:
    """The kept columns of a CSV file, in header order, and how many rows it had."""

    header: list[str]
    columns: dict[str, np.ndarray]
    rows: int


def read_table(path: Path, *, keep: Callable[[list[str]], list[str]] | None = None) -> Table:
    """The columns `keep(header)` names (all when None) of the CSV file at `path`, as float64 arrays.

    Cells that are empty, text, `True`/`False` or not finite-or-NaN numbers are NaN. Duplicate header names keep
    their first column. A ParseError names the file when it is not a CSV at all.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_rows(path, csv.reader(handle), keep)
    except UnicodeDecodeError:
        raise ParseError(path, "cannot read: not text (binary data)") from None
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None


def _read_rows(path: Path, reader: Any, keep: Callable[[list[str]], list[str]] | None) -> Table:
    try:
        rows = TableRows(path, next(reader, []), keep)
        for row in reader:
            rows.add(row)
    except csv.Error as exc:
        raise ParseError(path, f"not a readable CSV: {exc}") from None
    return rows.table()


class TableRows:
    """The kept columns of a CSV table, row by row: `read_table` adds every row of a file; a reader of a file
    that grows (`losscli watch`) adds the rows appended since its last look (`add_lines`)."""

    def __init__(self, path: Path, header: list[str], keep: Callable[[list[str]], list[str]] | None) -> None:
        self.path = path
        self.header = [h.strip() for h in header]
        if not self.header:
            raise ParseError(path, "empty file")
        names = keep(self.header) if keep is not None else self.header
        self.where = {name: self.header.index(name) for name in dict.fromkeys(names) if name in self.header}
        self.index = list(self.where.values())
        self.cells: list[list[float]] = [[] for _ in self.index]
        self.rows = 0

    @classmethod
    def from_lines(cls, path: Path, header_line: str, keep: Callable[[list[str]], list[str]] | None) -> TableRows:
        return cls(path, _parse_lines(path, [header_line.lstrip(BOM)])[0] if header_line.strip() else [], keep)

    def add(self, row: list[str]) -> None:
        if not row:
            return
        self.rows += 1
        width = len(row)
        for out, i in zip(self.cells, self.index):
            out.append(_number(row[i]) if i < width else math.nan)

    def add_lines(self, lines: list[str]) -> None:
        """Complete lines of the file (without line ends), each one row (a logger's rows never span lines)."""
        for row in _parse_lines(self.path, lines):
            self.add(row)

    def table(self) -> Table:
        import numpy as np

        columns = {name: np.asarray(values, dtype=np.float64) for name, values in zip(self.where, self.cells)}
        return Table(self.header, columns, self.rows)


def _parse_lines(path: Path, lines: list[str]) -> list[list[str]]:
    try:
        return list(csv.reader(lines))
    except csv.Error as exc:
        raise ParseError(path, f"not a readable CSV: {exc}") from None


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.nan
