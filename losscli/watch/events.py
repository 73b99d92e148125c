"""Turn a run's successive judgements into events: what changed since the last one, said once.

A judgement is compared as its record (`losscli.report.records.to_record`, the JSON record every output
shares), so that whatever the analysis adds to the record shows here without a change: a new item in any list
of the record (findings, late-epoch rises, ...) is an event named after the list (`findings` gives `finding`
events). Some changes are told in more detail:

- `found`: the first judgement of a run (its verdict, and for a stepped run its first stepped boundary);
- `verdict`: the verdict changed; to `stepped`, with the first stepped boundary, its drop and its step;
- `step`: another boundary became stepped;
- `eval_rise`: the eval loss rose from its lowest point (which checkpoint to keep);
- `memorization`: that rise while the train loss steps down;
- `nan`: the first NaN or infinite train or eval loss.

Each item is told once per run, even if a later judgement drops it and another brings it back (a boundary whose
evidence wavers while its epoch is young); a verdict change is told whenever it happens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from losscli.verdicts import STEPPED

# list keys of the record told in their own way (boundaries), or not events (messages go to stderr once)
_NOT_ITEMS = frozenset({"boundaries", "warnings", "notes"})
_SINGULAR = {"findings": "finding", "causes": "cause"}


@dataclass(frozen=True)
class Event:
    """One change in one run: `event` names it, `details` hold its numbers (as the record gives them)."""

    time: float  # seconds since the epoch, when the look that found it started
    run: str
    format: str
    path: str
    event: str
    verdict: str
    details: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The event as one JSON object: `time` (ISO 8601, UTC), `run`, `event`, `verdict`, then the rest."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.time))
        head = {"time": stamp, "run": self.run, "event": self.event, "verdict": self.verdict}
        return {**head, "format": self.format, "path": self.path, **self.details}


@dataclass
class RunHistory:
    """What has been told about one run: its last record and every item told."""

    record: dict[str, Any] | None = None
    told: set[tuple[str, str]] = field(default_factory=set)


def changes(history: RunHistory, record: dict[str, Any], *, when: float) -> list[Event]:
    """The events between the run's last record and `record` (module docstring); `history` moves on to it."""
    before = history.record
    out: list[Event] = []

    def emit(name: str, details: dict[str, Any]) -> None:
        out.append(Event(when, record["run"], record["format"], record["path"], name, record["verdict"], details))

    stepped = [b for b in record.get("boundaries") or [] if b.get("stepped")]
    summary = _verdict_details(record, stepped)
    if before is None:
        emit("found", summary)
    elif before["verdict"] != record["verdict"]:
        emit("verdict", {"previous": before["verdict"], **summary})
    if before is None or before["verdict"] != record["verdict"]:
        history.told.update(("boundary", str(b["epoch"])) for b in stepped)  # told with the verdict
    for boundary in stepped:
        if _first_time(history, "boundary", str(boundary["epoch"])):
            emit("step", _boundary(boundary))
    evaluation = record.get("eval") or {}
    if evaluation.get("rises") and _first_time(history, "eval_rise", ""):
        emit("eval_rise", _eval(evaluation))
    if record.get("memorization") and _first_time(history, "memorization", ""):
        emit("memorization", _eval(evaluation))
    if record.get("non_finite_losses") and _first_time(history, "nan", ""):
        emit("nan", {"count": record["non_finite_losses"]})
    for key, items in record.items():
        if key in _NOT_ITEMS or not isinstance(items, list):
            continue
        for item in items:
            if _first_time(history, key, _identity(item)):
                emit(_SINGULAR.get(key, key), dict(item) if isinstance(item, dict) else {"value": item})
    history.record = record
    return out


def _first_time(history: RunHistory, key: str, identity: str) -> bool:
    if (key, identity) in history.told:
        return False
    history.told.add((key, identity))
    return True


def _identity(item: Any) -> str:
    """What makes an item the same item in the next judgement: its kind and step when it has them (the values of
    a finding move a little as points come in), else all of it."""
    if isinstance(item, dict) and "kind" in item:
        return json.dumps([item.get("kind"), item.get("step")])
    return json.dumps(item, sort_keys=True, default=str)


def _verdict_details(record: dict[str, Any], stepped: list[dict[str, Any]]) -> dict[str, Any]:
    details: dict[str, Any] = {
        "score": record.get("score"),
        "points": record.get("points"),
        "epochs": record.get("epochs"),
        "reason": record.get("reason"),
    }
    if record["verdict"] == STEPPED and stepped:
        details["stepped_boundaries"] = len(stepped)
        details["first_step"] = _boundary(stepped[0])
    return details


def _boundary(boundary: dict[str, Any]) -> dict[str, Any]:
    return {k: boundary.get(k) for k in ("epoch", "step", "drop", "relative_drop")}


def _eval(evaluation: dict[str, Any]) -> dict[str, Any]:
    keys = ("best_loss", "best_step", "best_epoch", "best_checkpoint", "last_loss")
    return {k: evaluation.get(k) for k in keys}
