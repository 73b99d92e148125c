"""W&B exports: a chart's "Export CSV" from the web UI, and `run.history()` / `scan_history()` tables saved to
disk.

**Chart CSV** (`wandb_csv`): a wide table whose first column is the chart's x-axis (`Step`, `_step`, `epoch`,
`train/global_step`, ...), then for each run and metric `"<run> - <metric>"` with `__MIN` / `__MAX` companions
(`"Group: <group> - <metric>"` for grouped lines), and `"<run> - _step"` when the x-axis is not the step. One
file holds several runs: each becomes a run named `<file stem>:<run name>`. The rows are the chart's buckets,
not the raw history, which every such run's notes say. See `wandb_chart` for how names containing `" - "` are
split.

**History export** (`wandb_history`): one row per logged step with `_step`, `_runtime`, `_timestamp` and the
logged keys, as CSV (a pandas index column first is dropped), JSON (records, columns, index, split or table
orient), JSONL or Parquet. It is one run, named after the file; its rows are mapped exactly as a run folder's
(`wandb_history`).

Claims are strict so that other CSV logs are not taken: a chart CSV needs every column after the first to read
`"<run> - <metric>"`, a history table needs a `_step` column (or `_runtime` with `_timestamp`, or
`train/global_step`). A Lightning `metrics.csv` (`epoch,step,train_loss`) or a TensorBoard CSV (`Wall
time,Step, Value`) has neither.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import Format, ReadOptions, Source, read_text

if TYPE_CHECKING:
    import pandas as pd

_HISTORY_MARKERS = ("_step", "train/global_step")
_INDEX_COLUMNS = ("", "index", "Unnamed: 0", "__index_level_0__")
_PARQUET_MAGIC = b"PAR1"
_RUN_FILES = ("wandb-summary.json", "wandb-metadata.json")  # a run folder's own files, not tables
_FOOTER_READ = 64 * 1024
_HISTORY_SAMPLES = 500  # `run.history()` returns this many sampled rows unless told otherwise


def header_fields(head: bytes) -> list[str]:
    """The CSV header's fields from a file's first bytes (a header cut off there loses its last field)."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    line, newline, _ = text.partition("\n")
    try:
        fields = next(csv.reader([line.rstrip("\r")]), [])
    except csv.Error:
        return []
    return fields if newline else fields[:-1]


def is_chart_header(fields: list[str]) -> bool:
    """Every column after the x-axis reads `"<run> - <metric>"`, and not all are `__MIN`/`__MAX`."""
    rest = fields[1:]
    if not rest or not all(" - " in f for f in rest):
        return False
    return any(not f.endswith(("__MIN", "__MAX")) for f in rest)


def is_history_header(fields: list[str]) -> bool:
    names = set(fields)
    marked = bool(names & set(_HISTORY_MARKERS)) or {"_runtime", "_timestamp"} <= names
    return marked and not is_chart_header(fields)


class WandbChartCsv(Format):
    name = "wandb_csv"
    label = "W&B chart export"

    def claim_file(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".csv" and is_chart_header(header_fields(head))

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        from losscli.parsers.wandb_chart import read_chart_csv

        return read_chart_csv(source.path)


class WandbHistoryExport(Format):
    name = "wandb_history"
    label = "W&B history export"

    def claim_file(self, path: Path, head: bytes) -> bool:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return is_history_header(header_fields(head))
        if suffix in (".json", ".jsonl", ".ndjson"):
            if path.name in _RUN_FILES:
                return False
            return b'"_step"' in head and b'"log_history"' not in head
        if suffix == ".parquet":
            return head.startswith(_PARQUET_MAGIC) and _parquet_has_step(path)
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_history_export(source.path)]


