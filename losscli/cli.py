"""The command line: parse options, call the library, hand the results to a reporter. Nothing else lives here.

Heavy modules (pandas, numpy, plotly, protobuf) are imported inside the commands, so `--help` and `--version`
start as fast as Python does.
"""

from __future__ import annotations

import os
import sys
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from losscli._version import __version__
from losscli.verdicts import VERDICTS

if TYPE_CHECKING:
    from losscli.analysis.result import RunResult
    from losscli.api import Outcome


class ExitStatus(IntEnum):
    """Exit codes, as listed in the README."""

    OK = 0  # every run was found, read and analysed
    RUN_FAILED = 1  # at least one input could not be read or analysed (with --strict: or gave a warning)
    USAGE = 2  # bad options or arguments, or a path that does not exist
    NO_RUNS = 3  # nothing under the paths is a training log losscli can read
    FAIL_ON = 4  # a run got a verdict named by --fail-on


class OutputFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    json = "json"
    csv = "csv"


Verdict = Enum("Verdict", {name: name for name in VERDICTS}, type=str)  # type: ignore[misc]


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Tell, for every training run under the given paths, whether its loss curve is smooth or stepped.",
)

Paths = Annotated[list[Path], typer.Argument(help="Log files or folders; folders are searched for runs.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Parallel jobs [default: all cores].")]
IncludeOpt = Annotated[list[str] | None, typer.Option("--include", help="Only runs whose path matches this glob.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Skip runs whose path matches this glob.")]
HiddenOpt = Annotated[bool, typer.Option("--hidden", help="Also search hidden and dependency folders.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings (damaged files) as failures.")]
NoCrcOpt = Annotated[bool, typer.Option("--no-checksums", help="Skip CRC checks of event files (trusted files).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of unexpected errors.")]
# How runs are judged (defaults: losscli.analysis.settings, justified by benchmarks/evaluate.py)
StepsPerEpochOpt = Annotated[float | None, typer.Option(help="Steps per epoch, for logs that record no epochs.", min=1)]
MinTOpt = Annotated[float, typer.Option(help="A step's drop must be this many standard errors.")]
MinZOpt = Annotated[float, typer.Option(help="... and this many times the noise of single points.")]
MinShareOpt = Annotated[
    float, typer.Option(help="... and this share of the epoch-to-epoch decrease must happen at the boundary.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losscli {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Sort training runs into smooth and stepped loss curves, with the evidence."""


def console():  # type: ignore[no-untyped-def]
    """The stdout console: the terminal's width on a terminal; unbounded in a pipe, so no row is cut or wrapped."""
    from rich.console import Console

    out = Console(highlight=False)
    return out if out.is_terminal else Console(highlight=False, width=100_000)


def _err(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, emoji=False).print(message, markup=False, soft_wrap=True)


def _run_classify(
    paths: list[Path],
    include: list[str] | None,
    exclude: list[str] | None,
    hidden: bool,
    jobs: int | None,
    no_checksums: bool,
    settings_kwargs: dict,
    display_points: int,
) -> Outcome:
    from losscli.analysis.settings import Settings
    from losscli.api import classify as classify_runs
    from losscli.discover import WalkOptions
    from losscli.errors import UsageError
    from losscli.parsers.base import ReadOptions

    walk = WalkOptions(include=tuple(include or ()), exclude=tuple(exclude or ()), include_hidden=hidden)
    settings = Settings(**settings_kwargs)
    progress = _progress_bar() if len(paths) > 1 or paths[0].is_dir() else None
    try:
        with progress or _nullcontext():
            task = progress.add_task("analysing", total=None) if progress else None

            def tick(done: int, total: int) -> None:
                if progress is not None and task is not None:
                    progress.update(task, completed=done, total=total)

            return classify_runs(
                paths,
                settings,
                walk,
                ReadOptions(verify_checksums=not no_checksums),
                jobs,
                tick,
                display_points,
            )
    except UsageError as exc:
        _err(f"Error: {exc}")
        raise typer.Exit(ExitStatus.USAGE) from None


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _progress_bar():  # type: ignore[no-untyped-def]
    """A progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _report_problems(outcome: Outcome, strict: bool) -> bool:
    """Print one line per problem on stderr; True if anything failed (or warned, with --strict)."""
    failed = False
    for warning in outcome.warnings:
        _err(f"warning: {warning}")
        failed = failed or strict
    for result in outcome.results:
        if result.error:
            _err(f"error: {result.error}")
            failed = True
        for warning in result.warnings:
            _err(f"warning: {warning}")
            failed = failed or strict
    return failed


def _write(results: list[RunResult], fmt: OutputFormat, reason: bool = True) -> None:
    from losscli.report import machine

    out = sys.stdout
    if fmt is OutputFormat.table:
        from losscli.report.table import render_table

        render_table(results, console(), show_reason=reason)
    elif fmt is OutputFormat.jsonl:
        machine.write_jsonl(results, out)
    elif fmt is OutputFormat.json:
        machine.write_json(results, out)
    else:
        machine.write_csv(results, out)


def _exit_code(outcome: Outcome, failed: bool, fail_on: list[Verdict] | None) -> ExitStatus:
    if not outcome.results:
        return ExitStatus.NO_RUNS
    if failed:
        return ExitStatus.RUN_FAILED
    wanted = {v.value for v in fail_on or ()}
    if any(r.verdict in wanted for r in outcome.results):
        return ExitStatus.FAIL_ON
    return ExitStatus.OK


@app.command()
def classify(
    paths: Paths,
    fmt: FormatOpt = OutputFormat.table,
    fail_on: Annotated[
        list[Verdict] | None,
        typer.Option("--fail-on", help="Exit with 4 when a run gets this verdict (repeatable)."),
    ] = None,
    steps_per_epoch: StepsPerEpochOpt = None,
    min_t: MinTOpt = 4.0,
    min_z: MinZOpt = 1.0,
    min_share: MinShareOpt = 0.5,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    hidden: HiddenOpt = False,
    jobs: JobsOpt = None,
    strict: StrictOpt = False,
    no_checksums: NoCrcOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Classify every run under PATHS as smooth, stepped or inconclusive.

    Example: losscli classify runs/ --format jsonl | jq 'select(.verdict == "stepped") | .run'
    """
    settings = {"steps_per_epoch": steps_per_epoch, "min_t": min_t, "min_z": min_z, "min_share": min_share}
    points = 64 if fmt is OutputFormat.table else 0  # a sparkline needs few points; scripts need none
    outcome = _guarded(
        lambda: _run_classify(paths, include, exclude, hidden, jobs, no_checksums, settings, points), debug
    )
    failed = _report_problems(outcome, strict)
    if not outcome.results:
        _err("Error: no training logs found under " + ", ".join(str(p) for p in paths))
        raise typer.Exit(ExitStatus.NO_RUNS)
    _write(outcome.results, fmt)
    from losscli.report.table import summary_line

    line = summary_line(outcome.results)
    if fmt is OutputFormat.table:
        typer.echo(line)
    else:
        _err(line)
    raise typer.Exit(_exit_code(outcome, failed, fail_on))


@app.command()
def show(
    paths: Paths,
    fmt: FormatOpt = OutputFormat.table,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    hidden: HiddenOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Say what was found under PATHS, without judging: runs, formats, metrics, step and epoch ranges, files.

    Example: losscli show runs/exp1
    """
    from losscli.inventory import describe, render_inventory, write_inventory

    items, warnings = _guarded(lambda: describe(paths, include, exclude, hidden), debug)
    for warning in warnings:
        _err(f"warning: {warning}")
    if not items:
        _err("Error: no training logs found under " + ", ".join(str(p) for p in paths))
        raise typer.Exit(ExitStatus.NO_RUNS)
    if fmt is OutputFormat.table:
        render_inventory(items, console())
    else:
        write_inventory(items, fmt.value, sys.stdout)
    failed = any(item.get("error") for item in items)
    raise typer.Exit(ExitStatus.RUN_FAILED if failed else ExitStatus.OK)


@app.command()
def report(
    paths: Paths,
    html: Annotated[Path, typer.Option("--html", help="Write the HTML report to this file.")],
    cdn: Annotated[bool, typer.Option("--cdn", help="Load plotly.js from its CDN instead of embedding it.")] = False,
    steps_per_epoch: StepsPerEpochOpt = None,
    min_t: MinTOpt = 4.0,
    min_z: MinZOpt = 1.0,
    min_share: MinShareOpt = 0.5,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    hidden: HiddenOpt = False,
    jobs: JobsOpt = None,
    strict: StrictOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write one self-contained HTML report with every run's curves, boundaries and verdict.

    Example: losscli report runs/ --html report.html
    """
    settings = {"steps_per_epoch": steps_per_epoch, "min_t": min_t, "min_z": min_z, "min_share": min_share}
    outcome = _guarded(lambda: _run_classify(paths, include, exclude, hidden, jobs, False, settings, 2000), debug)
    failed = _report_problems(outcome, strict)
    if not outcome.results:
        _err("Error: no training logs found under " + ", ".join(str(p) for p in paths))
        raise typer.Exit(ExitStatus.NO_RUNS)
    from losscli.report.html import write_html
    from losscli.report.table import summary_line

    try:
        write_html(outcome.results, html, plotly_from_cdn=cdn)
    except OSError as exc:
        _err(f"Error: {html}: cannot write ({exc.strerror or exc})")
        raise typer.Exit(ExitStatus.USAGE) from None
    _err(f"{summary_line(outcome.results)}; report written to {html}")
    raise typer.Exit(_exit_code(outcome, failed, None))


def _guarded(work, debug: bool):  # type: ignore[no-untyped-def]
    """Run `work`; an unexpected exception becomes one line on stderr (the traceback only with --debug)."""
    try:
        return work()
    except typer.Exit:
        raise
    except Exception as exc:
        if debug:
            raise
        _err(f"Error: unexpected failure ({type(exc).__name__}: {exc}); rerun with --debug for the traceback")
        raise typer.Exit(ExitStatus.RUN_FAILED) from None


def main() -> None:
    app()
