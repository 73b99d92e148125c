"""A loss table's columns (one float array per column, however the file was read) made into a run.

The roles of the columns come from `table_columns`; an epoch counter becomes progress (`epoch_index`); every other
column's points are taken in logged order (row by row, in column order within a row), named by the one naming
rule (columns the user chose keep the role they were given), and the one restart rule resolves steps logged again.
Parquet files are loaded here with pyarrow (the `parquet` extra), for the columns that are read only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import Run, make_columns
from losscli.parsers.base import ReadOptions
from losscli.parsers.epoch_index import index_progress, is_counter
from losscli.parsers.records import decide_names
from losscli.parsers.table_columns import Plan, plan_columns
from losscli.restarts import resolve_restarts, restart_messages

if TYPE_CHECKING:
    import numpy as np

PARQUET_EXTRA = "pip install 'losscli[parquet]'"


def table_run(
    path: Path,
    names: list[str],
    columns: dict[str, np.ndarray],
    nan_points: dict[str, np.ndarray],
    *,
    options: ReadOptions,
    warnings: Sequence[str] = (),
) -> Run:
    """The run of one table (module docstring). `nan_points` are rows where a column holds a NaN the writer
    wrote (a point), as opposed to NaN for "not logged"."""
    import numpy as np

    plan = plan_columns(path, names, options)
    raw_step = columns[plan.step]
    usable = np.isfinite(raw_step) & (np.abs(raw_step) < 2.0**63)  # steps are int64 in the frame
    if not usable.any():
        raise ParseError(path, f"no row has a usable step in its `{plan.step}` column")
    step = np.where(usable, raw_step, 0).astype(np.int64)
    epoch, epoch_note = _epochs(step, columns[plan.epoch] if plan.epoch else None, usable, plan.epoch)
    wall = columns[plan.wall] if plan.wall else np.full(len(step), np.nan)

    kept, masks = [], []
    for column in plan.metrics:
        values = columns.get(column)
        if values is None:
            continue
        mask = usable & ~np.isnan(values)
        rows = nan_points.get(column)
        if rows is not None and len(rows):
            mask[rows] = usable[rows]
        if mask.any():
            kept.append(column)
            masks.append(mask)
    if not kept:
        raise ParseError(path, "no numbers in any column besides the step")
    metric_names, naming_notes = decide_names(
        [plan.metrics[c] for c in kept], points=[int(m.sum()) for m in masks], fixed=plan.fixed
    )
    which = np.concatenate([np.full(int(m.sum()), i) for i, m in enumerate(masks)])
    row = np.concatenate([np.flatnonzero(m) for m in masks])
    order = np.lexsort((which, row))  # logged order: row by row, then column by column
    which, row = which[order], row[order]
    values = np.concatenate([columns[c][m] for c, m in zip(kept, masks)])[order]
    cols = make_columns(
        np.asarray(metric_names, dtype=object)[which],
        np.asarray(kept, dtype=object)[which],
        step[row],
        epoch[row],
        values,
        wall[row],
    )
    frame, restarts = resolve_restarts(cols)
    more_warnings, restart_notes = restart_messages(path, found=restarts)
    all_warnings = list(warnings)
    skipped = len(step) - int(usable.sum())
    if skipped:
        all_warnings.append(f"{path}: {skipped} rows without a usable step (`{plan.step}`) were skipped")
    notes = [*plan.notes, _columns_note(plan, kept), *([epoch_note] if epoch_note else []), *naming_notes]
    meta: dict[str, Any] = {"source_files": [str(path)], "step_column": plan.step}
    if plan.epoch:
        meta["epoch_values"] = epoch_note or "progress"
    return Run(
        name=path.name,
        path=path,
        format="loss_table",
        scalars=frame,
        meta=meta,
        warnings=all_warnings + more_warnings,
        notes=notes + restart_notes,
    )


def _epochs(step: np.ndarray, raw: np.ndarray | None, usable: np.ndarray, column: str | None) -> tuple[np.ndarray, str]:
    """Each row's epoch progress, and a note when a counter was converted (module docstring)."""
    import numpy as np

    if raw is None:
        return np.full(len(step), np.nan), ""
    known = usable & np.isfinite(raw)
    if not is_counter(raw[known]):
        return raw.astype(np.float64), ""
    first = float(raw[known].min())
    base = 0.0 if first < 1 else 1.0
    out = np.full(len(step), np.nan)
    out[known] = index_progress(step[known], raw[known] - base)
    counted = "0-based epoch index (0 for the first epoch)" if base == 0 else "1-based epoch count (1 for the first)"
    return out, f"`{column}` is a {counted}; it was converted to epoch progress"


def _columns_note(plan: Plan, kept: list[str]) -> str:
    roles = [f"step `{plan.step}`"]
    roles += [f"epoch `{plan.epoch}`"] if plan.epoch else []
    chosen = [f"{name} `{column}`" for column, name in plan.metrics.items() if name in plan.fixed and column in kept]
    rest = [f"`{c}`" for c in kept if plan.metrics[c] not in plan.fixed]
    return "columns read: " + ", ".join(roles + chosen) + (f"; metrics {', '.join(rest)}" if rest else "")


def read_parquet_table(path: Path, *, options: ReadOptions) -> Run:
    """A Parquet loss table, for the columns that are read; NaN and null are "not logged" here."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ParseError(path, f"reading Parquet needs pyarrow ({PARQUET_EXTRA})") from None
    try:
        names = [str(n) for n in pq.read_schema(path).names]
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise ParseError(path, f"not a readable Parquet file: {exc}") from None
    plan = plan_columns(path, names, options)
    wanted = list(dict.fromkeys(c for c in (plan.step, plan.epoch, plan.wall, *plan.metrics) if c))
    try:
        table = pq.read_table(path, columns=wanted)
        columns = {name: _floats(table.column(name)) for name in wanted}
    except Exception as exc:
        raise ParseError(path, f"not a readable Parquet file: {exc}") from None
    return table_run(path, names, columns, {}, options=options)


def _floats(column: Any) -> np.ndarray:
    """A pyarrow column as float64, NaN where it is null or not a number."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        return np.full(len(column), np.nan)
    return np.asarray(pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float64)
