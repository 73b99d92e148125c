"""How a command talks and ends: its messages on stderr, the tally of verdicts behind the summary line and the
exit code, and the ways it ends early (a usage error, Ctrl-C, a closed pipe), each as the README says.

Data goes to stdout as each run is done; messages, the progress bar (only on a terminal) and, for scripts'
formats, the summary line go to stderr.
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

from losscli.cli.options import JudgeOptions, SourceOptions

if TYPE_CHECKING:
    from rich.console import Console

    from losscli.analysis.result import RunResult
    from losscli.discover import Problem


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


class Session:
    """One command's messages and tally: problems to stderr as they come, verdicts counted for the summary and
    the exit code."""

    def __init__(self, source: SourceOptions, fail_on: tuple[str, ...] = ()) -> None:
        from rich.console import Console

        self.source, self.fail_on = source, frozenset(fail_on)
        self.stderr: Console = Console(stderr=True, highlight=False, emoji=False)
        self.verdicts: Counter[str] = Counter()
        self.said: set[str] = set()  # warnings already printed: one about a file shared by runs is said once
        self.runs = 0
        self.failed = self.warned = self.matched = False

    def judged(
        self, paths: Any, *, judge: JudgeOptions, display_points: int, dask: str | None = None
    ) -> list[RunResult]:
        """Every run under `paths` judged, with a progress bar on a terminal and problems said as they come (for
        the commands that need all results before they write: report, summary)."""
        from losscli.api import iter_results

        with self.progress(True) as tick:
            return [
                self.result(r)
                for r in iter_results(
                    paths,
                    settings=judge.settings(),
                    walk=self.source.walk(),
                    read_options=self.source.read(),
                    jobs=self.source.jobs,
                    on_progress=tick,
                    on_problem=self.problem,
                    display_points=display_points,
                    storage_options=self.source.storage(),
                    dask=dask,
                )
            ]

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
            if warning not in self.said:
                self.said.add(warning)
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

    def nothing_found(self, paths: tuple[Path | str, ...]) -> None:
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


def tolerant_stdout() -> None:
    """A character the console cannot encode is written as a backslash escape, never a UnicodeEncodeError."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def table_console(file: Any = None) -> Console:
    """The stdout console: the terminal's width on a terminal; unbounded in a pipe, so that no row is cut."""
    from rich.console import Console

    class Stdout(Console):
        def on_broken_pipe(self) -> None:  # rich would exit with 1: let `handled` end as Unix tools do
            raise BrokenPipeError

    out = Stdout(file=file, highlight=False, emoji=False)
    return out if out.is_terminal else Stdout(file=file, highlight=False, emoji=False, width=100_000)


def write_summary(session: Session, table: bool, extra: str = "") -> None:
    from losscli.report.table import summary_line

    line = summary_line(session.verdicts) + extra
    if table:
        click.echo(line)
    else:
        session.err(line)
