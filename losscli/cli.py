"""The command line: parse options, call the library, hand the results to a reporter. Nothing else lives here.

Data goes to stdout, as each run is done (JSON Lines, JSON and CSV are written one record at a time); messages,
the progress bar (only on a terminal) and, for scripts' formats, the summary line go to stderr. Heavy modules
(pandas, numpy, plotly, protobuf) are imported inside the commands, so `--help` and `--version` start as fast as
Python does. The options the commands share are defined once, in `cli_options`.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from losscli._version import __version__
from losscli.cli_options import (
    JudgeOptions,
    OutputFormat,
    SourceOptions,
    format_option,
    judge_options,
    paths_argument,
    source_options,
)

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.analysis.result import RunResult
    from losscli.discover import Problem

__all__ = ["ExitStatus", "OutputFormat", "app", "main"]


class ExitStatus(IntEnum):
    """Exit codes, as listed in the README. When several apply, the first in this order wins: USAGE (nothing
    ran), FAIL_ON, RUN_FAILED, NO_RUNS, OK; INTERRUPTED and CLOSED_PIPE end the run where it is."""

    OK = 0  # every run found was read and analysed
    RUN_FAILED = 1  # an input could not be read or analysed (with --strict: or something warned)
    USAGE = 2  # bad options or arguments, or a path that does not exist
    NO_RUNS = 3  # nothing under the paths is a training log losscli can read
    FAIL_ON = 4  # a run got a verdict named by --fail-on (`--fail-on error`: also a run that could not be read)
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT): the records written so far are whole
    CLOSED_PIPE = 141  # the reader of stdout went away (`| head -1`; 128 + SIGPIPE, as other Unix tools)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, no_args_is_help=True)
@click.version_option(__version__, "--version", prog_name="losscli", message="%(prog)s %(version)s")
def app() -> None:
    """Tell, for every training run under the given paths, whether its loss curve is smooth or stepped at epoch
    boundaries, with the evidence."""


class Session:
    """One command's messages and tally: problems to stderr as they come, verdicts counted for the summary and
    the exit code."""

    def __init__(self, source: SourceOptions, fail_on: tuple[str, ...] = ()) -> None:
        from rich.console import Console

        self.source, self.fail_on = source, frozenset(fail_on)
        self.stderr: Console = Console(stderr=True, highlight=False, emoji=False)
        self.verdicts: Counter[str] = Counter()
        self.runs = 0
        self.failed = self.warned = self.matched = False

    def err(self, message: str) -> None:
        from losscli.report.printable import printable

        self.stderr.print(printable(message), markup=False, soft_wrap=True)

    def problem(self, problem: Problem) -> None:
        self.err(f"{'error' if problem.error else 'warning'}: {problem.message}")
        self.failed = self.failed or problem.error
        self.warned = self.warned or not problem.error

    def result(self, result: RunResult) -> RunResult:
        if result.error:
            self.err(f"error: {result.error}")
            self.failed = True
        for warning in result.warnings:
            self.err(f"warning: {warning}")
            self.warned = True
        self.verdicts[result.verdict] += 1
        self.runs += 1
        self.matched = self.matched or result.verdict in self.fail_on
        return result

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """`show`'s item: its error and warnings to stderr."""
        if item.get("error"):
            self.err(f"error: {item['error']}")
            self.failed = True
        for warning in item.get("warnings") or ():
            self.err(f"warning: {warning}")
            self.warned = True
        self.runs += 1
        return item

    def status(self) -> ExitStatus:
        if self.matched:
            return ExitStatus.FAIL_ON
        if self.failed or (self.source.strict and self.warned):
            return ExitStatus.RUN_FAILED
        if not self.runs:
            return ExitStatus.NO_RUNS
        return ExitStatus.OK

    def nothing_found(self, paths: tuple[Path, ...]) -> None:
        self.err("Error: no training logs found under " + ", ".join(str(p) for p in paths))

    @contextmanager
    def progress(self, show: bool) -> Iterator[Callable[[int, int], None] | None]:
        """A progress bar on stderr while the runs are judged, only on a terminal (and never under CI)."""
        if not show or not sys.stderr.isatty() or os.environ.get("CI"):
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("analysing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.stderr,  # messages printed on it go above the bar
            transient=True,
            redirect_stdout=False,  # data stays on stdout
            redirect_stderr=False,
        )
        task = bar.add_task("analysing", total=None)
        with bar:
            yield lambda done, found: bar.update(task, completed=done, total=found)


@contextmanager
def handled(session: Session) -> Iterator[None]:
    """The ways a command ends early, each as the README says: a usage error is one line and exit 2; Ctrl-C and
    a closed stdout end quietly, as Unix tools do; any other exception is one line (the traceback with --debug)."""
    from losscli.errors import UsageError

    try:
        yield
    except UsageError as exc:
        session.err(f"Error: {exc}")
        raise click.exceptions.Exit(ExitStatus.USAGE) from None
    except KeyboardInterrupt:
        raise click.exceptions.Exit(ExitStatus.INTERRUPTED) from None
    except BrokenPipeError:
        _silence_stdout()
        raise click.exceptions.Exit(ExitStatus.CLOSED_PIPE) from None
    except click.exceptions.Exit:
        raise
    except Exception as exc:
        if session.source.debug:
            raise
        session.err(f"Error: unexpected failure ({type(exc).__name__}: {exc}); rerun with --debug for the traceback")
        raise click.exceptions.Exit(ExitStatus.RUN_FAILED) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's last flush at exit does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        pass


