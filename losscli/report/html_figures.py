"""What the HTML report draws for one run, as plain data: a plotly figure (dicts, ready for JSON) and an SVG
sparkline for the overview grid.

No plotly import here: building dicts is much faster than building `graph_objects`, and the browser does
the drawing. Curves arrive already thinned for display (`losscli.curves.display_curves`); numbers are rounded
to what a plot can show so that a report of hundreds of runs stays small.
"""

from __future__ import annotations

import math
from typing import Any

from losscli.analysis.result import Analysis, Boundary, RunResult
from losscli.frame import EVAL_LOSS, LEARNING_RATE, TRAIN_LOSS
from losscli.report.html_marks import finding_marks

TRAIN_COLOUR = "#1f5fa8"
EVAL_COLOUR = "#e07b00"
LR_COLOUR = "#8a8a8a"
STEP_COLOUR = "#c62828"  # a boundary where the loss steps down
BOUNDARY_COLOUR = "rgba(60,60,60,0.35)"
MAX_DROP_LABELS = 12  # label the largest drops only; every drop still gets its red bar
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
SIGNIFICANT = 5  # digits kept of loss and learning-rate values
LR_POINTS = 400  # a schedule needs fewer points than the loss; the extremes of each bucket are kept

TRACES = (  # metric, legend name, colour, axis
    (TRAIN_LOSS, "train loss", TRAIN_COLOUR, "y"),
    (EVAL_LOSS, "eval loss", EVAL_COLOUR, "y"),
    (LEARNING_RATE, "learning rate", LR_COLOUR, "y2"),
)


_AXIS = {  # the look both axes of a run's plot share
    "showgrid": True,
    "gridcolor": "#eee",
    "zeroline": False,
    "linecolor": "#bbb",
    "ticks": "outside",
    "tickcolor": "#bbb",
}


def figure(result: RunResult) -> dict[str, Any] | None:
    """The plotly figure of one run, or None when it has no curve to draw.

    Traces carry no `x`: `views["step"]` and `views["epoch"]` (absent when the run has no epoch information)
    give each trace's x values and the boundary shapes and labels for that axis; the page's script picks one.
    """
    present = [t for t in TRACES if result.curves.get(t[0], {}).get("step")]
    if not present:
        return None
    a = result.analysis
    to_epoch = _epoch_mapping(result)
    data: list[dict[str, Any]] = []
    step_x: list[list[Any]] = []
    epoch_x: list[list[Any]] = []
    for metric, name, colour, axis in present:
        curve = result.curves[metric]
        if metric == LEARNING_RATE:
            curve = thinned(curve, LR_POINTS)
        steps = curve["step"]
        few = len(steps) <= 60
        trace: dict[str, Any] = {
            "type": "scatter",
            "name": name,
            "y": rounded(curve["value"]),
            "yaxis": axis,
            "mode": "lines+markers" if (few or metric == EVAL_LOSS) and axis == "y" else "lines",
            "line": {"color": colour, "width": 1 if axis == "y2" else 1.6},
            "marker": {"size": 4 if metric != EVAL_LOSS else 6, "color": colour},
            "hovertemplate": "%{y:.4g}",
        }
        if axis == "y2":
            trace["line"]["dash"] = "dot"
            trace["hovertemplate"] = "%{y:.3g}"
        data.append(trace)
        step_x.append(_steps(steps))
        if to_epoch is not None:
            epoch_x.append(_epochs(curve["step"], curve.get("epoch"), to_epoch))
    if a and a.eval and EVAL_LOSS in result.curves:
        e = a.eval
        data.append(
            {
                "type": "scatter",
                "name": "lowest eval loss",
                "y": [_round1(e.best_value)],
                "yaxis": "y",
                "mode": "markers",
                "hovertemplate": "lowest eval %{y:.4g}",
                "marker": {
                    "symbol": "star",
                    "size": 13,
                    "color": EVAL_COLOUR,
                    "line": {"color": "white", "width": 1},
                },
            }
        )
        step_x.append(_steps([e.best_step]))
        if to_epoch is not None:
            epoch_x.append(_epochs([e.best_step], [e.best_epoch], to_epoch))
    bounds = a.boundaries if a else ()
    views: dict[str, Any] = {"step": _view(step_x, bounds, "step", lambda b: b.step)}
    if to_epoch is not None:
        views["epoch"] = _view(epoch_x, bounds, "epoch", lambda b: float(b.epoch))
    for name, view in views.items():
        shapes, notes = finding_marks(result, where=_place(to_epoch if name == "epoch" else None))
        view["shapes"].extend(shapes)
        view["annotations"].extend(notes)
    layout = _layout(any(t[3] == "y2" for t in present))
    top = clip_top(result)
    if top is not None:  # the view starts below the start-up transient; autoscale shows it all
        layout["yaxis"]["range"] = [top[2], top[0]]
        layout["yaxis"]["autorange"] = False
        note = {
            "name": "clip-note",
            "xref": "paper",
            "yref": "paper",
            "x": 1,
            "y": 1,
            "xanchor": "right",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 11, "color": "#666"},
            "text": f"▲ the first steps reach {top[1]:.3g}, off the top (try log y)",
        }
        for view in views.values():
            view["annotations"].append(note)
    return {"data": data, "layout": layout, "views": views}


