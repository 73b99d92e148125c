"""`losscli show`: what was found under the paths, without judging it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from losscli.cli.options import OutputFormat, SourceOptions, format_option, paths_argument, source_options
from losscli.cli.session import Session, handled, table_console, tolerant_stdout


@click.command()
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
        tolerant_stdout()
        items = describe(
            paths,
            walk_options=source.walk(),
            read_options=source.read(),
            jobs=source.jobs,
            on_problem=session.problem,
            storage_options=source.storage(),
        )
        if output is OutputFormat.table:
            kept = [session.item(item) for item in items]
            if kept:
                render_inventory(kept, console=table_console())
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
