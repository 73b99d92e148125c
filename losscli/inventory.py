"""`losscli show`: what was found, without judging it: one item per run, in walk order, as each is read."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from losscli.api import _configuration, _read, run_label
from losscli.discover import Located, Problem, WalkOptions
from losscli.errors import LossCliError
from losscli.parallel import ordered_map
from losscli.parsers.base import ReadOptions, Source
from losscli.report.printable import printable, printable_values
from losscli.storage.sources import closed, find, on_source, stopped


def describe(
    paths: Iterable[str | Path],
    *,
    walk_options: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """One item per run under `paths` (local paths or URLs: `losscli.storage`), a dict of plain, printable values,
    in walk order, each as soon as it and every one before it are read; `on_problem` hears what the walk met, in
    the same order."""
    items = find(paths, walk_options=walk_options, read_options=read_options, storage_options=storage_options)
    read = partial(on_source, work=partial(_items, read_options=read_options or ReadOptions()), failed=_unfetched)
    return _described(items, read, max(1, jobs or os.cpu_count() or 1), on_problem)


def _described(
    items: Iterator[Any],
    read: Callable[[Any], list[dict[str, Any]]],
    jobs: int,
    on_problem: Callable[[Problem], None] | None,
) -> Iterator[dict[str, Any]]:
    def is_work(item: Any) -> bool:
        return not isinstance(item, Problem)

    try:
        for out in ordered_map(read, items, jobs=jobs, is_work=is_work, on_crash=_crashed):
            if isinstance(out, Problem):
                if on_problem:
                    on_problem(out)
                continue
            for found in out:
                yield printable_values(found)
    finally:
        closed(items)


def _crashed(item: Any, exc: BaseException) -> list[dict[str, Any]]:
    return stopped(item, exc, _unfetched)


def _unfetched(located: Located, message: str) -> list[dict[str, Any]]:
    source, root = located
    return [_error_item(source, root, message)]


def _error_item(source: Source, root: Path, message: str) -> dict[str, Any]:
    return {
        "run": run_label(source.path, root=root),
        "path": str(source.path),
        "format": source.format,
        "error": message,
        "files": [str(f) for f in source.files],
    }


def _items(located: Located, *, read_options: ReadOptions) -> list[dict[str, Any]]:
    source, root = located
    try:
        runs = _read(source, root, read_options)
    except Exception as exc:  # a reader's bug is one more unreadable run, as in `classify`
        message = str(exc) if isinstance(exc, LossCliError) else f"{source.path}: could not be read ({exc!r})"
        return [_error_item(source, root, message)]
    items = []
    for run in runs:
        config, config_warnings = _configuration(run, raw=False)  # as `classify` reads it
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
                "warnings": [*run.warnings, *config_warnings],
                "notes": run.notes,
                "error": None,
                "config": config.to_record() if config else None,
            }
        )
    return items


def _r(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


def render_inventory(items: list[dict[str, Any]], *, console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    def text(value: str, style: str = "") -> Text:
        return Text(printable(value), style=style)

    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("run", "format", "metrics (points)", "steps", "epochs", "files"):
        table.add_column(name, overflow="fold")
    for item in sorted(items, key=lambda i: i["run"]):
        files = "\n".join(item["files"])
        if item.get("error"):
            error = text("error: " + item["error"], style="magenta")
            table.add_row(text(item["run"]), text(item["format"]), error, Text(""), Text(""), text(files))
            continue
        metrics = ", ".join(f"{k} ({v})" for k, v in item["metrics"].items())
        steps = "" if not item["steps"] else f"{item['steps'][0]}–{item['steps'][1]}"
        epochs = "" if not item["epochs"] else f"{item['epochs'][0]:g}–{item['epochs'][1]:g}"
        if item["checkpoints"]:
            files += f"\n({len(item['checkpoints'])} checkpoints)"
        table.add_row(text(item["run"]), text(item["format"]), text(metrics), text(steps), text(epochs), text(files))
    console.print(table)


def inventory_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    """`show -f csv`: one row per metric of a run (one row for a run that could not be read)."""
    base = {"run": item["run"], "path": item["path"], "format": item["format"]}
    metrics = item.get("metrics") or {"": ""}
    return [{**base, "metric": m, "points": n, "error": item.get("error") or ""} for m, n in metrics.items()]
