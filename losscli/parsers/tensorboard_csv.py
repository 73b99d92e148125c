"""TensorBoard's "Download data" files: CSV (`Wall time,Step,Value`) or JSON (`[[wall_time, step, value], ...]`).

One file holds one tag, and the tag is not in it: it is taken from the file name, the way people save them
(`train_loss.csv`, `run-.-tag-train_loss.csv` as TensorBoard names them), and mapped like any logged tag.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import Run, columns_from_records
from losscli.metric_names import name_metrics
from losscli.parsers.base import Format, ReadOptions, Source, read_text
from losscli.parsers.text_tables import header_fields
from losscli.restarts import resolve_restarts, restart_messages, restart_meta

HEADER = ["Wall time", "Step", "Value"]
_TB_NAME = re.compile(r"^run[-_].*?-tag-(?P<tag>.+)$")


def tag_from_name(path: Path) -> str:
    """TensorBoard names downloads `run-<run>-tag-<tag with / as _>`; people often rename them to the tag."""
    match = _TB_NAME.match(path.stem)
    return match.group("tag") if match else path.stem


class TensorBoardDownload(Format):
    name = "tensorboard_csv"
    label = "TensorBoard download"

    def claim_file(self, path: Path, head: bytes) -> bool:
        if path.name.endswith(".csv"):
            return header_fields(head)[:3] == HEADER
        if path.name.endswith(".json"):
            return bool(re.match(rb"\s*\[\s*\[\s*\d+(\.\d+)?(e[+-]?\d+)?\s*,\s*\d+\s*,", head))
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_tensorboard_download(source.path)]


def read_tensorboard_download(path: Path) -> Run:
    """Read one downloaded tag (CSV or JSON) into a run."""
    tag = tag_from_name(path)
    (metric,) = name_metrics([tag], points=[1]).metrics
    records = []
    bad = 0
    cut: list[str] = []
    for row in _rows(path, cut):
        try:
            wall, step, value = float(row[0]), float(row[1]), float(row[2])
        except (ValueError, TypeError, IndexError):
            bad += 1
            continue
        if not -(2.0**63) < step < 2.0**63:  # also False for NaN: steps are int64 in the frame
            bad += 1
            continue
        records.append((metric, tag, int(step), math.nan, value, wall if math.isfinite(wall) else math.nan))
    if not records:
        raise ParseError(path, "no rows of wall time, step and value")
    cols, restarts = resolve_restarts(columns_from_records(records))
    warnings, notes = restart_messages(path, found=restarts)
    warnings[:0] = cut
    if bad:
        warnings.insert(0, f"{path}: {bad} rows that are not wall time, step, value were skipped")
    notes.insert(0, f"one tag per file; the tag `{tag}` was taken from the file name")
    return Run(
        name=path.stem,
        path=path,
        format="tensorboard_csv",
        scalars=cols,
        meta={"source_files": [str(path)], **restart_meta(restarts)},
        warnings=warnings,
        notes=notes,
    )


def _rows(path: Path, warnings: list[str]) -> list[list[Any]]:
    """The file's rows: a JSON list of lists (the complete ones of a file cut off), or the CSV's rows under its
    header."""
    if path.name.endswith(".json"):
        from losscli.parsers.partial_json import load_json

        try:
            data, cut = load_json(read_text(path))
        except json.JSONDecodeError as exc:
            raise ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(data, list):
            raise ParseError(path, "not a list of [wall time, step, value] rows")
        if cut is not None:
            warnings.append(f"{path}: the file is cut off; the {cut.elements} complete rows before the cut were kept")
        return [r for r in data if isinstance(r, list)]
    reader = csv.reader(io.StringIO(read_text(path)))
    try:
        next(reader, None)
        return list(reader)
    except csv.Error as exc:
        raise ParseError(path, f"not a readable CSV: {exc}") from None


FORMATS = [TensorBoardDownload()]
