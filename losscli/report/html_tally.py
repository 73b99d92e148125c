"""The report's tally: the verdicts over time (one mark per training at its start, coloured by verdict) and how
they split by each configuration key, ranked as `losscli summary` ranks them.

The timeline is a plotly figure built here as plain data and drawn by the page's script; its hover text is user
text escaped for plotly's HTML-like labels. The tables are markup, every value escaped (`html.esc`).
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from typing import Any

from losscli.analysis.result import RunResult
from losscli.report.printable import printable
from losscli.report.summary import COUNT_COLUMNS, separation_text, shown_value
from losscli.tally import Split, Training, splits, trainings
from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED

VERDICT_COLOUR = {STEPPED: "#c62828", SMOOTH: "#2e7d32", INCONCLUSIVE: "#a66300", ERROR: "#8e24aa"}
LANES = (ERROR, INCONCLUSIVE, SMOOTH, STEPPED)  # bottom to top
OPEN_KEYS = 3  # the best-ranked keys' tables are open, the others folded
HOVER_KEYS = ("model", "adapter", "dataset", "learning_rate", "epochs")


def _esc(text: str) -> str:
    return _html.escape(printable(text))


def tally_section(results: Sequence[RunResult]) -> tuple[str, dict[str, Any] | None]:
    """The section's markup, and the timeline figure to embed (None when no training has a start date)."""
    found, _ = trainings(results)
    fig = timeline_figure(found)
    dated = sum(t.config.get("started") is not None for t in found)
    parts = [
        '<section id="tally"><div class="section-head"><h2>Over time and by configuration</h2>'
        f'<span class="muted">{_count_text(len(found), len(results))}</span>'
        "</div>\n"
    ]
    if fig is None:
        parts.append('<p class="muted" id="timeline-none">No run states or logs when it started: no timeline.</p>\n')
    else:
        missing = len(found) - dated
        note = f" · {missing} without a start date not shown" if missing else ""
        parts.append(
            f'<p class="muted">Each mark is one run at its start, coloured by its verdict{note}.</p>'
            '<div id="timeline" class="timeline" role="img" aria-label="verdicts over time"></div>\n'
        )
    parts.append(_splits_markup(splits(found)))
    parts.append("</section>\n")
    return "".join(parts), fig


def _count_text(trainings: int, read: int) -> str:
    text = f"{trainings} run{'s' if trainings != 1 else ''}"
    return text + (f" ({read} read: a training logged in several formats counts once)" if read != trainings else "")


def timeline_figure(found: Sequence[Training]) -> dict[str, Any] | None:
    """One scatter trace per verdict: x the start, y the verdict's lane, hover the training and its config."""
    data = []
    for verdict in LANES:
        members = [t for t in found if t.verdict == verdict and t.config.get("started")]
        if not members:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": verdict,
                "x": [t.config.get("started") for t in members],
                "y": [verdict] * len(members),
                "text": [_hover(t) for t in members],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"color": VERDICT_COLOUR[verdict], "size": 11, "line": {"color": "white", "width": 1}},
            }
        )
    if not data:
        return None
    layout = {
        "height": 240,
        "margin": {"l": 96, "r": 24, "t": 16, "b": 40},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "showlegend": False,
        "hovermode": "closest",
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif", "size": 12},
        "xaxis": {"type": "date", "showgrid": True, "gridcolor": "#eee", "title": {"text": "started"}},
        "yaxis": {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [v for v in LANES if any(d["name"] == v for d in data)],
            "showgrid": True,
            "gridcolor": "#eee",
        },
    }
    return {"data": data, "layout": layout}


def _hover(training: Training) -> str:
    """The training and a few config values, escaped: plotly reads labels as a small HTML subset."""
    lines = [
        f"<b>{_esc(training.name)}</b>",
        f"{_esc(training.verdict)} · started {_esc(training.config.get('started'))}",
    ]
    for key in HOVER_KEYS:
        value = training.config.get(key)
        if value is not None:
            lines.append(f"{key}: {_esc(shown_value(value))}")
    return "<br>".join(lines)


def _splits_markup(found: Sequence[Split]) -> str:
    if not found:
        return '<p class="muted">No configuration key takes two known values: nothing to compare.</p>\n'
    intro = (
        '<p class="muted tally-help">Keys ranked by how well their values tell stepped from smooth runs apart. '
        "p is the share of all ways to hand out the same verdicts to the same runs that would separate at least as "
        "many: small p, the verdicts go with the key more than chance would make them. A correlation in these runs, "
        "not a cause.</p>\n"
    )
    blocks = []
    for rank, split in enumerate(found, 1):
        head = "".join(f"<th>{_esc(c)}</th>" for c in ("value", *COUNT_COLUMNS))
        rows = []
        for g in split.groups:
            c = g.counts
            share = c.share_stepped
            cells = [shown_value(g.values[0]), c.trainings, c.stepped, c.smooth, c.inconclusive, c.error]
            shown = [_esc(str(v)) for v in cells] + ["-" if share is None else f"{share:.0%}"]
            rows.append(
                f'<tr data-value="{_esc(shown_value(g.values[0]))}">'
                + "".join(f"<td>{v}</td>" for v in shown)
                + "</tr>"
            )
        opened = " open" if rank <= OPEN_KEYS else ""
        blocks.append(
            f'<details class="split" data-key="{_esc(split.key)}"{opened}><summary><b>{rank}. {_esc(split.key)}</b> '
            f'<span class="muted">{_esc(separation_text(split))}</span></summary>'
            f'<table class="tally-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            "</details>\n"
        )
    return intro + '<div class="splits">' + "".join(blocks) + "</div>\n"
