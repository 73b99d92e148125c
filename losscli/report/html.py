"""The HTML report: one self-contained file with the summary table, the tally (verdicts over time and by
configuration, `html_tally`), an overview grid and one plot per run.

The page opens offline: plotly.js is embedded (or, with `plotly_from_cdn`, referenced from its CDN with an
integrity hash). Figures are plain JSON built in `html_figures`; a small script draws each plot only when it
scrolls into view, so a report of hundreds of runs opens at once.

Everything that comes from the user's files (run names, paths, reasons, error messages) is escaped: with
`html.escape` in markup and with `\\u003c`-style escapes in the JSON the page embeds, so no name can close a
tag or a script; and first made printable (`report.printable`), so that a name that is not UTF-8 reads as in
every other output.
"""

from __future__ import annotations

import html as _html
import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from losscli._version import __version__
from losscli.analysis.result import VERDICTS, RunResult
from losscli.report.html_assets import PAGE_CSS, PAGE_JS
from losscli.report.html_figures import figure, sparkline_svg
from losscli.report.html_tally import tally_section
from losscli.report.printable import printable, printable_values
from losscli.report.records import largest_drop
from losscli.report.table import config_text, eval_cell, shorten

_VERDICT_CLASS = {v: f"v-{v}" for v in VERDICTS}
_COLUMNS = (  # key, header, sort type, tooltip
    ("run", "run", "text", "The run's path below the folder given; click to jump to its plot"),
    ("format", "format", "text", "The log format it was read as"),
    ("epochs", "epochs", "num", "Epochs the train loss covers"),
    ("points", "points", "num", "Train-loss points analysed"),
    ("verdict", "verdict", "verdict", "stepped: drops at epoch boundaries, flat inside epochs"),
    ("score", "score", "num", "0..1, how strongly stepped"),
    ("drop", "largest drop", "num", "The largest loss drop at an epoch boundary"),
    ("eval", "eval finding", "text", "Where the eval loss was lowest, and whether it rises"),
    ("reason", "reason", "text", "Why the verdict, in one line"),
)


def esc(text: str) -> str:
    """User text for HTML markup: printable, then escaped."""
    return _html.escape(printable(text))


def html_page(results: Sequence[RunResult], *, plotly_from_cdn: bool = False) -> str:
    """The report of `results` as one string, with the installed plotly.js (embedded, or named on its CDN)."""
    import plotly.offline

    return render_html(results, plotly_js=plotly.offline.get_plotlyjs(), plotly_from_cdn=plotly_from_cdn)


def write_html(results: Sequence[RunResult], *, path: Path, plotly_from_cdn: bool = False) -> None:
    """Write the report of `results` to `path` (replaced whole: a reader never sees half a file)."""
    page = html_page(results, plotly_from_cdn=plotly_from_cdn)
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


def render_html(results: Sequence[RunResult], *, plotly_js: str, plotly_from_cdn: bool = False) -> str:
    """The page as a string. `plotly_js` is the plotly.js bundle (its version and hash name the CDN file)."""
    import numpy as np

    with np.errstate(all="ignore"):  # absurd numbers in a log become gaps in a plot, not warnings
        return _page(results, plotly_js, plotly_from_cdn)


