"""The HTML report: its content as text (escaping, self-contained, figures), then as a user sees it, in
Chromium.

The reports are made from real logs: the sample logs when present, the committed corpus copies, and a copy of
a real trainer_state.json in a folder named like an HTML injection. The browser tests need Debian's Chromium
(`apt-get install chromium`) and playwright; without them they are skipped, except under CI, where they fail.

    tmp/
      <img src=x onerror=alert(1)>/trainer_state.json   a real, smooth run (ts-kgllm) with a hostile name
      ts-yc1999-alpaca/  ts-kgllm/  ts-observer-lfs-pointer/  wb-evergreen-cifar10/
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DATA, SAMPLE_LOGS
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.analysis.result import Analysis, Boundary, EvalFinding, RunResult
from losscli.api import classify
from losscli.cli import ExitStatus, app
from losscli.report.html import render_html, script_json, write_html
from losscli.report.html_figures import drop_label, figure, sparkline_svg

CHROMIUM = "/usr/bin/chromium"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "public"
MALICIOUS = "<img src=x onerror=alert(1)>"
SCRIPT_BREAK = "</script><script>alert(2)</script>"
FAKE_JS = "/* plotly.js */"


def real(name: str) -> Path:
    """A real public log: the committed copy (tests/data), else the shared corpus it was copied from."""
    for base in (DATA / "corpus", DATA / "wandb" / "corpus", SHARED_CORPUS):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"{name}: not in tests/data nor in {SHARED_CORPUS}")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("logs")
    for name in ("ts-yc1999-alpaca", "ts-kgllm", "ts-observer-lfs-pointer", "wb-evergreen-cifar10"):
        shutil.copytree(real(name), root / name)
    (root / MALICIOUS).mkdir()
    shutil.copy(real("ts-kgllm") / "trainer_state.json", root / MALICIOUS / "trainer_state.json")
    return root


@pytest.fixture(scope="module")
def results(logs: Path) -> list[RunResult]:
    """Every run under `logs` and the sample logs, and a real run renamed to break a script."""
    paths: list[Path] = sorted(logs.iterdir())
    paths += [SAMPLE_LOGS / name for name in ("hf-stepped", "hf-smooth") if (SAMPLE_LOGS / name).is_dir()]
    found = classify(paths, jobs=1).results
    by_run = {r.run: r for r in found}
    renamed = dataclasses.replace(by_run["ts-yc1999-alpaca"], run=SCRIPT_BREAK, path=f"/tmp/{SCRIPT_BREAK}")
    return [*found, renamed]


@pytest.fixture(scope="module")
def page_html(results: list[RunResult]) -> str:
    return render_html(results, plotly_js=FAKE_JS)


def by_name(results: list[RunResult], name: str) -> RunResult:
    return next(r for r in results if r.run == name)


# --- the page as text -------------------------------------------------------------------------------------


def test_the_real_runs_are_what_the_report_is_about(results: list[RunResult]) -> None:
    assert by_name(results, "ts-yc1999-alpaca").verdict == "stepped"
    assert by_name(results, MALICIOUS).analysis is not None
    assert by_name(results, "ts-observer-lfs-pointer").verdict == "error"


def test_user_text_is_escaped_everywhere(page_html: str) -> None:
    assert MALICIOUS not in page_html
    assert SCRIPT_BREAK not in page_html and "<script>alert" not in page_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in page_html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page_html
    # every script element is one of ours: plotly.js, the page script, or JSON data (the runs', the timeline's)
    scripts = re.findall(r"<script\b[^>]*>", page_html)
    assert set(scripts) <= {"<script>", '<script type="application/json" id="timeline-fig">'} | {
        f'<script type="application/json" id="fig-{i}">' for i in range(100)
    }


def test_embedded_json_cannot_end_its_script(page_html: str) -> None:
    blobs = re.findall(r'<script type="application/json" id="fig-\d+">(.*?)</script>', page_html, re.S)
    assert blobs
    for blob in blobs:
        assert "<" not in blob and ">" not in blob and "&" not in blob
        json.loads(blob)


class _Names(HTMLParser):
    """The text of every run name (table links, headings), as a browser would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._in = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if ("class", "name") in attrs or ("class", "run-link") in attrs:
            self.names.append("")
            self._in = 1
        elif self._in and tag != "wbr":
            self._in += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag != "wbr":
            self._in -= 1

    def handle_data(self, data: str) -> None:
        if self._in:
            self.names[-1] += data


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40))
def test_any_name_is_shown_exactly_as_text(name: str) -> None:
    result = RunResult(run=name, path=name, format="trainer_state", analysis=None, error=f"{name}: bad")
    parser = _Names()
    parser.feed(render_html([result], plotly_js=FAKE_JS))
    assert parser.names == [name, name]  # the table's link and the run's heading


_ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
_STEP = st.one_of(st.integers(-10, 10**6), _ANY_FLOAT)
_POINT = st.tuples(_STEP, st.one_of(st.none(), _ANY_FLOAT), _ANY_FLOAT)
_MAYBE = st.one_of(st.none(), _ANY_FLOAT)


@st.composite
def _odd_results(draw: st.DrawFn) -> RunResult:
    """A result with any numbers at all where the analysis and the curves hold floats."""

    def curve() -> dict[str, list[Any]]:
        points = draw(st.lists(_POINT, max_size=80))
        return {
            "step": [p[0] for p in points],
            "epoch": [p[1] for p in points],
            "value": [p[2] for p in points],
        }

    def boundary() -> Boundary:
        names = ("step", "before", "after", "drop", "relative_drop", "z", "t", "share")
        floats = {k: draw(_ANY_FLOAT) for k in names}
        return Boundary(epoch=draw(st.integers(0, 50)), stepped=draw(st.booleans()), **floats)

    bounds = tuple(boundary() for _ in range(draw(st.integers(0, 4))))
    finding = EvalFinding(
        3,
        draw(_ANY_FLOAT),
        draw(st.integers(-5, 10**6)),
        draw(_MAYBE),
        None,
        draw(_ANY_FLOAT),
        draw(st.booleans()),
    )
    analysis = Analysis(
        draw(st.sampled_from(["stepped", "smooth", "inconclusive"])),
        draw(_ANY_FLOAT),
        "why",
        draw(_MAYBE),
        10,
        "logged epoch values",
        draw(_MAYBE),
        bounds,
        draw(st.one_of(st.none(), st.just(finding))),
    )
    metrics = draw(st.sets(st.sampled_from(["train/loss", "eval/loss", "train/learning_rate"])))
    curves = {m: curve() for m in metrics}
    judged = draw(st.one_of(st.none(), st.just(analysis)))
    return RunResult("odd", "odd", "trainer_state", judged, curves=curves)


def _strict(blob: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} in the page's JSON")

    return json.loads(blob, parse_constant=refuse)


@settings(max_examples=150, deadline=None)
@given(_odd_results())
def test_any_numbers_give_a_page_with_strict_json(result: RunResult) -> None:
    page = render_html([result], plotly_js=FAKE_JS)
    for blob in re.findall(r'<script type="application/json" id="fig-\d+">(.*?)</script>', page, re.S):
        _strict(blob)


def test_script_json_escapes_markup_and_round_trips() -> None:
    value = {"name": "</script><!-- & é \u2028", "n": [1, 2.5, None]}
    text = script_json(value)
    assert not set("<>&\u2028") & set(text)
    # a line separator in a name is shown as its escape, as in every other output (report.printable)
    assert json.loads(text) == {"name": "</script><!-- & é \\u2028", "n": [1, 2.5, None]}
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_every_run_is_in_the_table_once_with_a_link_to_its_plot(results: list[RunResult], page_html: str) -> None:
    rows = re.findall(r'<tr data-i="(\d+)" data-verdict="([a-z]+)">', page_html)
    assert [int(i) for i, _ in rows] == list(range(len(results)))
    assert [v for _, v in rows] == [r.verdict for r in results]
    for i in range(len(results)):
        assert page_html.count(f'<a class="run-link" href="#run-{i}"') == 1
        assert page_html.count(f'id="run-{i}"') == 1


def test_an_error_run_shows_its_message_as_the_reason(results: list[RunResult], page_html: str) -> None:
    i = results.index(by_name(results, "ts-observer-lfs-pointer"))
    row = re.search(rf'<tr data-i="{i}" data-verdict="error">(.*?)</tr>', page_html, re.S)
    assert row and ">error</span>" in row.group(1)
    assert "a Git LFS pointer, not the file itself" in row.group(1)
    assert 'class="reason error"' in page_html


def test_embedded_by_default_and_a_cdn_script_on_request(results: list[RunResult], tmp_path: Path) -> None:
    embedded, cdn = tmp_path / "embedded.html", tmp_path / "cdn.html"
    write_html(results, path=embedded)
    write_html(results, path=cdn, plotly_from_cdn=True)
    text = embedded.read_text(encoding="utf-8")
    import plotly.offline

    bundle = plotly.offline.get_plotlyjs()
    assert f"<script>{bundle}</script>" in text
    ours = text.replace(bundle, "")
    assert not re.search(r"<script[^>]*\bsrc=", ours)  # nothing to fetch: opens offline
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", ours)
    small = cdn.read_text(encoding="utf-8")
    sources = re.findall(r'<script charset="utf-8" src="([^"]+)" integrity="sha384-[A-Za-z0-9+/=]+"', small)
    assert len(sources) == 1 and re.fullmatch(r"https://cdn\.plot\.ly/plotly-[\d.]+\.min\.js", sources[0])
    assert len(small) < len(text) - 4_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdn.html", "embedded.html"]  # no partial file left


