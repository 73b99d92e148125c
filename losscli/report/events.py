"""`losscli watch`'s lines for people: one line per event, the time, the run and what changed, in words.

Scripts read the events as JSON (`Event.record`); this is only how they read to a person, so that the numbers
in a line are the ones in the event.
"""

from __future__ import annotations

import time
from typing import Any

from losscli.report.printable import printable
from losscli.watch.events import Event


def event_line(event: Event) -> str:
    """`HH:MM:SS  run  what changed`."""
    clock = time.strftime("%H:%M:%S", time.localtime(event.time))
    return printable(f"{clock}  {event.run}  {_words(event)}")


def _words(event: Event) -> str:
    d = event.details
    if event.event in ("found", "verdict"):
        change = f"{d['previous']} -> {event.verdict}" if event.event == "verdict" else event.verdict
        if "first_step" in d:
            count = d["stepped_boundaries"]
            more = f"; {count} stepped boundaries" if count > 1 else ""
            return f"{change}: first stepped boundary {_boundary(d['first_step'])}{more} (score {d['score']})"
        return f"{change}: {d.get('reason')}" + (f" (score {d['score']})" if d.get("score") is not None else "")
    if event.event == "step":
        return f"another stepped boundary {_boundary(d)}"
    if event.event == "eval_rise":
        return f"eval loss rises: {d.get('last_loss')} now, lowest {_best(d)}"
    if event.event == "memorization":
        return f"memorization: eval loss rises while the train loss steps down; lowest {_best(d)}"
    if event.event == "nan":
        return f"{d['count']} NaN or infinite loss values (left out of the analysis)"
    if "message" in d:
        return (
            f"{event.event} ({d.get('kind', '')}): {d['message']}" if "kind" in d else f"{event.event}: {d['message']}"
        )
    return f"{event.event}: " + ", ".join(f"{k} {v}" for k, v in d.items())


def _boundary(b: dict[str, Any]) -> str:
    step = b.get("step")
    at = f"{step:g}" if isinstance(step, (int, float)) else "?"
    relative = b.get("relative_drop")
    share = f" ({100 * relative:.1f} %)" if isinstance(relative, (int, float)) else ""
    return f"at epoch {b.get('epoch')} (step {at}): drop {b.get('drop')}{share}"


def _best(d: dict[str, Any]) -> str:
    keep = f"; keep {d['best_checkpoint']}" if d.get("best_checkpoint") else ""
    return f"{d.get('best_loss')} at step {d.get('best_step')}{keep}"