def _place(to_epoch: Any) -> Any:
    """A step's position on a view's x axis: the step itself, or its epoch (rounded as the traces are)."""
    import numpy as np

    def where(step: float) -> float | None:
        value = float(step) if to_epoch is None else float(to_epoch(np.asarray([float(step)]))[0])
        return round(value, 4) if math.isfinite(value) else None

    return where


def clip_top(result: RunResult) -> tuple[float, float, float] | None:
    """(top of the view, highest value, bottom of the view) when the first steps of the train loss rise far
    above everything after them (a start-up transient that would flatten the rest of the curve), else None."""
    train = _finite(result.curves.get(TRAIN_LOSS, {}).get("value", []))
    if len(train) < 20:
        return None
    evals = _finite(result.curves.get(EVAL_LOSS, {}).get("value", []))
    head = max(3, len(train) // 10)
    rest = train[head:] + evals
    low, high, high_rest = min(train + evals), max(train + evals), max(rest)
    if high_rest <= low or high - low <= 2 * (high_rest - low):
        return None
    pad = 0.05 * (high_rest - low)
    return _round1(high_rest + pad) or high_rest, high, _round1(low - pad) or low


def _finite(values: list[Any]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _layout(with_lr: bool) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": 360,
        "margin": {"l": 64, "r": 72 if with_lr else 24, "t": 36, "b": 44},
        "hovermode": "x unified",
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "font": {"family": FONT, "size": 12},
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "xanchor": "left",
            "yanchor": "bottom",
            "bgcolor": "rgba(255,255,255,0)",
        },
        "xaxis": dict(_AXIS),
        "yaxis": {"title": {"text": "loss"}, **_AXIS},
    }
    if with_lr:
        layout["yaxis2"] = {
            "title": {"text": "learning rate", "font": {"color": LR_COLOUR}},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "zeroline": False,
            "rangemode": "tozero",
            "tickmode": "auto",
            "nticks": 5,
            "exponentformat": "e",
            "tickfont": {"color": LR_COLOUR},
        }
    return layout