def test_the_report_command_writes_the_file(logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(logs / "ts-yc1999-alpaca"), "--html", str(out), "-j", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "report written to" in result.stderr and result.stdout == ""
    assert "ts-yc1999-alpaca" in out.read_text(encoding="utf-8")


def test_a_stepped_run_has_boundaries_drops_and_both_axes(results: list[RunResult]) -> None:
    r = by_name(results, "ts-yc1999-alpaca")
    fig = figure(r)
    assert fig is not None and r.analysis is not None
    names = [t["name"] for t in fig["data"]]
    assert names[0] == "train loss" and "learning rate" in names
    assert fig["data"][names.index("learning rate")]["yaxis"] == "y2" and "yaxis2" in fig["layout"]
    bounds = r.analysis.boundaries
    for axis, where in (("step", lambda b: b.step), ("epoch", lambda b: float(b.epoch))):
        view = fig["views"][axis]
        assert view["title"] == axis and len(view["x"]) == len(fig["data"])
        lines = [s for s in view["shapes"] if s["yref"] == "paper"]
        assert [s["x0"] for s in lines] == [pytest.approx(where(b)) for b in bounds]
        bars = [s for s in view["shapes"] if s["yref"] == "y"]
        assert len(bars) == sum(b.stepped for b in bounds) == 2
        assert [a["text"] for a in view["annotations"]] == [drop_label(b) for b in bounds if b.stepped]
    assert drop_label(bounds[0]).startswith("−0.3")
    epoch_x = fig["views"]["epoch"]["x"][0]
    assert epoch_x[0] >= 0 and epoch_x[-1] == pytest.approx(r.analysis.epochs, abs=0.02)


def test_a_run_without_epochs_has_no_epoch_axis(results: list[RunResult], page_html: str) -> None:
    r = next(r for r in results if r.format == "wandb_csv")
    fig = figure(r)
    assert fig is not None and set(fig["views"]) == {"step"}
    i = results.index(r)
    article = re.search(rf'<article class="run" id="run-{i}".*?</article>', page_html, re.S)
    assert article and 'data-x="epoch" aria-pressed="false" disabled' in article.group(0)


def test_eval_loss_and_its_lowest_point_are_drawn() -> None:
    r = classify([real("ts-medimind-10ep")], jobs=1).results[0]
    fig = figure(r)
    assert fig is not None and r.analysis is not None and r.analysis.eval is not None
    names = [t["name"] for t in fig["data"]]
    assert "eval loss" in names and "lowest eval loss" in names
    best = names.index("lowest eval loss")
    assert fig["views"]["step"]["x"][best] == [r.analysis.eval.best_step]


def test_sparkline_marks_the_stepped_boundaries(results: list[RunResult]) -> None:
    r = by_name(results, "ts-yc1999-alpaca")
    svg = sparkline_svg(r)
    assert svg.startswith("<svg") and svg.count('class="b-step"') == 2
    assert sparkline_svg(by_name(results, "ts-observer-lfs-pointer")) == ""


def test_a_run_with_no_curves_has_no_plot(results: list[RunResult], page_html: str) -> None:
    i = results.index(by_name(results, "ts-observer-lfs-pointer"))
    article = re.search(rf'<article class="run" id="run-{i}".*?</article>', page_html, re.S)
    assert article and "No curve to plot." in article.group(0) and 'class="plot"' not in article.group(0)


# --- in Chromium ------------------------------------------------------------------------------------------


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}: the browser tests must run in CI", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def chromium() -> Any:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report_file(results: list[RunResult], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_html(results, path=path)
    return path


