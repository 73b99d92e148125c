"""Load a saved W&B table (CSV, JSON, JSONL or Parquet) into a DataFrame in logged row order.

`run.history()` tables are saved with pandas in any of its orients, often with the index as a first column, which
is dropped. A table wider than `metric_names.WIDE_TABLE` columns (thousands of per-class metrics) is loaded for
the columns the analysis and outputs need only (`metric_names.columns_to_read`), which is what its memory costs.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.metric_names import WIDE_TABLE, columns_to_read, needed_column
from losscli.parsers.base import read_text
from losscli.parsers.text_tables import header_fields

if TYPE_CHECKING:
    import pandas as pd

HISTORY_MARKERS = ("_step", "train/global_step")
_INDEX_COLUMNS = ("", "index", "Unnamed: 0", "__index_level_0__")
_HEADER_READ = 1 << 22  # bytes: enough for the header of any table
_ALWAYS = ("_step", "_runtime", "_timestamp", "train/global_step", "trainer/global_step", *_INDEX_COLUMNS)


def history_columns(names: list[str]) -> list[str]:
    """The columns of a history table that are read (`metric_names.columns_to_read`)."""
    return columns_to_read(names, always=_ALWAYS)


def load_history_table(path: Path) -> tuple[pd.DataFrame, list[str], int]:
    """The export as a DataFrame in logged row order, with a leading pandas index column dropped; also the
    warnings, and how many columns the file has (more than the DataFrame when it is wide)."""
    suffix = path.suffix.lower()
    warnings: list[str] = []
    if suffix == ".parquet":
        table, width = _read_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        table, warnings, width = _read_jsonl(path)
    elif suffix == ".json":
        table, warnings = _read_json(path)
        width = len(table.columns)
        table = table[history_columns([str(c) for c in table.columns])]
    else:
        table, width = read_csv_table(path, keep=history_columns)
    table, width = drop_index(table, width)
    return table, warnings, width


def drop_index(table: pd.DataFrame, width: int) -> tuple[pd.DataFrame, int]:
    """The table without a leading pandas index column, and the file's width without it."""
    if len(table.columns) and str(table.columns[0]) in _INDEX_COLUMNS:
        return table.drop(columns=table.columns[0]), width - 1
    return table, width


def read_csv_table(
    path: Path, *, keep: Callable[[list[str]], list[str]] | None = None, lines: list[str] | None = None
) -> tuple[pd.DataFrame, int]:
    """A CSV with float columns (text, booleans and empty cells become NaN), of the columns `keep(header)` names
    (all when None); and how many columns the file has. `lines`: the file's lines read so far (a file that grows,
    fed to `losscli watch`), parsed instead of the file.

    A table narrowed by `keep` is parsed from the file in chunks, for the kept columns only (by position, so that
    any header spelling works): its memory is that of the kept columns, not of the file.
    """
    import warnings

    import pandas as pd

    header = header_fields(_head(path) if lines is None else (lines[0] + "\n").encode() if lines else b"")
    wanted = set(keep(header)) if keep is not None and header else None
    given = None if lines is None else io.StringIO("\n".join(lines))
    try:
        if wanted is not None and len(wanted) < len(header):
            index = [i for i, name in enumerate(header) if name in wanted or i == 0]  # the first: an index column?
            with warnings.catch_warnings():  # a column of mixed types in different chunks: converted below
                warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                table = pd.read_csv(path if given is None else given, encoding="utf-8-sig", usecols=index)
        else:
            table = pd.read_csv(io.StringIO(read_text(path)) if given is None else given, low_memory=False)
    except UnicodeDecodeError:
        raise ParseError(path, "cannot read: not text (binary data)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ParseError(path, f"not a readable CSV: {str(exc).strip()}") from None
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            cleaned = values.map(lambda c: math.nan if isinstance(c, bool) else c)
            table[column] = pd.to_numeric(cleaned, errors="coerce")
    return table, max(len(header), len(table.columns))


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_HEADER_READ)
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None


