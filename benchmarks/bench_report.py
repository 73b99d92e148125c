"""How big and how fast the HTML report is for 10, 100 and 500 runs.

    python benchmarks/bench_report.py                 # write times and file sizes
    python benchmarks/bench_report.py --browser       # also open each report in headless Chromium
    python benchmarks/bench_report.py --sizes 10 2000 # other run counts

The runs are synthetic but go through the real path: a `losscli.frame.Run` per run (train loss with
epochs, eval loss, learning rate; stepped and smooth shapes, 100 to 6,000 logged points), then
`losscli.analysis.analyze` and `losscli.curves.display_curves`, as `losscli.api.judge_source` does. Only
`write_html` is timed.

With --browser: `load` is the time to the page's load event (parsing the file, plotly.js included),
`first plots` the time until the first plot is drawn after jumping to the runs, `all plots` the time to draw
every plot (`window.losscli.renderAll()`), and `heap` the JavaScript heap after that. Chromium is Debian's
(/usr/bin/chromium), driven through playwright.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from losscli.analysis import RunResult, Settings, analyze  # noqa: E402
from losscli.curves import display_curves  # noqa: E402
from losscli.frame import EPOCH, EVAL_LOSS, LEARNING_RATE, TRAIN_LOSS, Run, make_frame  # noqa: E402
from losscli.report.html import write_html  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def synthetic_run(i: int) -> Run:
    """Run number `i`: every third one a staircase, the others smooth; sizes vary from 100 to 6,000 points."""
    rng = np.random.default_rng(i)
    epochs = int(rng.integers(2, 9))
    per_epoch = int(rng.choice([50, 150, 400, 750]))
    n = epochs * per_epoch
    step = np.arange(1, n + 1)
    epoch = step / per_epoch
    done = np.floor(epoch - 1e-9)
    if i % 3 == 0:
        train = 2.0 - 0.35 * done - 0.02 * (epoch - done)
    else:
        train = 0.8 + 1.2 * np.exp(-epoch / 1.5)
    train = train + rng.normal(0, 0.04, n) + 1.5 * np.exp(-step / (0.02 * n))  # noise, a start-up transient
    lr = 2e-5 * np.minimum(step / (0.05 * n), 1.0) * (1 - step / (n + 1))
    eval_steps = step[per_epoch // 4 - 1 :: per_epoch // 4]
    eval_loss = 1.2 + 0.05 * eval_steps / per_epoch + rng.normal(0, 0.01, len(eval_steps))
    metric = [TRAIN_LOSS] * n + [EPOCH] * n + [LEARNING_RATE] * n + [EVAL_LOSS] * len(eval_steps)
    steps = np.r_[step, step, step, eval_steps]
    epochs_col = np.r_[epoch, epoch, epoch, eval_steps / per_epoch]
    values = np.r_[train, epoch, lr, eval_loss]
    frame = make_frame(metric, metric, steps, epochs_col, values, np.full(len(metric), np.nan))
    name = f"sweep/lr-{i % 7}/seed-{i:04d}/checkpoint-{n}"
    return Run(name=name, path=Path(name), format="trainer_state", scalars=frame)


def results(count: int) -> list[RunResult]:
    settings = Settings()
    out = []
    for i in range(count):
        run = synthetic_run(i)
        out.append(
            RunResult(
                run=run.name,
                path=str(run.path),
                format=run.format,
                analysis=analyze(run, settings=settings),
                curves=display_curves(run),
            )
        )
    return out


def in_browser(path: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=120_000)
        loaded = time.perf_counter() - started
        page.evaluate("document.getElementById('runs').scrollIntoView()")
        page.wait_for_function("document.querySelector('#runs .js-plotly-plot') !== null", timeout=60_000)
        first = time.perf_counter() - started
        t0 = time.perf_counter()
        page.evaluate("window.losscli.renderAll()")
        all_plots = time.perf_counter() - t0
        drawn = page.evaluate("window.losscli.rendered()")
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0") / 2**20
        browser.close()
    if errors:
        raise SystemExit(f"page errors: {errors}")
    return {"load": loaded, "first": first, "all": all_plots, "drawn": drawn, "heap": heap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--browser", action="store_true", help="also time loading in headless Chromium")
    parser.add_argument("--keep", type=Path, help="keep the reports in this folder")
    args = parser.parse_args()

    t0 = time.perf_counter()
    pool = results(max(args.sizes))
    points = sum(len(c["step"]) for r in pool for c in r.curves.values())
    print(
        f"analysed {len(pool)} synthetic runs in {time.perf_counter() - t0:.1f} s "
        f"({points / len(pool):.0f} display points per run, all curves)\n"
    )
    header = f"{'runs':>5} {'file MB':>8} {'write s':>8}"
    if args.browser:
        header += f" {'load s':>7} {'first plots s':>14} {'all plots s':>12} {'heap MB':>8}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            path = folder / f"report-{n}.html"
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                write_html(pool[:n], path)
                best = min(best, time.perf_counter() - t)
            line = f"{n:>5} {path.stat().st_size / 1e6:>8.1f} {best:>8.2f}"
            if args.browser:
                b = in_browser(path)
                assert b["drawn"] == n, b
                line += f" {b['load']:>7.2f} {b['first']:>14.2f} {b['all']:>12.1f} {b['heap']:>8.0f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
