"""The conditions `losscli watch --exit-on` stops on, met by a run's current record.

A condition is a verdict (`stepped`, `smooth`, `inconclusive`, `error`), `memorization` (eval loss rises while
the train loss steps down), `eval_rise` (eval loss rose from its lowest point), `nan` (a NaN or infinite train or
eval loss), or the kind of any finding in the record's `findings` list (`divergence`, `spike`, ...: the kinds
the analysis reports; `nan` and `eval_rise` are met by those findings too).
"""

from __future__ import annotations

from typing import Any

from losscli.verdicts import VERDICTS

# the kinds of `findings` the analysis reports (issue 12), accepted before it reports them
FINDING_KINDS = ("nan", "divergence", "spike", "plateau", "eval_rise", "steps_backwards", "drops_after_eval")
CONDITIONS = tuple(dict.fromkeys((*VERDICTS, "memorization", *FINDING_KINDS)))


def met(record: dict[str, Any], conditions: tuple[str, ...]) -> list[str]:
    """The conditions among `conditions` that the run's record meets, in their order."""
    kinds = {f.get("kind") for f in record.get("findings") or [] if isinstance(f, dict)}
    found = []
    for name in conditions:
        if name in VERDICTS:
            hit = record.get("verdict") == name
        elif name == "memorization":
            hit = bool(record.get("memorization"))
        elif name == "eval_rise":
            hit = bool((record.get("eval") or {}).get("rises")) or name in kinds
        elif name == "nan":
            hit = bool(record.get("non_finite_losses")) or name in kinds
        else:
            hit = name in kinds
        if hit:
            found.append(name)
    return found
