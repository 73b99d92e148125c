"""The HTML report's tally: the verdicts over time (one mark per run at its start, coloured by verdict) and how
they split by configuration, as `losscli summary` ranks them; hostile names stay text, in the page and in the
timeline's hover labels. The browser tests use Debian's Chromium, as tests/test_html_report.py does."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_LOGS

from losscli.analysis.result import RunResult
from losscli.api import classify
from losscli.config.record import KEYS, RunConfig
from losscli.report.html import render_html, write_html

CHROMIUM = "/usr/bin/chromium"
ARCHIVE = SAMPLE_LOGS / "archive"
HOSTILE = "<img src=x onerror=alert(1)>"
FAKE_JS = "/* plotly.js */"


@pytest.fixture(scope="module")
def results() -> list[RunResult]:
    """The archive, and a run from a folder with a hostile name that started in December."""
    found = classify([ARCHIVE], jobs=1).results
    values = dict.fromkeys(KEYS) | {"started": "2026-12-03T08:00:00+00:00", "model": HOSTILE}
    hostile = RunResult(
        HOSTILE,
        f"/tmp/{HOSTILE}",
        "trainer_state",
        None,
        error="x",
        config=RunConfig(values, training=f"/tmp/{HOSTILE}"),
    )
    return [*found, hostile]


def timeline_of(page: str) -> dict[str, Any]:
    blob = re.search(r'<script type="application/json" id="timeline-fig">(.*?)</script>', page, re.S)
    assert blob and "<" not in blob.group(1) and ">" not in blob.group(1)
    return json.loads(blob.group(1), parse_constant=lambda name: pytest.fail(f"{name} in the timeline"))


def test_one_mark_per_training_at_its_start_coloured_by_verdict(results: list[RunResult]) -> None:
    page = render_html(results, plotly_js=FAKE_JS)
    fig = timeline_of(page)
    marks = {trace["name"]: trace["x"] for trace in fig["data"]}
    assert marks == {
        "error": ["2026-12-03T08:00:00+00:00"],
        "inconclusive": ["2026-09-03T11:02:08+00:00"],
        "smooth": ["2026-07-09T10:14:08+00:00", "2026-08-06T15:41:05+00:00", "2026-10-22T16:20:12+00:00"],
        "stepped": ["2026-10-01T09:37:10+00:00", "2026-11-12T14:05:08+00:00"],
    }
    colours = {trace["name"]: trace["marker"]["color"] for trace in fig["data"]}
    assert colours["stepped"] == "#c62828" and colours["smooth"] == "#2e7d32"
    assert fig["layout"]["yaxis"]["categoryarray"] == ["error", "inconclusive", "smooth", "stepped"]
    hover = next(t for t in fig["data"] if t["name"] == "error")["text"][0]
    assert HOSTILE not in hover and "&lt;img src=x onerror=alert(1)&gt;" in hover
    assert "7 runs (16 read: a training logged in several formats counts once)" in page


def test_the_tally_tables_rank_the_keys_as_summary_does(results: list[RunResult]) -> None:
    page = render_html(results[:-1], plotly_js=FAKE_JS)
    keys = re.findall(r'<details class="split" data-key="([a-z_]+)"', page)
    assert keys[:2] == ["epochs", "batch_size"] and "started" not in keys
    epochs = re.search(r'<details class="split" data-key="epochs" open>(.*?)</details>', page, re.S)
    assert epochs and "tells 5 of 5 stepped or smooth runs apart; p = 0.40 (every way counted)" in epochs.group(1)
    assert re.findall(r'<tr data-value="([^"]*)">', epochs.group(1)) == ["1", "2", "3", "4", "5"]
    assert "a correlation in these runs, not a cause" in page.lower()


def test_runs_without_a_start_have_no_timeline_but_still_a_tally() -> None:
    values = dict.fromkeys(KEYS) | {"model": "m"}
    bare = [
        RunResult(f"r{i}", f"/x/r{i}", "trainer_state", None, error="x", config=RunConfig(values)) for i in range(2)
    ]
    page = render_html(bare, plotly_js=FAKE_JS)
    assert 'id="timeline-fig"' not in page and 'id="timeline-none"' in page
    assert "No configuration key takes two known values" in page


# --- in Chromium ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Any:
    if not Path(CHROMIUM).exists() or not _has_playwright():
        if os.environ.get("CI"):
            pytest.fail("Chromium and playwright are needed for the browser tests in CI", pytrace=False)
        pytest.skip("no Chromium or playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def _has_playwright() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.browser
def test_the_timeline_in_chromium(chromium: Any, results: list[RunResult], tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(results, path=path)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("#timeline.js-plotly-plot .scatterlayer")
    points = page.locator("#timeline .scatterlayer .point")
    assert points.count() == 7  # six trainings of the archive, and the hostile one
    fills = page.evaluate(
        "Array.from(document.querySelectorAll('#timeline .scatterlayer .trace')).map("
        "t => [t.querySelectorAll('.point').length, getComputedStyle(t.querySelector('.point')).fill])"
    )
    assert sorted(fills) == sorted(
        [[1, "rgb(142, 36, 170)"], [1, "rgb(166, 99, 0)"], [3, "rgb(46, 125, 50)"], [2, "rgb(198, 40, 40)"]]
    )
    hostile = page.locator("#timeline .scatterlayer .trace").first.locator(".point").first  # the error lane
    page.locator("#timeline").scroll_into_view_if_needed()
    box = hostile.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # plotly's drag layer is on top
    page.wait_for_selector("#timeline .hoverlayer .hovertext")
    label = page.locator("#timeline .hoverlayer .hovertext").text_content()  # SVG text
    assert HOSTILE in label  # shown as text
    assert page.locator("img").count() == 0 and dialogs == [] and errors == []
    assert page.locator("#tally details[open]").count() == 3
    page.click('#tally details[data-key="seed"] summary')
    assert page.locator('#tally details[data-key="seed"] tbody tr').count() == 7
    page.close()


@pytest.mark.browser
def test_an_offline_cdn_report_says_the_timeline_cannot_be_drawn(
    chromium: Any, results: list[RunResult], tmp_path: Path
) -> None:
    path = tmp_path / "cdn.html"
    write_html(results, path=path, plotly_from_cdn=True)
    page = chromium.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda e: crashes.append(str(e)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri(), wait_until="load")
    assert "could not be loaded" in page.locator("#timeline .failed").inner_text()
    assert crashes == []
    page.close()
