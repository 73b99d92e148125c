"""`losscli report`: one self-contained HTML page with every run's curves, boundaries and verdict."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from losscli.cli.options import JudgeOptions, SourceOptions, judge_options, paths_argument, source_options
from losscli.cli.session import ExitStatus, Session, handled, write_summary


@click.command()
@paths_argument
@click.option("--html", "html", required=True, metavar="FILE", help="Write the HTML report to FILE; - for stdout.")
@click.option("--cdn", is_flag=True, help="Load plotly.js from its CDN instead of embedding it (a smaller file).")
@judge_options
@source_options
def report(paths: tuple[Path, ...], html: str, cdn: bool, judge: JudgeOptions, source: SourceOptions) -> None:
    """Write one self-contained HTML report with every run's curves, boundaries and verdict.

    Example: losscli report runs/ --html report.html
    """

    session = Session(source, judge.fail_on)
    with handled(session):
        target = html_target(html)
        results = session.judged(paths, judge=judge, display_points=2000)
        if not results:
            session.nothing_found(paths)
            raise click.exceptions.Exit(session.status())
        from losscli.report.html import html_page, write_html

        if target is None:
            sys.stdout.write(html_page(results, plotly_from_cdn=cdn))
            sys.stdout.flush()
        else:
            try:
                write_html(results, path=target, plotly_from_cdn=cdn)
            except OSError as exc:
                session.err(f"Error: {target}: cannot write ({exc.strerror or exc})")
                raise click.exceptions.Exit(ExitStatus.USAGE) from None
        write_summary(session, table=False, extra=f"; report written to {'stdout' if target is None else target}")
    raise click.exceptions.Exit(session.status())


def html_target(value: str) -> Path | None:
    """Where `--html` writes: None for stdout (`-`), else a file whose folder exists. Checked before any run is
    read, so that a bad name costs nothing."""
    from losscli.errors import UsageError

    if value == "-":
        return None
    if not value.strip():
        raise UsageError("--html needs a file name (or - for stdout)")
    path = Path(value)
    if value.endswith(("/", os.sep)) or path.is_dir():
        raise UsageError(f"--html {value}: is a folder; name a file in it, e.g. --html {path / 'report.html'}")
    if not path.parent.is_dir():
        raise UsageError(f"--html {value}: the folder {path.parent} does not exist")
    return path
