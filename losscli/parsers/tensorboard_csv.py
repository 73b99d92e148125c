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
from losscli.metric_names import canonical_metric
from losscli.parsers.base import Format, ReadOptions, Source, read_text
from losscli.restarts import resolve_restarts, restart_warning

_HEADER = b"Wall time,Step,Value"
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
            return head.lstrip(b"\xef\xbb\xbf").startswith(_HEADER)
        if path.name.endswith(".json"):
            return bool(re.match(rb"\s*\[\s*\[\s*\d+(\.\d+)?(e[+-]?\d+)?\s*,\s*\d+\s*,", head))
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        path = source.path
        text = read_text(path)
        rows = self._rows(path, text)
        tag = tag_from_name(path)
        metric = canonical_metric(tag)
        records = []
        bad = 0
        for row in rows:
            try:
                wall, step, value = float(row[0]), int(float(row[1])), float(row[2])
            except (ValueError, TypeError, IndexError):
                bad += 1
                continue
            if not math.isfinite(wall):
                wall = math.nan
            records.append((metric, tag, step, math.nan, value, wall))
        if not records:
            raise ParseError(path, "no rows of wall time, step and value")
        cols, replaced = resolve_restarts(columns_from_records(records))
        warnings = [f"{path}: {bad} rows that are not wall time, step, value were skipped"] if bad else []
        if replaced:
            warnings.append(restart_warning(path, replaced))
        notes = [f"one tag per file; the tag `{tag}` was taken from the file name"]
        return [
            Run(
                name=path.stem,
                path=path,
                format=self.name,
                scalars=cols,
                meta={"source_files": [str(path)]},
                warnings=warnings,
                notes=notes,
            )
        ]

    @staticmethod
    def _rows(path: Path, text: str) -> list[list[Any]]:
        if path.name.endswith(".json"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ParseError(path, f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
            if not isinstance(data, list):
                raise ParseError(path, "not a list of [wall time, step, value] rows")
            return [r for r in data if isinstance(r, list)]
        reader = csv.reader(io.StringIO(text))
        next(reader, None)
        return list(reader)


FORMATS = [TensorBoardDownload()]
