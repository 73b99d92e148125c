"""`losscli classify`: the verdict on every run, as a table for people or records for scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from losscli.cli.options import (
    JudgeOptions,
    OutputFormat,
    SourceOptions,
    columns_option,
    dask_option,
    format_option,
    judge_options,
    paths_argument,
    source_options,
)
from losscli.cli.session import Session, handled, table_console, tolerant_stdout, write_summary


@click.command()
@paths_argument
@format_option
@columns_option
@judge_options
@source_options
@dask_option
def classify(
    paths: tuple[Path | str, ...],
    fmt: str,
    columns: tuple[str, ...] | None,
    judge: JudgeOptions,
    source: SourceOptions,
    dask: str | None,
) -> None:
    """Classify every run under PATHS as smooth, stepped or inconclusive, with what each run was (its
    configuration: `config` in every record, chosen keys as table columns with --columns).

    Example: losscli classify runs/ --format jsonl | jq 'select(.verdict == "stepped") | .run'

    PATHS may be URLs: losscli classify s3://bucket/runs --storage-option endpoint_url=http://localhost:9000
    """
    from losscli.api import iter_results

    session = Session(source, judge.fail_on)
    output = OutputFormat(fmt)
    table = output is OutputFormat.table
    with handled(session):
        tolerant_stdout()
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
                raw_config=output is OutputFormat.json,  # everything read, under config.raw
                storage_options=source.storage(),
                dask=dask,
            )
            if table:
                kept = [session.result(r) for r in results]
            else:
                _write_records(session, results, output.value)
        if not session.runs:
            session.nothing_found(paths)
        elif table:
            from losscli.report.table import render_table

            render_table(kept, console=table_console(), columns=columns or ())
        if session.runs:
            write_summary(session, table)
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
