"""`steps_backwards`: the step fell back in the log and it was not a resume.

The restart rule (`losscli.restarts`) tells every fall's kind while reading, and the reader leaves them in the
run's meta (`step_falls`). A resume is what a restart is meant to be and is no finding (it can be a cause of a
staircase: causes.py). The others are: a second run that started over in the same log (the earlier one is not
analysed), a step count that restarted while the epoch went on (a per-epoch counter: only the last stretch can
be placed on a step axis), and points written out of order (kept in step order). One finding per kind, at its
first fall, counting the falls of that kind in the metric that fell most often (each metric falls at the
same places); the train loss's own falls speak first.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from losscli.analysis.findings.context import Context
from losscli.analysis.result import StepsBackwardsFinding
from losscli.frame import TRAIN_LOSS
from losscli.restarts import RESUMED


def steps_backwards_findings(context: Context) -> list[StepsBackwardsFinding]:
    falls = [f for f in _falls(context.meta) if f["kind"] != RESUMED]
    out = []
    for kind in dict.fromkeys(f["kind"] for f in falls):
        these = [f for f in falls if f["kind"] == kind]
        own = [f for f in these if f.get("metric") == TRAIN_LOSS] or these
        first = own[0]
        # each metric falls at the same places; a per-epoch counter falls from the same step to the same step
        # every epoch, so the falls are counted per metric, not by where they go
        times = max(Counter(str(f.get("metric")) for f in own).values())
        out.append(
            StepsBackwardsFinding(
                step=float(first["to_step"]),
                epoch=_number(first.get("to_epoch")),
                value=None,
                how=kind,
                from_step=float(first["from_step"]),
                times=times,
                metric=str(first.get("metric") or ""),
            )
        )
    return out


def _falls(meta: dict[str, Any]) -> list[dict[str, Any]]:
    listed = meta.get("step_falls")
    if not isinstance(listed, list):
        return []
    return [
        f
        for f in listed
        if isinstance(f, dict) and isinstance(f.get("from_step"), int) and isinstance(f.get("to_step"), int)
    ]


def _number(value: Any) -> float | None:
    return round(float(value), 3) if isinstance(value, (int, float)) else None