def _view(x: list[list[Any]], bounds: tuple[Boundary, ...], title: str, where: Any) -> dict[str, Any]:
    """Boundary lines, drop bars and drop labels placed on one x axis."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    largest = sorted((b for b in bounds if b.stepped), key=lambda b: -b.drop)[:MAX_DROP_LABELS]
    labelled = {id(b) for b in largest}
    first_plain = first_step = True
    for b in bounds:
        pos = _round1(where(b))
        if pos is None:
            continue
        line: dict[str, Any] = {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": pos,
            "x1": pos,
            "y0": 0,
            "y1": 1,
            "layer": "below",
        }
        if b.stepped:
            line["line"] = {"color": STEP_COLOUR, "width": 1.2, "dash": "dash"}
            line["opacity"] = 0.7
            line.update(_legend("stepped boundary", first_step))
            first_step = False
        else:
            line["line"] = {"color": BOUNDARY_COLOUR, "width": 1, "dash": "dot"}
            line.update(_legend("epoch boundary", first_plain))
            first_plain = False
        shapes.append(line)
        if not b.stepped or _round1(b.before) is None or _round1(b.after) is None:
            continue
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "y",
                "x0": pos,
                "x1": pos,
                "y0": _round1(b.before),
                "y1": _round1(b.after),
                "line": {"color": STEP_COLOUR, "width": 4},
                "layer": "above",
            }
        )
        if id(b) in labelled:
            dense = len(bounds) > 8  # boundaries close together: short labels, alternating in height
            annotations.append(
                {
                    "x": pos,
                    "y": _round1(b.after),
                    "xref": "x",
                    "yref": "y",
                    "xanchor": "left",
                    "yanchor": "top",
                    "xshift": 3,
                    "yshift": -15 * (len(annotations) % 2) * dense,
                    "showarrow": False,
                    "text": f"−{b.drop:.2g}" if dense else drop_label(b),
                    "font": {"color": STEP_COLOUR, "size": 11},
                    "bgcolor": "rgba(255,255,255,0.85)",
                }
            )
    return {"x": x, "shapes": shapes, "annotations": annotations, "title": title}


def _legend(name: str, first: bool) -> dict[str, Any]:
    return {"name": name, "legendgroup": name, "showlegend": first}


def drop_label(b: Boundary) -> str:
    """'−0.362 (−33%)': the drop at a boundary and its share of the loss before it."""
    text = f"−{b.drop:.3g}"
    if math.isfinite(b.relative_drop) and b.relative_drop > 0:
        text += f" (−{b.relative_drop * 100:.0f}%)"
    return text


def thinned(curve: dict[str, list[Any]], points: int) -> dict[str, list[Any]]:
    """At most about `points` points: the first and last, and the lowest and highest of each step bucket."""
    import numpy as np

    n = len(curve["step"])
    if n <= points:
        return curve
    step = np.asarray(curve["step"], dtype=np.float64)
    value = np.asarray([np.nan if v is None else v for v in curve["value"]], dtype=np.float64)
    buckets = max(1, points // 2 - 1)
    which = np.clip(((step - step[0]) / ((step[-1] - step[0]) or 1) * buckets).astype(int), 0, buckets - 1)
    order = np.lexsort((np.nan_to_num(value, nan=np.inf), which))
    firsts = np.searchsorted(which[order], np.arange(buckets), side="left")
    lasts = np.searchsorted(which[order], np.arange(buckets), side="right") - 1
    ok = lasts >= firsts
    keep = np.unique(np.concatenate([[0, n - 1], order[firsts[ok]], order[lasts[ok]]])).tolist()
    return {key: [values[k] for k in keep] for key, values in curve.items() if len(values) == n}


def _epoch_mapping(result: RunResult) -> Any:
    """A function from an array of steps to their epochs, or None when the run has no epoch information.

    From the train curve's logged epochs (interpolated between them, and beyond them at the analysis's steps
    per epoch when known), else from the analysis's steps per epoch alone.
    """
    import numpy as np

    train = result.curves.get(TRAIN_LOSS, {})
    xs = _array(train.get("step", []))
    ys = _array(train.get("epoch", []))
    spe = _steps_per_epoch(result.analysis)
    if len(xs) == len(ys):
        ok = np.isfinite(xs) & np.isfinite(ys)
        xs, ys = xs[ok], ys[ok]
        if len(xs) >= 2 and ys[-1] > ys[0]:

            def interp(steps: Any) -> Any:
                out = np.interp(steps, xs, ys)
                if spe:  # beyond the logged range: extend at the known rate
                    out = np.where(steps < xs[0], ys[0] + (steps - xs[0]) / spe, out)
                    out = np.where(steps > xs[-1], ys[-1] + (steps - xs[-1]) / spe, out)
                return out

            return interp
    if spe:
        return lambda steps: steps / spe
    return None


def _steps_per_epoch(a: Analysis | None) -> float | None:
    if a is None or not a.steps_per_epoch or not math.isfinite(a.steps_per_epoch) or a.steps_per_epoch <= 0:
        return None
    return float(a.steps_per_epoch)


def _array(values: list[Any]) -> Any:
    import numpy as np

    return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)


def _epochs(steps: list[Any], epochs: list[Any] | None, to_epoch: Any) -> list[Any]:
    """Each point's epoch: as logged, else from the step; rounded to 4 decimals."""
    import numpy as np

    step = _array(steps)
    epoch = _array(epochs) if epochs and len(epochs) == len(steps) else np.full(len(step), np.nan)
    missing = ~np.isfinite(epoch)
    if missing.any():
        epoch[missing] = to_epoch(step[missing])
    out = np.round(epoch, 4).tolist()
    return [e if math.isfinite(e) else None for e in out]