def _page(results: Sequence[RunResult], plotly_js: str, plotly_from_cdn: bool) -> str:
    out: list[str] = []
    counts = Counter(r.verdict for r in results)
    noun = "run" if len(results) == 1 else "runs"
    out.append(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="losscli {esc(__version__)}">
<title>losscli report: {len(results)} {noun}</title>
<style>{PAGE_CSS}</style>
</head><body>
<header class="top"><h1>losscli report</h1><p class="sub">{len(results)} {noun}: {_counts(counts)}
<span class="muted">· written {datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")} by losscli
{esc(__version__)}</span></p>
<p class="legend-help"><span class="key k-step"></span> red: an epoch boundary where the train loss steps down
(the bar is the size of the drop); <span class="key k-b"></span> grey: other epoch boundaries.
A staircase (flat inside epochs, drops at boundaries) is the sign of a model memorizing its training set.</p>
</header>
""")
    out.append(_filters(counts))
    out.append(_summary_table(results))
    tally, timeline = tally_section(results)
    out.append(tally)
    out.append(_overview(results))
    out.append(
        '<section id="runs"><div class="section-head"><h2>Runs</h2>'
        '<div class="global-x" role="group" aria-label="x axis of every plot">x axis of all plots: '
        '<button type="button" data-gx="step" aria-pressed="true">step</button>'
        '<button type="button" data-gx="epoch" aria-pressed="false">epoch</button></div></div>\n'
    )
    for i, result in enumerate(results):
        out.append(_run_section(i, result))
    out.append("</section>\n")
    if timeline is not None:
        out.append(f'<script type="application/json" id="timeline-fig">{script_json(timeline)}</script>\n')
    out.append(_plotly_script(plotly_js, plotly_from_cdn))
    out.append(f"<script>{PAGE_JS}</script>\n</body></html>\n")
    return "".join(out)


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` escaped, so no string can end the script (and every
    string printable)."""
    text = json.dumps(printable_values(value), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _counts(counts: Counter[str]) -> str:
    parts = [f'<span class="badge {_VERDICT_CLASS[v]}">{counts[v]} {v}</span>' for v in VERDICTS if counts[v]]
    return " ".join(parts) or "none"


def _filters(counts: Counter[str]) -> str:
    boxes = "".join(
        f'<label class="chip {_VERDICT_CLASS[v]}"><input type="checkbox" name="verdict" value="{v}" checked> '
        f'{v} <span class="n">{counts[v]}</span></label>'
        for v in VERDICTS
        if counts[v]
    )
    return (
        f'<section id="summary"><div class="section-head"><h2>Summary</h2>'
        f'<div class="filters" role="group" aria-label="filter runs">{boxes}'
        '<input type="search" id="name-filter" placeholder="filter by name…" aria-label="filter by name">'
        f'<span id="shown" class="muted"></span></div></div>\n'
    )


def _summary_table(results: Sequence[RunResult]) -> str:
    head = "".join(
        f'<th data-k="{k}" data-type="{t}" title="{esc(tip)}" aria-sort="none">'
        f'<button type="button">{esc(label)}</button></th>'
        for k, label, t, tip in _COLUMNS
    )
    rows = []
    for i, r in enumerate(results):
        a = r.analysis
        drop = largest_drop(r)
        rel = _largest_relative(r)
        drop_text = "" if drop is None else f"{drop:.3g}"
        if drop is not None and rel:
            drop_text += f' <span class="muted">−{rel:.0%}</span>'
        reason = a.reason if a else (r.error or "")
        cells = [
            (r.run, f'<a class="run-link" href="#run-{i}" title="{esc(r.path)}">{_breakable(r.run)}</a>'),
            (r.format, esc(r.format)),
            (_num(a.epochs if a else None), _fmt_epochs(a.epochs if a else None)),
            (_num(a.points if a else None), "" if not a else str(a.points)),
            (r.verdict, f'<span class="badge {_VERDICT_CLASS.get(r.verdict, "")}">{esc(r.verdict)}</span>'),
            (_num(a.score if a else None), "" if not a else f"{a.score:.2f}"),
            (_num(drop), drop_text),
            (eval_cell(r), esc(eval_cell(r))),
            (reason, esc(reason)),
        ]
        tds = "".join(f'<td data-v="{esc(str(v))}">{shown}</td>' for v, shown in cells)
        rows.append(f'<tr data-i="{i}" data-verdict="{esc(r.verdict)}">{tds}</tr>')
    return (
        f'<div class="table-wrap"><table id="runs-table"><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div></section>\n"
    )


def _overview(results: Sequence[RunResult]) -> str:
    cards = []
    compact = len(results) > 60  # many runs: smaller cards, more of them in view
    grid, width = ("grid compact", 24) if compact else ("grid", 32)
    for i, r in enumerate(results):
        svg = sparkline_svg(r) or '<div class="nospark">no train loss</div>'
        cards.append(
            f'<a class="card {_VERDICT_CLASS.get(r.verdict, "")}" href="#run-{i}" data-i="{i}" '
            f'data-verdict="{esc(r.verdict)}" title="{esc(r.run)} · {esc(r.verdict)}">'
            f'<span class="card-name">{esc(shorten(printable(r.run), width))}</span>{svg}</a>'
        )
    return (
        '<section id="overview"><div class="section-head"><h2>Overview</h2><span class="muted">'
        "train loss of every run, red lines where it steps down at an epoch boundary; "
        "click one to see its plot"
        f'</span></div><div class="{grid}">' + "".join(cards) + "</div></section>\n"
    )


def _run_section(i: int, r: RunResult) -> str:
    a = r.analysis
    fig = figure(r)
    verdict = f'<span class="badge {_VERDICT_CLASS.get(r.verdict, "")}">{esc(r.verdict)}</span>'
    badges = ' <span class="badge v-memo">memorizes</span>' if a and a.memorization else ""
    facts = [esc(r.format)]
    if a:
        if a.epochs is not None:
            facts.append(f"{_fmt_epochs(a.epochs)} epochs")
        facts.append(f"{a.points} points")
        facts.append(f"score {a.score:.2f}")
        if a.boundary_source:
            facts.append(f"boundaries from {esc(a.boundary_source)}")
        ev = eval_cell(r)
        if ev:
            facts.append(f"eval: {esc(ev)}")
    parts = [
        f'<article class="run" id="run-{i}" data-i="{i}" data-verdict="{esc(r.verdict)}">',
        f'<header><h3>{verdict}{badges} <span class="name">{_breakable(r.run)}</span></h3>'
        f'<a class="to-top" href="#summary">↑ summary</a></header>',
    ]
    reason = a.reason if a else (r.error or "")
    parts.append(f'<p class="{"reason" if a else "reason error"}">{esc(reason)}</p>')
    parts.append(f'<p class="facts">{" · ".join(facts)} · <span class="path">{esc(r.path)}</span></p>')
    if r.config is not None and any(v is not None for v in r.config.values.values()):
        said = [f"{key} {esc(config_text(value))}" for key, value in r.config.values.items() if value is not None]
        parts.append(f'<p class="facts config">{" · ".join(said)}</p>')
    notes = (*r.warnings, *r.notes, *(a.notes if a else ()))
    parts.extend(f'<p class="note">{esc(note)}</p>' for note in notes)
    if fig is None:
        parts.append('<p class="noplot">No curve to plot.</p>')
    else:
        has_epoch = "epoch" in fig["views"]
        off = "" if has_epoch else ' disabled title="this run has no epoch information"'
        parts.append(
            f'<div class="ctl" role="group" aria-label="x axis">x axis: '
            f'<button type="button" data-x="step" aria-pressed="true">step</button>'
            f'<button type="button" data-x="epoch" aria-pressed="false"{off}>epoch</button>'
            f'<label><input type="checkbox" class="logy"> log y</label></div>'
            f'<div class="plot" data-i="{i}"></div>'
            f'<script type="application/json" id="fig-{i}">{script_json(fig)}</script>'
        )
    parts.append("</article>\n")
    return "".join(parts)


def _plotly_script(plotly_js: str, from_cdn: bool) -> str:
    if from_cdn:
        import base64
        import hashlib

        from plotly.offline.offline import get_plotlyjs_version

        digest = base64.b64encode(hashlib.sha384(plotly_js.encode("utf-8")).digest()).decode()
        url = f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
        return (
            f'<script charset="utf-8" src="{_html.escape(url)}" integrity="sha384-{digest}" '
            f'crossorigin="anonymous"></script>\n'
        )
    return "<script>" + plotly_js.replace("</script", "<\\/script") + "</script>\n"


def _largest_relative(r: RunResult) -> float | None:
    a = r.analysis
    if not a or not a.boundaries:
        return None
    top = max(a.boundaries, key=lambda b: b.drop)
    rel = top.relative_drop
    return rel if rel is not None and math.isfinite(rel) and rel > 0 and top.drop > 0 else None


def _breakable(name: str) -> str:
    """A name escaped, with line-break opportunities after its slashes."""
    return esc(name).replace("/", "/<wbr>")


def _num(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else repr(float(value))


def _fmt_epochs(epochs: float | None) -> str:
    return "" if epochs is None else f"{epochs:.2f}".rstrip("0").rstrip(".")
