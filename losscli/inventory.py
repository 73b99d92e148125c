"""`losscli show`: what was found, without judging it."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, TextIO

from losscli.api import _read, run_label
from losscli.discover import WalkOptions, find_sources
from losscli.errors import LossCliError
from losscli.parsers.base import ReadOptions


def describe(
    paths: list[Path], include: list[str] | None, exclude: list[str] | None, hidden: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    walk = WalkOptions(include=tuple(include or ()), exclude=tuple(exclude or ()), include_hidden=hidden)
    found = find_sources(paths, walk)
    items: list[dict[str, Any]] = []
    for source, root in found.sources:
        try:
            runs = _read(source, root, ReadOptions())
        except LossCliError as exc:
            items.append(
                {
                    "run": run_label(source.path, root),
                    "path": str(source.path),
                    "format": source.format,
                    "error": str(exc),
                    "files": [str(f) for f in source.files],
                }
            )
            continue
        for run in runs:
            frame = run.scalars
            epochs = frame["epoch"].dropna()
            items.append(
                {
                    "run": run.name,
                    "path": str(run.path),
                    "format": run.format,
                    "metrics": run.metrics(),
                    "steps": [int(frame["step"].min()), int(frame["step"].max())] if len(frame) else None,
                    "epochs": [_r(epochs.min()), _r(epochs.max())] if len(epochs) else None,
                    "files": run.meta.get("source_files") or [str(f) for f in source.files],
                    "checkpoints": run.meta.get("checkpoints", []),
                    "warnings": run.warnings,
                    "notes": run.notes,
                    "error": None,
                }
            )
    return items, found.warnings


def _r(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def render_inventory(items: list[dict[str, Any]], console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("run", "format", "metrics (points)", "steps", "epochs", "files"):
        table.add_column(name, overflow="fold")
    for item in sorted(items, key=lambda i: i["run"]):
        if item.get("error"):
            table.add_row(
                Text(item["run"]),
                Text(item["format"]),
                Text("error: " + item["error"], style="magenta"),
                Text(""),
                Text(""),
                Text("\n".join(item["files"])),
            )
            continue
        metrics = ", ".join(f"{k} ({v})" for k, v in item["metrics"].items())
        steps = "" if not item["steps"] else f"{item['steps'][0]}–{item['steps'][1]}"
        epochs = "" if not item["epochs"] else f"{item['epochs'][0]:g}–{item['epochs'][1]:g}"
        files = "\n".join(item["files"])
        if item["checkpoints"]:
            files += f"\n({len(item['checkpoints'])} checkpoints)"
        table.add_row(Text(item["run"]), Text(item["format"]), Text(metrics), Text(steps), Text(epochs), Text(files))
    console.print(table)


def write_inventory(items: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for item in items:
            out.write(json.dumps(item) + "\n")
    elif fmt == "json":
        json.dump(items, out, indent=2)
        out.write("\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", "path", "format", "metric", "points", "error"])
        for item in items:
            for metric, count in (item.get("metrics") or {"": ""}).items():
                writer.writerow([item["run"], item["path"], item["format"], metric, count, item.get("error") or ""])
