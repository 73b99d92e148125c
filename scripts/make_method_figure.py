"""Draw docs/method.png: a stepped and a smooth sample run with the quantities of docs/method.md marked.

    python scripts/make_method_figure.py

Reads sample_logs/hf-stepped and sample_logs/hf-smooth through losscli itself, plots them with plotly, and takes
the PNG with Debian's headless Chromium (`apt-get install chromium`; playwright drives it via executable_path).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

import losscli  # noqa: E402
from losscli.analysis import analyze  # noqa: E402


def load(name: str):  # type: ignore[no-untyped-def]
    run = next(r for r in losscli.load(ROOT / "sample_logs" / name) if r.format == "trainer_state")
    return run, analyze(run)


def panel(fig: go.Figure, col: int, run, a) -> None:  # type: ignore[no-untyped-def]
    loss = run.series("train/loss")
    fig.add_trace(
        go.Scatter(
            x=loss.step,
            y=loss.value,
            mode="lines+markers",
            marker={"size": 4},
            line={"width": 1, "color": "#1f77b4"},
            name="train loss",
            showlegend=col == 1,
        ),
        row=1,
        col=col,
    )
    ev = run.series("eval/loss")
    if len(ev):
        fig.add_trace(
            go.Scatter(
                x=ev.step,
                y=ev.value,
                mode="lines",
                line={"color": "#ff7f0e", "dash": "dot"},
                name="eval loss",
                showlegend=col == 1,
            ),
            row=1,
            col=col,
        )
    span = a.steps_per_epoch or 1
    for b in a.boundaries:
        fig.add_vline(x=b.step, line={"color": "#999", "dash": "dash", "width": 1}, row=1, col=col)
        half = 0.35 * span
        color = "#d62728" if b.stepped else "#2ca02c"
        read = b.step + (b.settle if b.view == "near" else 0.0)  # where the view reads both levels
        for xs, level in (([b.step - half, read], b.before), ([read, read + half], b.after)):
            segment = go.Scatter(
                x=xs, y=[level, level], mode="lines", line={"color": color, "width": 3}, showlegend=False
            )
            fig.add_trace(segment, row=1, col=col)
        fig.add_annotation(
            x=b.step,
            y=max(b.before, b.after),
            yshift=22,
            bgcolor="rgba(255,255,255,0.8)",
            showarrow=False,
            row=1,
            col=col,
            text=f"drop {b.drop:.3f} ({b.view})<br>z {b.z:.1f}, share {b.share:.0%}",
            font={"size": 11},
        )


def main() -> None:
    panels = [load("hf-stepped"), load("hf-smooth")]
    titles = [f"{run.name}: <b>{a.verdict}</b> (score {a.score:.2f})" for run, a in panels]
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    for col, (run, a) in enumerate(panels, 1):
        panel(fig, col, run, a)
    fig.update_layout(
        width=1300,
        height=520,
        template="plotly_white",
        margin={"t": 70, "l": 60, "r": 20},
        legend={"orientation": "h", "y": -0.15},
        title="Boundaries (dashed), fitted levels before and after each (red: a step, green: none)",
    )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="loss", col=1)
    out = ROOT / "docs" / "method.png"
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "figure.html"
        fig.write_html(page_path, include_plotlyjs=True, full_html=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1320, "height": 540})
            page.goto(page_path.as_uri())
            page.wait_for_selector(".main-svg")
            page.screenshot(path=str(out))
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
