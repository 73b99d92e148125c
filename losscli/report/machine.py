"""Output for scripts: JSON Lines, one JSON document, or CSV with one header and one row per run.

Records are written one at a time and flushed, so that `| head -1`, `jq` and Ctrl-C see each run as soon as it
is judged, and memory does not grow with the number of runs (the JSON array is written by parts too).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from losscli.analysis.result import RunResult
from losscli.report.records import flatten, to_record

FORMATS = ("jsonl", "json", "csv")


class RecordWriter:
    """Writes records (plain dicts) as `fmt`, each flushed at once. `rows` turns a record into CSV rows."""

    def __init__(
        self, fmt: str, *, out: TextIO, rows: Callable[[dict[str, Any]], Iterable[dict[str, Any]]] | None = None
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}")
        self.fmt, self.out, self.count = fmt, out, 0
        self.rows = rows or (lambda record: [flatten(record)])
        self._csv: csv.DictWriter[str] | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(record, allow_nan=False) + "\n")
        elif self.fmt == "json":
            text = json.dumps(record, indent=2, allow_nan=False).replace("\n", "\n  ")
            self.out.write(("[\n  " if not self.count else ",\n  ") + text)
        else:
            for row in self.rows(record):
                if self._csv is None:
                    self._csv = csv.DictWriter(
                        self.out, fieldnames=list(row), lineterminator="\n", extrasaction="ignore"
                    )
                    self._csv.writeheader()
                self._csv.writerow(row)
        self.count += 1
        self.out.flush()

    def close(self) -> None:
        """End the document (the JSON array's bracket; `[]` when nothing was written)."""
        if self.fmt == "json":
            self.out.write("\n]\n" if self.count else "[]\n")
            self.out.flush()


def write_records(results: Iterable[RunResult], *, fmt: str, out: TextIO) -> int:
    """Write every result as `fmt` ("jsonl", "json" or "csv"), one by one; the number written."""
    writer = RecordWriter(fmt, out=out)
    for result in results:
        writer.write(to_record(result))
    writer.close()
    return writer.count


def write_jsonl(results: Iterable[RunResult], *, out: TextIO) -> None:
    write_records(results, fmt="jsonl", out=out)


def write_json(results: Iterable[RunResult], *, out: TextIO) -> None:
    write_records(results, fmt="json", out=out)


def write_csv(results: Iterable[RunResult], *, out: TextIO) -> None:
    write_records(results, fmt="csv", out=out)