def _read_parquet(path: Path) -> tuple[pd.DataFrame, int]:
    import pandas as pd

    try:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        return pd.read_parquet(path, columns=history_columns(names)), len(names)
    except ImportError:
        raise ParseError(path, "reading Parquet needs pyarrow (pip install pyarrow)") from None
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise ParseError(path, f"not a readable Parquet file: {exc}") from None


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, list[str], int]:
    lines = read_text(path).splitlines()
    rows = JsonlRows(path)
    rows.feed(lines[:-1])
    rows.last_line(lines[-1] if lines else "")
    return rows.table()


class JsonlRows:
    """The rows of a JSONL history table, fed line by line: `_read_jsonl` feeds a whole file, a reader of a file
    that grows (`losscli watch`) the lines appended since its last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        self.seen: dict[str, None] = {}  # every key met, in order
        self.kept: set[str] | None = None  # once the keys outnumber WIDE_TABLE: the ones read
        self.bad = 0
        self.truncated = False

    def feed(self, lines: list[str]) -> None:
        """Complete lines, without their line ends."""
        for line in lines:
            self._line(line, last=False)

    def last_line(self, line: str) -> None:
        """The file's last line: cut off when it is not JSON."""
        self._line(line, last=True)

    def _line(self, line: str, *, last: bool) -> None:
        if not line.strip():
            return
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            self.truncated = last
            self.bad += 0 if last else 1
            return
        if not isinstance(row, dict):
            self.bad += 1
            return
        new = [k for k in row if k not in self.seen]
        self.seen.update(dict.fromkeys(new))
        if self.kept is None and len(self.seen) > WIDE_TABLE:  # from here on only the columns that are read are kept
            self.kept = set(history_columns(list(self.seen)))
            self.rows = [{k: v for k, v in r.items() if k in self.kept} for r in self.rows]
        elif self.kept is not None:
            self.kept.update(k for k in new if k in _ALWAYS or needed_column(k))
        self.rows.append(row if self.kept is None else {k: v for k, v in row.items() if k in self.kept})

    def table(self) -> tuple[pd.DataFrame, list[str], int]:
        """The rows as a DataFrame, the warnings, and how many columns the file has; ParseError when no row."""
        import pandas as pd

        warnings = []
        if self.truncated:
            warnings.append(f"{self.path}: the last line is cut off; every complete line was kept")
        if self.bad:
            warnings.append(f"{self.path}: {self.bad} lines that are not JSON objects were skipped")
        if not self.rows:
            raise ParseError(self.path, "no JSON object lines")
        return pd.DataFrame(self.rows), warnings, len(self.seen)


def _int_like(keys: list[str]) -> bool:
    return bool(keys) and all(k.lstrip("-").isdigit() for k in keys)


def _read_json(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """pandas `to_json` in any orient but `values`, or a plain list of row objects; a file cut off keeps its
    complete rows (`partial_json`)."""
    from losscli.parsers.partial_json import load_json

    try:
        data, cut = load_json(read_text(path))
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    warnings = []
    if cut is not None:
        warnings.append(
            f"{path}: the file is cut off after {cut.size} characters; what was complete before the cut was kept "
            f"({cut.lost} characters after it are lost)"
        )
    return _json_table(path, data), warnings


def _json_table(path: Path, data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, dict) and isinstance(data.get("data"), list):
        if isinstance(data.get("columns"), list):  # orient="split"
            return pd.DataFrame(data["data"], columns=data["columns"])
        data = data["data"]  # orient="table"
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(data)
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        keys = list(data)
        if _int_like(keys) and not any(k in data for k in HISTORY_MARKERS):  # orient="index"
            return pd.DataFrame([data[k] for k in sorted(keys, key=int)])
        index: dict[str, None] = {}
        for column in data.values():  # orient="columns": {column: {row label: value}}
            index.update(dict.fromkeys(column))
        labels = sorted(index, key=int) if _int_like(list(index)) else list(index)
        return pd.DataFrame({c: [data[c].get(label) for label in labels] for c in keys})
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        return pd.DataFrame(data)
    raise ParseError(path, "JSON is not a table of history rows (records/columns/index/split/table orient)")
