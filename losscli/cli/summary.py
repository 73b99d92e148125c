"""`losscli summary`: how the verdicts split by what the runs were, across a whole archive."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from losscli.cli.options import (
    JudgeOptions,
    OutputFormat,
    SourceOptions,
    by_option,
    dask_option,
    format_option,
    judge_options,
    paths_argument,
    source_options,
)
from losscli.cli.session import Session, handled, table_console, tolerant_stdout

if TYPE_CHECKING:
    from losscli.tally import Training


@click.command()
@paths_argument
@by_option
@format_option
@judge_options
@source_options
@dask_option
def summary(
    paths: tuple[Path | str, ...],
    by: tuple[str, ...] | None,
    fmt: str,
    judge: JudgeOptions,
    source: SourceOptions,
    dask: str | None,
) -> None:
    """Tally the verdicts under PATHS by configuration: per value of the --by keys, or, without --by, for every key
    with two or more values, ranked by how well it tells stepped from smooth runs apart.

    A training logged in several formats (trainer_state.json, runs/, wandb/) counts once.

    Example: losscli summary runs/ --by month
    """
    from losscli.tally import trainings

    session = Session(source, judge.fail_on)
    output = OutputFormat(fmt)
    with handled(session):
        tolerant_stdout()
        results = session.judged(paths, judge=judge, display_points=0, dask=dask)
        if not results:
            session.nothing_found(paths)
            raise click.exceptions.Exit(session.status())
        found, disagreements = trainings(results)
        for message in disagreements:
            session.err(f"note: {message}")
        _write(output, found, by)
        line = _summary_line(found, len(results))
        if output is OutputFormat.table:
            click.echo(line)
        else:
            session.err(line)
    raise click.exceptions.Exit(session.status())


def _write(output: OutputFormat, found: Sequence[Training], by: tuple[str, ...] | None) -> None:
    from losscli.report.summary import group_records, render_groups, render_splits, split_records
    from losscli.tally import group, splits

    if by:
        groups = group(found, by=by)
        if output is OutputFormat.table:
            render_groups(groups, by=by, console=table_console())
            return
        records = group_records(groups, by=by)
    else:
        ranked = splits(found)
        if output is OutputFormat.table:
            render_splits(ranked, console=table_console())
            return
        records = split_records(ranked)
    from losscli.report.machine import RecordWriter
    from losscli.report.printable import printable_values

    writer = RecordWriter(output.value, out=sys.stdout, rows=lambda record: [record])
    for record in records:
        writer.write(printable_values(record))
    writer.close()


def _summary_line(found: Sequence[Training], read: int) -> str:
    from losscli.report.table import summary_line

    line = summary_line([t.verdict for t in found])
    if read != len(found):
        line += f" ({read} read: a training logged in several formats counts once)"
    return line