def _steps(steps: list[Any]) -> list[Any]:
    import numpy as np

    arr = _array(steps)
    if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)) and np.all(np.abs(arr) < 2**53):
        return arr.astype(np.int64).tolist()
    return [v if math.isfinite(v) else None for v in np.round(arr, 3).tolist()]


def rounded(values: list[Any], digits: int = SIGNIFICANT) -> list[Any]:
    """Values to `digits` significant digits of the largest one (plenty for a plot; keeps the JSON short)."""
    import numpy as np

    arr = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return [None] * len(values)
    top = float(np.max(np.abs(arr[finite])))
    decimals = 6 if top == 0 else int(min(15, max(0, digits - 1 - math.floor(math.log10(top)))))
    out = np.round(arr, decimals).tolist()
    if not finite.all():
        out = [v if ok else None for v, ok in zip(out, finite.tolist())]
    return out


def _round1(value: float | None) -> float | None:
    """One number to SIGNIFICANT digits; None if it is not finite (or becomes infinite when rounded)."""
    if value is None or not math.isfinite(value):
        return None
    out = float(f"{value:.{SIGNIFICANT}g}")
    return out if math.isfinite(out) else None


def sparkline_svg(result: RunResult, width: int = 220, height: int = 54, cells: int = 110) -> str:
    """A small inline SVG of the train loss (averaged into `cells` columns), with its epoch boundaries;
    stepped boundaries in red. Empty string when there is no train loss. Only numbers go into it, no user
    text."""
    import numpy as np

    curve = result.curves.get(TRAIN_LOSS) or {}
    steps = np.asarray(curve.get("step", []), dtype=np.float64)
    values = np.asarray(curve.get("value", []), dtype=np.float64)
    ok = np.isfinite(steps) & np.isfinite(values)
    steps, values = steps[ok], values[ok]
    if len(values) < 2 or steps[-1] <= steps[0]:
        return ""
    x0, x1 = float(steps[0]), float(steps[-1])
    edges = np.linspace(x0, x1, cells + 1)
    which = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, cells - 1)
    counts = np.bincount(which, minlength=cells)
    sums = np.bincount(which, weights=values, minlength=cells)
    filled = counts > 0
    xs = ((edges[:-1] + edges[1:]) / 2)[filled]
    ys = sums[filled] / counts[filled]
    low, high = float(np.min(ys)), float(np.percentile(ys, 98)) if len(ys) > 20 else float(np.max(ys))
    span = (high - low) or 1.0
    pad = 3

    def px(s: float) -> float:
        return pad + (s - x0) / (x1 - x0) * (width - 2 * pad)

    def py(v: float) -> float:
        return pad + (1 - (min(v, high) - low) / span) * (height - 2 * pad)

    parts = [
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="none" aria-hidden="true">'
    ]
    a = result.analysis
    for b in a.boundaries if a else ():
        if x0 <= b.step <= x1:
            cls = "b-step" if b.stepped else "b"
            x = f"{px(b.step):.1f}"
            parts.append(f'<line class="{cls}" x1="{x}" x2="{x}" y1="0" y2="{height}"/>')
    path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs.tolist(), ys.tolist()))
    parts.append(f'<polyline points="{path}"/></svg>')
    return "".join(parts)