def _tolerant_stdout() -> None:
    """A character the console cannot encode is written as a backslash escape, never a UnicodeEncodeError."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def _table_console(file: Any = None) -> Console:
    """The stdout console: the terminal's width on a terminal; unbounded in a pipe, so that no row is cut."""
    from rich.console import Console

    class Stdout(Console):
        def on_broken_pipe(self) -> None:  # rich would exit with 1: let `handled` end as Unix tools do
            raise BrokenPipeError

    out = Stdout(file=file, highlight=False, emoji=False)
    return out if out.is_terminal else Stdout(file=file, highlight=False, emoji=False, width=100_000)


def _write_summary(session: Session, table: bool, extra: str = "") -> None:
    from losscli.report.table import summary_line

    line = summary_line(session.verdicts) + extra
    if table:
        click.echo(line)
    else:
        session.err(line)


@app.command()
@paths_argument
@format_option
@judge_options
@source_options
def classify(paths: tuple[Path, ...], fmt: str, judge: JudgeOptions, source: SourceOptions) -> None:
    """Classify every run under PATHS as smooth, stepped or inconclusive.

    Example: losscli classify runs/ --format jsonl | jq 'select(.verdict == "stepped") | .run'
    """
    from losscli.api import iter_results

    session = Session(source, judge.fail_on)
    output = OutputFormat(fmt)
    table = output is OutputFormat.table
    with handled(session):
        _tolerant_stdout()
        streaming = not table and not sys.stdout.isatty()  # records on a terminal show the progress themselves
        with session.progress(table or streaming) as tick:
            results = iter_results(
                paths,
                settings=judge.settings(),
                walk=source.walk(),
                read_options=source.read(),
                jobs=source.jobs,
                on_progress=tick,
                on_problem=session.problem,
                display_points=64 if table else 0,  # a sparkline needs few points; scripts need none
            )
            if table:
                kept = [session.result(r) for r in results]
            else:
                _write_records(session, results, output.value)
        if not session.runs:
            session.nothing_found(paths)
        elif table:
            from losscli.report.table import render_table

            render_table(kept, console=_table_console())
        if session.runs:
            _write_summary(session, table)
    raise click.exceptions.Exit(session.status())


def _write_records(session: Session, results: Any, fmt: str) -> None:
    """Each record written and flushed as soon as it is done; nothing kept (memory stays flat)."""
    from losscli.report.machine import RecordWriter
    from losscli.report.records import to_record

    writer = RecordWriter(fmt, out=sys.stdout)
    for result in results:
        writer.write(to_record(session.result(result)))
    if writer.count:
        writer.close()


@app.command()
@paths_argument
@format_option
@source_options
def show(paths: tuple[Path, ...], fmt: str, source: SourceOptions) -> None:
    """Say what was found under PATHS, without judging: runs, formats, metrics, step and epoch ranges, files.

    Example: losscli show runs/exp1
    """
    from losscli.inventory import describe, inventory_rows, render_inventory

    session = Session(source)
    output = OutputFormat(fmt)
    with handled(session):
        _tolerant_stdout()
        items = describe(
            paths, walk_options=source.walk(), read_options=source.read(), jobs=source.jobs, on_problem=session.problem
        )
        if output is OutputFormat.table:
            kept = [session.item(item) for item in items]
            if kept:
                render_inventory(kept, console=_table_console())
        else:
            from losscli.report.machine import RecordWriter

            writer = RecordWriter(output.value, out=sys.stdout, rows=inventory_rows)
            for item in items:
                writer.write(session.item(item))
            if writer.count:
                writer.close()
        if not session.runs:
            session.nothing_found(paths)
    raise click.exceptions.Exit(session.status())


@app.command()
@paths_argument
@click.option("--html", "html", required=True, metavar="FILE", help="Write the HTML report to FILE; - for stdout.")
@click.option("--cdn", is_flag=True, help="Load plotly.js from its CDN instead of embedding it (a smaller file).")
@judge_options
@source_options
def report(paths: tuple[Path, ...], html: str, cdn: bool, judge: JudgeOptions, source: SourceOptions) -> None:
    """Write one self-contained HTML report with every run's curves, boundaries and verdict.

    Example: losscli report runs/ --html report.html
    """
    from losscli.api import iter_results

    session = Session(source, judge.fail_on)
    with handled(session):
        target = html_target(html)
        with session.progress(True) as tick:
            results = [
                session.result(r)
                for r in iter_results(
                    paths,
                    settings=judge.settings(),
                    walk=source.walk(),
                    read_options=source.read(),
                    jobs=source.jobs,
                    on_progress=tick,
                    on_problem=session.problem,
                    display_points=2000,
                )
            ]
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
        _write_summary(session, table=False, extra=f"; report written to {'stdout' if target is None else target}")
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


def main() -> None:
    app(prog_name="losscli")
