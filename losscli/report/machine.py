"""Output for scripts: JSON Lines, one JSON document, or CSV with one header and one row per run."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import TextIO

from losscli.analysis.result import RunResult
from losscli.report.records import flat_record, to_record


def write_jsonl(results: Sequence[RunResult], out: TextIO) -> None:
    for result in results:
        out.write(json.dumps(to_record(result), allow_nan=False) + "\n")


def write_json(results: Sequence[RunResult], out: TextIO) -> None:
    json.dump([to_record(r) for r in results], out, indent=2, allow_nan=False)
    out.write("\n")


def write_csv(results: Sequence[RunResult], out: TextIO) -> None:
    rows = [flat_record(r) for r in results]
    if not rows:
        return
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
