"""What the HTML report marks on a run's plot besides the epoch boundaries: each finding at its step (a line, a
band over the steps it spans, its kind at the top with its sentence on hover), and the learning-rate restarts on
the learning-rate axis.

Plain dicts for plotly, like html_figures; `where` places a step on the view's x axis (steps or epochs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losscli.analysis.result import (
    DivergenceFinding,
    EvalDropsFinding,
    Finding,
    LrSchedule,
    PlateauFinding,
    RunResult,
    SpikeFinding,
)

FINDING_COLOUR = "#6a1b9a"
RESTART_COLOUR = "#5f5f5f"
MAX_FINDING_LABELS = 8  # label the first findings only; every finding still gets its line


def finding_marks(result: RunResult, *, where: Callable[[float], float | None]) -> tuple[list[Any], list[Any]]:
    """Shapes and annotations for the run's findings and learning-rate restarts on one x axis."""
    a = result.analysis
    if a is None:
        return [], []
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    first = True
    for f in a.findings:
        x0 = where(f.step) if f.step is not None else None
        if x0 is None:
            continue
        end = _end(f)
        x1 = where(end) if end is not None else None
        if x1 is not None and x1 > x0:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": x0,
                    "x1": x1,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": FINDING_COLOUR,
                    "opacity": 0.08,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x0,
                "x1": x0,
                "y0": 0,
                "y1": 1,
                "line": {"color": FINDING_COLOUR, "width": 1.2, "dash": "dashdot"},
                "opacity": 0.8,
                "layer": "above",
                "name": "finding",
                "legendgroup": "finding",
                "showlegend": first,
            }
        )
        first = False
        if len(annotations) < MAX_FINDING_LABELS:
            annotations.append(
                {
                    "x": x0,
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "yanchor": "top",
                    "xanchor": "left",
                    "xshift": 2,
                    "yshift": -14 * (len(annotations) % 2),
                    "showarrow": False,
                    "text": f.kind.replace("_", " "),
                    "hovertext": f.message,
                    "font": {"color": FINDING_COLOUR, "size": 11},
                    "bgcolor": "rgba(255,255,255,0.85)",
                }
            )
        for step in _more_steps(f):
            x = where(step)
            if x is not None:
                shapes.append({**shapes[-1], "x0": x, "x1": x, "showlegend": False})
    shapes.extend(_restarts(a.lr_schedule, where))
    return shapes, annotations


def _more_steps(f: Finding) -> tuple[float, ...]:
    """Further steps a finding is seen at (the evaluations the train loss drops after)."""
    return tuple(s for s in f.drop_steps if s != f.step) if isinstance(f, EvalDropsFinding) else ()


def _end(f: Finding) -> float | None:
    if isinstance(f, SpikeFinding):
        return f.recovered_step
    if isinstance(f, PlateauFinding):
        return f.end_step
    if isinstance(f, DivergenceFinding):
        return f.last_step
    return None


def _restarts(schedule: LrSchedule | None, where: Callable[[float], float | None]) -> list[dict[str, Any]]:
    """Each restart as a line on the learning-rate axis, from 0 to the peak rate."""
    if schedule is None:
        return []
    out = []
    for i, step in enumerate(schedule.restarts):
        x = where(step)
        if x is None:
            continue
        out.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "y2",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": schedule.peak,
                "line": {"color": RESTART_COLOUR, "width": 2},
                "opacity": 0.6,
                "layer": "above",
                "name": "learning-rate restart",
                "legendgroup": "learning-rate restart",
                "showlegend": i == 0,
            }
        )
    return out
