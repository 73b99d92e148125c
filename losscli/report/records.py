"""One flat, JSON-safe record per run: the shape every machine-readable output shares.

Every string in a record is printable (`report.printable`: a name that is not UTF-8 shows its bad bytes as
`\\xff`), and every number finite or null. The keys `run`, `path`, `format`, `verdict`, `score`, `epochs`,
`points`, `boundaries`, `reason` and `error` are a contract other tools rely on; later keys may be added, none
removed. `config` is what the run was (`losscli.config.record.KEYS`, null where unknown); CSV flattens it into
`config.*` columns.
"""

from __future__ import annotations

import math
from typing import Any

from losscli.analysis.result import RunResult
from losscli.config.record import UNKNOWN, flat_config
from losscli.report.printable import printable_values


def _num(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def to_record(result: RunResult) -> dict[str, Any]:
    """The run's record; every number in it is finite or null, so that strict JSON readers accept it, and every
    string printable, so that any UTF-8 writer accepts it."""
    return printable_values(_finite(_record(result)))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _record(result: RunResult) -> dict[str, Any]:
    a = result.analysis
    record: dict[str, Any] = {
        "run": result.run,
        "path": result.path,
        "format": result.format,
        "verdict": result.verdict,
        "score": a.score if a else None,
        "epochs": a.epochs if a else None,
        "points": a.points if a else None,
        "boundaries": [
            {
                "epoch": b.epoch,
                "step": _num(b.step, 2),
                "drop": _num(b.drop, 5),
                "relative_drop": _num(b.relative_drop),
                "z": _num(b.z, 2),
                "t": _num(b.t, 2),
                "share": _num(b.share, 3),
                "stepped": b.stepped,
            }
            for b in (a.boundaries if a else ())
        ],
        "reason": a.reason if a else result.error,
        "error": result.error,
        "boundary_source": a.boundary_source if a else None,
        "steps_per_epoch": a.steps_per_epoch if a else None,
        "largest_drop": largest_drop(result),
        "memorization": a.memorization if a else None,
        "eval": None,
        "late_epoch_rise": list(a.late_epoch_rise) if a else [],
        "warnings": list(result.warnings),
        "notes": list(result.notes) + (list(a.notes) if a else []),
        "config": (result.config or UNKNOWN).to_record(),
    }
    if a and a.eval:
        e = a.eval
        record["eval"] = {
            "points": e.points,
            "best_loss": _num(e.best_value, 6),
            "best_step": e.best_step,
            "best_epoch": e.best_epoch,
            "best_checkpoint": e.best_checkpoint,
            "last_loss": _num(e.last_value, 6),
            "rises": e.rises,
        }
    return record


def largest_drop(result: RunResult) -> float | None:
    a = result.analysis
    if not a or not a.boundaries:
        return None
    return _num(max(b.drop for b in a.boundaries), 5)


def flat_record(result: RunResult) -> dict[str, Any]:
    """One CSV row: nested fields flattened to scalars."""
    return flatten(to_record(result))


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """A record (as `to_record` makes it) as one CSV row: nested fields flattened to scalars."""
    record = dict(record)
    ev = record.pop("eval") or {}
    bounds = record.pop("boundaries")
    record["stepped_boundaries"] = ";".join(str(b["epoch"]) for b in bounds if b["stepped"])
    record["boundary_drops"] = ";".join(f"{b['epoch']}:{b['drop']}" for b in bounds)
    for key in ("best_loss", "best_step", "best_epoch", "best_checkpoint", "last_loss", "rises"):
        record[f"eval_{key}"] = ev.get(key)
    record["late_epoch_rise"] = ";".join(str(e) for e in record["late_epoch_rise"])
    record["warnings"] = " | ".join(record["warnings"])
    record["notes"] = " | ".join(record["notes"])
    record.update(flat_config(record.pop("config", None)))
    return record
