"""`losscli watch`: follow the runs under the paths while they train, one line per change, and stop a job on a
condition (`--exit-on`), for a wrapper script or a scheduler."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from losscli.cli.options import JudgeOptions, SourceOptions, judge_options, paths_argument, source_options
from losscli.cli.session import ExitStatus, Session, handled, tolerant_stdout

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


class Duration(click.ParamType):
    """`90`, `90s`, `10m`, `1.5h`: seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        scale = _UNITS.get(text[-1:], None)
        try:
            seconds = float(text[:-1] if scale else text) * (scale or 1.0)
        except ValueError:
            self.fail(f"{value!r} is not a duration (90, 90s, 10m, 1.5h)", param, ctx)
        if not seconds > 0:
            self.fail(f"{value!r}: a duration must be above 0", param, ctx)
        return seconds


class ConditionList(click.ParamType):
    """`stepped`, or `stepped,memorization,nan`."""

    name = "condition"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        from losscli.watch.conditions import CONDITIONS

        if isinstance(value, tuple):
            return value
        names = tuple(v.strip() for v in str(value).split(",") if v.strip())
        unknown = [n for n in names if n not in CONDITIONS]
        if unknown or not names:
            self.fail(f"{value!r} is not a condition; choose from {', '.join(CONDITIONS)}", param, ctx)
        return names


@click.command()
@paths_argument
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl"]),
    default="table",
    show_default=True,
    help="table: one line per change, for people; jsonl: one event object per line, for programs.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=2.0,
    show_default=True,
    help="Seconds between two looks at the files.",
)
@click.option(
    "--until-idle",
    type=Duration(),
    default=None,
    metavar="DURATION",
    help="Exit (0) once no run has changed for this long (90, 90s, 10m, 1.5h).",
)
@click.option(
    "--exit-on",
    type=ConditionList(),
    multiple=True,
    metavar="CONDITION[,CONDITION...]",
    help="Exit with 4 as soon as a run meets one of these: a verdict (stepped, ...), memorization, eval_rise, nan, "
    "or a finding's kind; repeatable.",
)
@judge_options(fail_on=False)
@source_options(omit=("jobs", "strict", "storage_option"))
def watch(
    paths: tuple[Path, ...],
    fmt: str,
    interval: float,
    until_idle: float | None,
    exit_on: tuple[tuple[str, ...], ...],
    judge: JudgeOptions,
    source: SourceOptions,
) -> None:
    """Follow every run under PATHS while it trains, and print a line when something changes: a verdict (above
    all the first stepped boundary), a new eval rise, a new finding. Runs that appear later are picked up; only
    what was appended to a log since the last look is read.

    Example: losscli watch runs/ --exit-on stepped --until-idle 30m
    """
    from losscli.watch import Watcher, met

    session = Session(source)
    remote = [str(p) for p in paths if isinstance(p, str)]
    if remote:
        session.err(f"Error: {remote[0]}: watch follows local paths only (files that grow on a disk)")
        raise click.exceptions.Exit(ExitStatus.USAGE)
    conditions = tuple(dict.fromkeys(c for group in exit_on for c in group))
    with handled(session):
        tolerant_stdout()
        watcher = Watcher(paths, settings=judge.settings(), walk=source.walk(), read_options=source.read())
        write = _jsonl if fmt == "jsonl" else _line
        quiet_since = time.monotonic()
        first = True
        for look in watcher.follow(interval=interval):
            for problem in look.problems:
                session.problem(problem)
            for message in look.warnings:
                session.err(f"warning: {message}")
            for event in look.events:
                write(event)
            if first:
                first = False
                _started(session, paths, look.runs, interval)
            for record in look.records:
                hit = met(record, conditions)
                if hit:
                    session.err(f"{record['run']}: {', '.join(hit)}; exiting (--exit-on)")
                    raise click.exceptions.Exit(ExitStatus.FAIL_ON)
            now = time.monotonic()
            if look.changed:
                quiet_since = now
            if until_idle is not None and now - quiet_since >= until_idle:
                if not look.runs:
                    session.nothing_found(paths)
                    raise click.exceptions.Exit(ExitStatus.NO_RUNS)
                raise click.exceptions.Exit(ExitStatus.OK)


def _started(session: Session, paths: tuple[Path, ...], runs: int, interval: float) -> None:
    where = ", ".join(str(p) for p in paths)
    session.err(f"watching {runs} run{'s' if runs != 1 else ''} under {where}, every {interval:g} s (Ctrl-C stops)")


def _line(event: Any) -> None:
    from losscli.report.events import event_line

    click.echo(event_line(event))
    sys.stdout.flush()


def _jsonl(event: Any) -> None:
    from losscli.report.printable import printable_values

    sys.stdout.write(json.dumps(printable_values(event.record()), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()
