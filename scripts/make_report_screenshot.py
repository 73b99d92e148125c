"""Make docs/report.png: the HTML report of sample_logs/ as a reader sees it in headless Chromium.

    python scripts/make_report_screenshot.py [WIDTH]

The stepped and the smooth Trainer runs' plots are moved under the summary and the other runs' sections hidden,
as the page's own filter would, so one picture shows the table, the overview and the two shapes. Needs Debian's
chromium (`apt-get install chromium`) and playwright (driven through executable_path; no browser download).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEEP = ["hf-stepped", "hf-smooth"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    width = int(sys.argv[1]) if len(sys.argv) > 1 else 1280
    out = ROOT / "docs" / "report.png"
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        losscli = Path(sys.executable).parent / "losscli"
        subprocess.run([str(losscli), "report", "sample_logs", "--html", str(html)], check=True, cwd=ROOT)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": width, "height": 1250}, device_scale_factor=1)
            page.goto(html.as_uri(), wait_until="load")
            page.evaluate(
                """(keep) => {
                    const runs = document.getElementById("runs");
                    const articles = [...document.querySelectorAll("article.run")];
                    const nameOf = (a) => a.querySelector(".name").textContent;
                    for (const name of keep) runs.appendChild(articles.find((a) => nameOf(a) === name));
                    articles.forEach((a) => { a.hidden = !keep.includes(nameOf(a)); });
                }""",
                KEEP,
            )
            page.evaluate("window.losscli.renderAll()")
            page.wait_for_timeout(300)
            bottom = page.evaluate("document.getElementById('runs').getBoundingClientRect().bottom + window.scrollY")
            page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom + 10})
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