class Opened:
    """A page with the report, and everything it did that it should not have."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)
        self.page.goto(path.as_uri(), wait_until="load")

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        if not request.url.startswith("file:"):
            self.requests.append(request.url)

    def plotted(self) -> int:
        return self.page.evaluate(
            "document.querySelectorAll('#runs .plot .js-plotly-plot, #runs .plot.js-plotly-plot').length"
        )

    def clean(self) -> None:
        assert self.errors == [] and self.dialogs == [] and self.requests == []


@pytest.mark.browser
def test_report_in_chromium(chromium: Any, report_file: Path, results: list[RunResult]) -> None:
    opened = Opened(chromium, report_file)
    page = opened.page
    with_plot = [i for i, r in enumerate(results) if figure(r) is not None]
    assert len(with_plot) >= 5
    page.evaluate("window.losscli.renderAll()")
    assert opened.dialogs == []  # no alert() from a name
    assert opened.plotted() == len(with_plot)
    for i in with_plot:  # one plot in each run's own section
        assert page.locator(f"#run-{i} .js-plotly-plot").count() == 1
    names = page.locator("#runs-table tbody tr td:first-child").all_inner_texts()
    assert names == [r.run for r in results]
    # the hostile names are shown as text, and ran nothing
    assert page.locator("h3 .name", has_text=MALICIOUS).count() == 1
    assert page.locator("h3 .name", has_text=SCRIPT_BREAK).count() == 1
    assert page.locator("img").count() == 0
    error_row = page.locator("#runs-table tbody tr[data-verdict=error]")
    assert "a Git LFS pointer" in error_row.inner_text()
    page.wait_for_timeout(200)
    opened.clean()
    page.close()


@pytest.mark.browser
def test_plots_are_drawn_when_scrolled_to(chromium: Any, report_file: Path, results: list[RunResult]) -> None:
    opened = Opened(chromium, report_file)
    page = opened.page
    plots = page.locator("#runs .plot")
    assert opened.plotted() < plots.count() - 3  # the page opens without drawing the plots out of view
    for k in range(plots.count()):
        plots.nth(k).scroll_into_view_if_needed()
    page.wait_for_function(f"document.querySelectorAll('#runs .js-plotly-plot').length === {plots.count()}")
    opened.clean()
    page.close()


@pytest.mark.browser
def test_sort_filter_jump_and_axis_switch(chromium: Any, report_file: Path, results: list[RunResult]) -> None:
    opened = Opened(chromium, report_file)
    page = opened.page
    rows = page.locator("#runs-table tbody tr")

    page.click("#runs-table th[data-k=score] button")
    page.click("#runs-table th[data-k=score] button")  # descending
    texts = page.locator("#runs-table tbody td:nth-child(6)").all_inner_texts()
    scores = [float(s) if s else None for s in texts]
    present = [s for s in scores if s is not None]
    assert present == sorted(present, reverse=True) and scores[: len(present)] == present  # blanks last
    page.click("#runs-table th[data-k=run] button")
    assert rows.first.locator("td").first.inner_text() == min((r.run for r in results), key=str.lower)

    page.uncheck("input[name=verdict][value=stepped]")
    stepped = sum(r.verdict == "stepped" for r in results)
    assert page.locator("#runs-table tbody tr:not([hidden])").count() == len(results) - stepped
    assert page.locator("article.run[data-verdict=stepped]:not([hidden])").count() == 0
    assert page.locator(".card[data-verdict=stepped]:not([hidden])").count() == 0
    page.check("input[name=verdict][value=stepped]")
    page.fill("#name-filter", "alpaca")
    assert page.locator("#runs-table tbody tr:not([hidden])").count() == 1
    page.fill("#name-filter", "")

    i = results.index(by_name(results, "ts-yc1999-alpaca"))
    page.click(f'#runs-table a[href="#run-{i}"]')
    page.wait_for_function(f"document.querySelector('#run-{i} .js-plotly-plot') !== null")
    assert page.evaluate("location.hash") == f"#run-{i}"
    assert page.locator(f"#run-{i}").is_visible()

    page.click(f"#run-{i} button[data-x=epoch]")
    layout = f"document.querySelector('#run-{i} .js-plotly-plot').layout"
    page.wait_for_function(f"{layout}.xaxis.title.text === 'epoch'")
    assert page.evaluate(f"Math.max(...document.querySelector('#run-{i} .js-plotly-plot').data[0].x)") < 4
    page.check(f"#run-{i} input.logy")
    page.wait_for_function(f"{layout}.yaxis.type === 'log'")

    j = next(k for k, r in enumerate(results) if r.format == "wandb_csv")
    assert page.locator(f"#run-{j} button[data-x=epoch]").is_disabled()
    opened.clean()
    page.close()


@pytest.mark.browser
def test_a_cdn_report_offline_says_so_in_place_of_the_plots(
    chromium: Any, results: list[RunResult], tmp_path: Path
) -> None:
    def local_only(route: Any) -> None:
        route.continue_() if route.request.url.startswith("file:") else route.abort()

    path = tmp_path / "cdn.html"
    write_html(results, path=path, plotly_from_cdn=True)
    page = chromium.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda e: crashes.append(str(e)))
    page.route("**/*", local_only)
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("window.losscli.renderAll()")
    messages = page.locator("#runs .plot .failed").all_inner_texts()
    assert len(messages) == page.locator("#runs .plot").count() > 0
    assert all("could not be loaded" in m for m in messages)
    assert crashes == []
    page.close()
