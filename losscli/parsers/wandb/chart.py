"""Read a W&B chart CSV export (see `exports`) into one run per run line of the chart.

Splitting `"<run> - <metric>"` when run names contain `" - "` themselves: when the x-axis is not the step,
every run has a `"<run> - _step"` column, which names the runs exactly, and the other columns are matched
against those names (the longest that fits). Otherwise each column is split where its metric part is shared by
the most columns of the file (every run of a chart plots the same metrics), and on a tie at the last `" - "`
(metric names rarely contain one, run names often do).

Per run: the step is the x-axis when that is `train/global_step` (the HF Trainer's step, its charts' default
x-axis), else the run's `_step` column, else the x-axis when that is a step (`Step`, `_step`) or holds whole
numbers, else the row number; an epoch x-axis (or a `train/epoch` line) fills the epoch column. Empty cells
are missing values. `__MIN` / `__MAX` columns are not points; they only tell how many rows merged several
logged points, which goes into the run's notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import EPOCH, Run
from losscli.metric_names import canonical_metric

if TYPE_CHECKING:
    import pandas as pd

SEP = " - "
STEP_SUFFIX = SEP + "_step"
BOUNDS = ("__MIN", "__MAX")
STEP_KEYS = ("train/global_step", "trainer/global_step")
STEP_AXES = {"step", "_step", "global_step"}
GROUP_PREFIX = "Group: "


def split_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """Map each value column (not `__MIN`/`__MAX`) to `(run name, metric)`."""
    base = [c for c in columns if SEP in c and not c.endswith(BOUNDS)]
    known = sorted({c[: -len(STEP_SUFFIX)] for c in base if c.endswith(STEP_SUFFIX)}, key=len, reverse=True)
    plain = [c for c in base if not c.endswith(STEP_SUFFIX)]
    counts: dict[str, int] = {}
    for column in plain:
        for suffix in _suffixes(column):
            counts[suffix] = counts.get(suffix, 0) + 1
    found: dict[str, tuple[str, str]] = {}
    for column in base:
        if column.endswith(STEP_SUFFIX):
            found[column] = (column[: -len(STEP_SUFFIX)], "_step")
            continue
        run = next((r for r in known if column.startswith(r + SEP) and len(column) > len(r) + len(SEP)), None)
        if run is not None:
            found[column] = (run, column[len(run) + len(SEP) :])
            continue
        suffixes = _suffixes(column)  # shortest first
        best = max(suffixes, key=lambda s: (counts.get(s, 0), -len(s)))
        found[column] = (column[: -len(best) - len(SEP)], best)
    return found


def _suffixes(column: str) -> list[str]:
    """Every metric part a split at one `" - "` could give, shortest first."""
    found = []
    start = column.find(SEP)
    while start > 0:
        tail = column[start + len(SEP) :]
        if tail:
            found.append(tail)
        start = column.find(SEP, start + 1)
    return sorted(set(found), key=len)


def read_chart_csv(path: Path) -> list[Run]:
    import numpy as np
    import pandas as pd

    from losscli.parsers.wandb.export_tables import read_csv_table

    table, _ = read_csv_table(path)
    columns = [str(c) for c in table.columns]
    table.columns = columns
    if len(columns) < 2:
        raise ParseError(path, "a chart export needs an x-axis column and at least one run column")
    x_axis = columns[0]
    x_values = table[x_axis].astype(np.float64)
    split = split_columns(columns[1:])
    runs: dict[str, dict[str, str]] = {}  # run -> metric -> column
    for column, (run, metric) in split.items():
        runs.setdefault(run, {}).setdefault(metric, column)
    if not runs:
        raise ParseError(path, "no `<run> - <metric>` columns")

    found: list[Run] = []
    for run, metrics in runs.items():
        value_columns = {m: c for m, c in metrics.items() if m != "_step"}
        if not value_columns:
            continue
        rows = table[list(value_columns.values())].notna().any(axis=1)
        if not rows.any():
            continue
        step, step_note = _steps(table, x_axis, x_values, metrics.get("_step"))
        sub: dict[str, Any] = {"_step": step[rows].to_numpy()}
        if canonical_metric(x_axis) == EPOCH and not any(canonical_metric(m) == EPOCH for m in value_columns):
            sub[x_axis] = x_values[rows].to_numpy()
        for metric, column in value_columns.items():
            sub[metric] = table.loc[rows, column].to_numpy(dtype=np.float64)
        found.append(_chart_run(path, run, pd.DataFrame(sub), table, metrics, rows, step_note))
    if not found:
        raise ParseError(path, "every run column is empty")
    return found


def _steps(table: pd.DataFrame, x_axis: str, x_values: pd.Series, step_column: str | None) -> tuple[pd.Series, str]:
    import numpy as np
    import pandas as pd

    axis = x_axis.strip().lower()
    if axis in STEP_KEYS:  # the HF Trainer's step, which its runs' charts use by default
        return x_values, f"steps are the chart's x-axis `{x_axis}`"
    if step_column is not None:
        return table[step_column].astype(np.float64), ""
    if axis in STEP_AXES:
        return x_values, ""
    finite = x_values.dropna()
    if len(finite) and bool(np.all(np.isfinite(finite))) and bool((finite == finite.round()).all()):
        return x_values, f"the chart's x-axis `{x_axis}` is used as the step"
    rows = pd.Series(np.arange(len(table), dtype=np.float64), index=table.index)
    return rows, f"the chart's x-axis `{x_axis}` has no step and there is no `_step` column: row numbers used"


def _chart_run(
    path: Path,
    run: str,
    sub: pd.DataFrame,
    table: pd.DataFrame,
    metrics: dict[str, str],
    rows: pd.Series,
    step_note: str,
) -> Run:
    from losscli.parsers.wandb.history import describe, history_frame
    from losscli.restarts import restart_meta

    result = history_frame(sub)
    warnings, notes = describe(result, where=f"{path} [{run}]")
    merged = 0
    for column in metrics.values():
        low, high = table.get(column + "__MIN"), table.get(column + "__MAX")
        if low is not None and high is not None:
            differs = (low[rows] != high[rows]) & low[rows].notna() & high[rows].notna()
            merged = max(merged, int(differs.sum()))
    notes.insert(
        0,
        (
            f"W&B chart export: these {int(rows.sum())} rows are the points the chart showed, sampled and "
            f"bucketed by the W&B UI, not the full logged history ({merged} rows merged several points; "
            "__MIN/__MAX are not read), so a staircase at epoch boundaries may look blurred; "
            "a history export (`run.history()`) has the exact curve"
        ),
    )
    if step_note:
        notes.append(step_note)
    if run.startswith(GROUP_PREFIX):
        notes.append(f"`{run}` is a group's aggregate line, not a single run")
    meta: dict[str, Any] = {
        "source_files": [str(path)],
        "export_run": run,
        "x_axis": str(table.columns[0]),
        "bucketed_rows": merged,
        **restart_meta(result.restarts),
    }
    return Run(
        name=run,
        path=path,
        format="wandb_csv",
        scalars=result.frame,
        meta=meta,
        warnings=warnings,
        notes=notes,
    )
