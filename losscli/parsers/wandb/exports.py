"""W&B exports: a chart's "Export CSV" from the web UI, and `run.history()` / `scan_history()` tables saved to
disk.

**Chart CSV** (`wandb_csv`): a wide table whose first column is the chart's x-axis (`Step`, `_step`, `epoch`,
`train/global_step`, ...), then for each run and metric `"<run> - <metric>"` with `__MIN` / `__MAX` companions
(`"Group: <group> - <metric>"` for grouped lines), and `"<run> - _step"` when the x-axis is not the step. One
file holds several runs: each becomes a run named `<file stem>:<run name>`. The rows are the chart's buckets,
not the raw history, which every such run's notes say. See `chart` for how names containing `" - "` are
split.

**History export** (`wandb_history`): one row per logged step with `_step`, `_runtime`, `_timestamp` and the
logged keys, as CSV (a pandas index column first is dropped), JSON (records, columns, index, split or table
orient), JSONL or Parquet. It is one run, named after the file; its rows are mapped exactly as a run folder's
(`history`); `export_tables` loads the files.

Claims are strict so that other CSV logs are not taken: a chart CSV needs every column after the first to read
`"<run> - <metric>"`, a history table needs a `_step` column (or `_runtime` with `_timestamp`, or
`train/global_step`). A Lightning `metrics.csv` (`epoch,step,train_loss`) or a TensorBoard CSV (`Wall
time,Step, Value`) has neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import Format, LineParser, ReadOptions, Source
from losscli.parsers.text_tables import header_fields
from losscli.parsers.wandb.export_tables import HISTORY_MARKERS

if TYPE_CHECKING:
    import pandas as pd

_PARQUET_MAGIC = b"PAR1"
_RUN_FILES = ("wandb-summary.json", "wandb-metadata.json")  # a run folder's own files, not tables
_FOOTER_READ = 64 * 1024
_HISTORY_SAMPLES = 500  # `run.history()` returns this many sampled rows unless told otherwise


def is_chart_header(fields: list[str]) -> bool:
    """Every column after the x-axis reads `"<run> - <metric>"`, and not all are `__MIN`/`__MAX`."""
    rest = fields[1:]
    if not rest or not all(" - " in f for f in rest):
        return False
    return any(not f.endswith(("__MIN", "__MAX")) for f in rest)


def is_history_header(fields: list[str]) -> bool:
    names = set(fields)
    marked = bool(names & set(HISTORY_MARKERS)) or {"_runtime", "_timestamp"} <= names
    return marked and not is_chart_header(fields)


class WandbChartCsv(Format):
    name = "wandb_csv"
    label = "W&B chart export"

    def claim_file(self, path: Path, head: bytes) -> bool:
        return path.suffix.lower() == ".csv" and is_chart_header(header_fields(head))

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        from losscli.parsers.wandb.chart import read_chart_csv

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

    def line_parser(self, source: Source, options: ReadOptions) -> LineParser | None:
        return HistoryLines(source.path) if source.path.suffix.lower() in (".csv", ".jsonl", ".ndjson") else None


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
    from losscli.parsers.wandb.export_tables import load_history_table

    table, warnings, width = load_history_table(path)
    return history_run(path, table, warnings, width)


class HistoryLines:
    """A JSONL or CSV history export fed line by line as it grows (`losscli watch`). JSONL rows are parsed as they
    come; CSV lines are kept and parsed together, as pandas parses the whole file."""

    def __init__(self, path: Path) -> None:
        from losscli.parsers.wandb.export_tables import JsonlRows

        self.path = path
        self.jsonl = JsonlRows(path) if path.suffix.lower() != ".csv" else None
        self.lines: list[str] = []

    def feed(self, lines: list[str]) -> None:
        if self.jsonl is not None:
            self.jsonl.feed(lines)
        else:
            self.lines.extend(lines)

    def runs(self) -> list[Run]:
        from losscli.parsers.wandb.export_tables import drop_index, history_columns, read_csv_table

        if self.jsonl is not None:
            table, warnings, width = self.jsonl.table()
        else:
            if not self.lines:
                raise ParseError(self.path, "empty file")
            table, width = read_csv_table(self.path, keep=history_columns, lines=self.lines)
            warnings = []
        table, width = drop_index(table, width)
        return [history_run(self.path, table, warnings, width)]


def history_run(path: Path, table: pd.DataFrame, warnings: list[str], width: int) -> Run:
    """The run of a history export's table (`width`: how many columns the file has)."""
    import pandas as pd

    from losscli.metric_names import unread_note
    from losscli.parsers.wandb.history import describe, history_frame

    result = history_frame(table)
    if result.frame.empty:
        raise ParseError(path, "no numeric history values (only `_`-columns, text or media)")
    more_warnings, notes = describe(result, where=str(path))
    notes.extend(unread_note(width, read=len(table.columns)))
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


FORMATS = [WandbChartCsv(), WandbHistoryExport()]
