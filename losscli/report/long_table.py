"""The long table `losscli export` writes: every point of every run, one row each, as CSV, JSONL or Parquet.

Columns: `run`, `format`, `path`, `metric` (the canonical name), `tag` (as logged), `step`, `epoch`, `value`,
`wall_time`. Each run's rows are written when the run is handed over, so memory holds one run (and, for Parquet,
up to `ROW_GROUP` rows waiting to make a row group), however many runs there are.

Values the formats cannot all hold: in CSV an unknown epoch or wall time is an empty cell and a NaN or infinite
value is written `nan`, `inf`, `-inf` (as Python and pandas read them); JSON has no NaN or infinity, so JSONL
writes `null` for them; Parquet keeps them as they are.
"""

from __future__ import annotations

import csv
import json
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TextIO, cast

from losscli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from losscli.frame import Columns

COLUMNS = ("run", "format", "path", "metric", "tag", "step", "epoch", "value", "wall_time")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
ROW_GROUP = 1 << 16
PARQUET_EXTRA = "pip install 'losscli[parquet]'"


def table_format(target: str) -> str:
    """The format a `--to` target asks for: by its extension; `-` (stdout) is CSV."""
    if target == "-":
        return "csv"
    found = FORMATS.get(Path(target).suffix.lower())
    if found is None:
        raise UsageError(f"--to {target}: name a .csv, .jsonl or .parquet file (or - for CSV on stdout)")
    return found


def check_parquet() -> None:
    """Fail before anything is read when Parquet cannot be written."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise UsageError(f"writing Parquet needs pyarrow: {PARQUET_EXTRA}") from None


class LongTableWriter(ABC):
    """Writes runs' points as rows; `rows` counts what was written."""

    binary = False  # whether `out` is a binary stream

    def __init__(self) -> None:
        self.rows = 0

    @abstractmethod
    def write_run(self, run: str, fmt: str, path: str, cols: Columns) -> None: ...

    def close(self) -> None:
        """Write what is left (a Parquet footer); the stream itself is the caller's to close."""

    def abandon(self) -> None:
        """Stop without finishing (the output is thrown away)."""


class CsvTable(LongTableWriter):
    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(COLUMNS)

    def write_run(self, run: str, fmt: str, path: str, cols: Columns) -> None:
        head = (run, fmt, path)
        self.writer.writerows(
            (*head, m, t, s, _cell(e), repr(float(v)), _cell(w))
            for m, t, s, e, v, w in zip(
                cols.metric, cols.tag, cols.step.tolist(), cols.epoch.tolist(), cols.value.tolist(), cols.wall_time
            )
        )
        self.rows += len(cols)
        self.out.flush()


def _cell(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


class JsonlTable(LongTableWriter):
    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out

    def write_run(self, run: str, fmt: str, path: str, cols: Columns) -> None:
        for m, t, s, e, v, w in zip(
            cols.metric, cols.tag, cols.step.tolist(), cols.epoch.tolist(), cols.value.tolist(), cols.wall_time.tolist()
        ):
            row = (run, fmt, path, m, t, s, _json(e), _json(v), _json(w))
            self.out.write(json.dumps(dict(zip(COLUMNS, row))) + "\n")
        self.rows += len(cols)
        self.out.flush()


def _json(value: float) -> float | None:
    return value if math.isfinite(value) else None


class ParquetTable(LongTableWriter):
    binary = True

    def __init__(self, out: BinaryIO) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__()
        self.schema = pa.schema(
            [
                *((name, pa.string()) for name in COLUMNS[:5]),
                ("step", pa.int64()),
                ("epoch", pa.float64()),
                ("value", pa.float64()),
                ("wall_time", pa.float64()),
            ]
        )
        self.writer = pq.ParquetWriter(out, self.schema)
        self.pending: list[dict[str, np.ndarray]] = []
        self.pending_rows = 0

    def write_run(self, run: str, fmt: str, path: str, cols: Columns) -> None:
        import numpy as np

        n = len(cols)
        if not n:
            return
        self.pending.append(
            {
                "run": np.full(n, run, dtype=object),
                "format": np.full(n, fmt, dtype=object),
                "path": np.full(n, path, dtype=object),
                "metric": cols.metric,
                "tag": cols.tag,
                "step": cols.step,
                "epoch": cols.epoch,
                "value": cols.value,
                "wall_time": cols.wall_time,
            }
        )
        self.pending_rows += n
        self.rows += n
        if self.pending_rows >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import numpy as np
        import pyarrow as pa

        if not self.pending:
            return
        arrays = [
            pa.array(np.concatenate([part[name] for part in self.pending]), type=field.type)
            for name, field in zip(COLUMNS, self.schema)
        ]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=ROW_GROUP)
        self.pending, self.pending_rows = [], 0

    def close(self) -> None:
        self._flush()
        self.writer.close()

    def abandon(self) -> None:
        self.pending = []
        try:
            self.writer.close()
        except Exception:  # the stream may be gone already; the file is thrown away anyway
            pass


def open_writer(fmt: str, out: IO[Any]) -> LongTableWriter:
    """The writer of `fmt` ("csv", "jsonl", "parquet") on `out` (a binary stream for Parquet)."""
    if fmt == "parquet":
        return ParquetTable(cast(BinaryIO, out))
    text = cast(TextIO, out)
    return CsvTable(text) if fmt == "csv" else JsonlTable(text)
