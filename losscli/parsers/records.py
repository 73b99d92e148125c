"""Points collected one at a time, and the one way they become a run.

Readers of logs that hold their points entry by entry (a Trainer state, a console capture, a JSONL or DiskLogger
file, an MLflow metric file) collect `Record` tuples `(name, tag, step, epoch, value, wall_time)` in logged order:
`tag` is the name as logged, `name` what it will be called before the naming rule has seen the whole run (the
HF Trainer's `eval_loss` is `eval/loss` already; a table's `loss` is still `loss`). `build_run` then applies, in
this order and for every such reader alike, the one naming rule (`metric_names.name_metrics`, which needs every
column's point count, hence only at the end) and the one restart rule (`restarts.resolve_restarts`), and makes the
`Run` with their messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from losscli.errors import ParseError
from losscli.frame import ConfigSource, Run, columns_from_records
from losscli.metric_names import name_metrics
from losscli.restarts import resolve_restarts, restart_messages

Record = tuple[str, str, int, float, float, float]


def name_records(records: list[Record], *, fixed: frozenset[str] = frozenset()) -> tuple[list[Record], list[str]]:
    """Records with their metric decided by the one naming rule, and its notes (`decide_names`)."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record[0]] = counts.get(record[0], 0) + 1
    names, notes = decide_names(list(counts), points=list(counts.values()), fixed=fixed)
    metric = dict(zip(counts, names))
    return [(metric[r[0]], *r[1:]) for r in records], notes


def decide_names(
    names: list[str], *, points: list[int], fixed: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """The metric of each of `names` (with `points` points each) by the one naming rule, and its notes. Names in
    `fixed` (columns the user chose for a role) keep their name, and no other column may take it."""
    free = [i for i, name in enumerate(names) if name not in fixed]
    naming = name_metrics([names[i] for i in free], points=[points[i] for i in free])
    out = list(names)
    for i, named in zip(free, naming.metrics):
        out[i] = names[i] if named in fixed else named
    return out, naming.notes


def build_run(
    records: list[Record],
    *,
    path: Path,
    name: str,
    format: str,
    where: Path | None = None,
    meta: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
    notes: list[str] | None = None,
    configs: list[ConfigSource] | None = None,
    named: bool = False,
) -> Run:
    """The run of `records` in logged order: named (unless `named` says they are already), restarts resolved,
    with the warnings and notes both rules give. `where` is the file the messages name (default `path`)."""
    where = where or path
    if not records:
        raise ParseError(where, "no points")
    notes = list(notes or [])
    if not named:
        records, naming_notes = name_records(records)
        notes.extend(naming_notes)
    frame, restarts = resolve_restarts(columns_from_records(records))
    more_warnings, more_notes = restart_messages(where, found=restarts)
    meta = dict(meta or {})
    meta.setdefault("source_files", [str(where)])
    return Run(
        name=name,
        path=path,
        format=format,
        scalars=frame,
        meta=meta,
        warnings=[*(warnings or []), *more_warnings],
        notes=notes + more_notes,
        configs=list(configs or []),
    )


def number(value: Any) -> float | None:
    """A JSON or Python scalar as a float: None for anything that is not a real number (bool, text, null)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def usable_step(value: Any) -> int | None:
    """A usable step: a finite number that fits the frame's int64 steps; None for anything else."""
    found = number(value)
    if found is None or not -(2.0**63) < found < 2.0**63:  # also False for NaN
        return None
    return int(found)
