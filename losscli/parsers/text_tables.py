"""Text tables (CSV logs and exports): the one sniffer of their header.

Several formats are CSV files told apart by their header alone: Lightning's `metrics.csv` (`epoch`, `step`, the
metrics), W&B chart exports (`"<run> - <metric>"`), W&B history exports (`_step`, `_runtime`, ...), TensorBoard
downloads (`Wall time,Step,Value`), loss tables (a usual step and loss column, also as TSV). They all sniff the
same way, from a file's first bytes (`header_fields`); `csv_columns` reads such a file's columns.
"""

from __future__ import annotations

import csv

BOM = "\ufeff"


def header_fields(head: bytes, *, delimiter: str = ",") -> list[str]:
    """The header's fields from a file's first bytes, stripped of spaces (a header cut off there loses its last
    field); [] when the first line is not CSV (or, with `delimiter="\\t"`, TSV)."""
    text = head.decode("utf-8", errors="replace").lstrip(BOM)
    line, newline, _ = text.partition("\n")
    try:
        fields = next(csv.reader([line.rstrip("\r")], delimiter=delimiter), [])
    except csv.Error:  # a bare CR or NUL: not a header a logger wrote
        return []
    fields = [f.strip() for f in fields]
    return fields if newline else fields[:-1]