def _parquet_has_step(path: Path) -> bool:
    """Look for `_step` in the Parquet footer, where the column names are (one read of the file's tail)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - _FOOTER_READ))
            tail = handle.read()
    except OSError:
        return False
    return tail.endswith(_PARQUET_MAGIC) and b"_step" in tail


def read_history_export(path: Path) -> Run:
    import pandas as pd

    from losscli.parsers.wandb_history import describe, history_frame

    table, warnings = load_history_table(path)
    result = history_frame(table)
    if result.frame.empty:
        raise ParseError(path, "no numeric history values (only `_`-columns, text or media)")
    more_warnings, notes = describe(result, str(path))
    if len(table) == _HISTORY_SAMPLES and "_step" in table.columns:
        steps = pd.to_numeric(table["_step"], errors="coerce")
        if steps.max() - steps.min() + 1 > _HISTORY_SAMPLES:
            notes.append(
                f"{_HISTORY_SAMPLES} rows spread over {int(steps.max()) + 1} steps: this looks like "
                "`run.history()`'s default sample; `scan_history()` exports every row"
            )
    meta: dict[str, Any] = {"source_files": [str(path)], "step_key": result.step_key or "row"}
    if result.steps_per_epoch:
        meta["steps_per_epoch"] = result.steps_per_epoch
    return Run(
        name=path.stem,
        path=path,
        format="wandb_history",
        scalars=result.frame,
        meta=meta,
        warnings=warnings + more_warnings,
        notes=notes,
    )


def load_history_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The export as a DataFrame in logged row order, with a leading pandas index column dropped."""
    suffix = path.suffix.lower()
    warnings: list[str] = []
    if suffix == ".parquet":
        table = _read_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        table, warnings = _read_jsonl(path)
    elif suffix == ".json":
        table = _read_json(path)
    else:
        table = read_csv_table(path)
    if len(table.columns) and str(table.columns[0]) in _INDEX_COLUMNS:
        table = table.drop(columns=table.columns[0])
    return table, warnings


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV with float columns: text, booleans and empty cells become NaN."""
    import pandas as pd

    try:
        table = pd.read_csv(io.StringIO(read_text(path)), low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ParseError(path, f"not a readable CSV: {str(exc).strip()}") from None
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype):
            cleaned = values.map(lambda c: math.nan if isinstance(c, bool) else c)
            table[column] = pd.to_numeric(cleaned, errors="coerce")
    return table


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except ImportError:
        raise ParseError(path, "reading Parquet needs pyarrow (pip install pyarrow)") from None
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise ParseError(path, f"not a readable Parquet file: {exc}") from None


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, list[str]]:
    import pandas as pd

    lines = read_text(path).splitlines()
    rows: list[dict[str, Any]] = []
    bad = 0
    truncated = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            truncated = number == len(lines)
            bad += 0 if truncated else 1
            continue
        if isinstance(row, dict):
            rows.append(row)
        else:
            bad += 1
    warnings = []
    if truncated:
        warnings.append(f"{path}: the last line is cut off; every complete line was kept")
    if bad:
        warnings.append(f"{path}: {bad} lines that are not JSON objects were skipped")
    if not rows:
        raise ParseError(path, "no JSON object lines")
    return pd.DataFrame(rows), warnings


def _int_like(keys: list[str]) -> bool:
    return bool(keys) and all(k.lstrip("-").isdigit() for k in keys)


def _read_json(path: Path) -> pd.DataFrame:
    """pandas `to_json` in any orient but `values`, or a plain list of row objects."""
    import pandas as pd

    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        if isinstance(data.get("columns"), list):  # orient="split"
            return pd.DataFrame(data["data"], columns=data["columns"])
        data = data["data"]  # orient="table"
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame(data)
    if isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        keys = list(data)
        if _int_like(keys) and not any(k in data for k in _HISTORY_MARKERS):  # orient="index"
            return pd.DataFrame([data[k] for k in sorted(keys, key=int)])
        index: dict[str, None] = {}
        for column in data.values():  # orient="columns": {column: {row label: value}}
            index.update(dict.fromkeys(column))
        labels = sorted(index, key=int) if _int_like(list(index)) else list(index)
        return pd.DataFrame({c: [data[c].get(label) for label in labels] for c in keys})
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        return pd.DataFrame(data)
    raise ParseError(path, "JSON is not a table of history rows (records/columns/index/split/table orient)")


FORMATS = [WandbChartCsv(), WandbHistoryExport()]
