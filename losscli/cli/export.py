"""`losscli export`: every run's scalars as one long table (CSV, JSONL or Parquet by the file's extension)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from losscli.cli.options import SourceOptions, dask_option, paths_argument, source_options
from losscli.cli.session import Session, handled, tolerant_stdout


@click.command()
@paths_argument
@click.option(
    "--to",
    "to",
    required=True,
    metavar="FILE",
    help="Write to FILE: .csv, .jsonl or .parquet (Parquet needs the `parquet` extra); - for CSV on stdout.",
)
@click.option(
    "--metrics",
    metavar="NAME[,NAME...]",
    multiple=True,
    help="Keep only these metrics (e.g. loss,eval_loss: usual names stand for their canonical metric).",
)
@source_options
@dask_option
def export(
    paths: tuple[Path | str, ...], to: str, metrics: tuple[str, ...], source: SourceOptions, dask: str | None
) -> None:
    """Write the scalars of every run under PATHS as one long table: run, format, path, metric, tag, step, epoch,
    value, wall_time.

    Example: losscli export runs/ --to all.parquet --metrics loss,eval_loss
    """
    from losscli.table_export import export as export_runs

    session = Session(source)
    names = [n for group in metrics for n in group.split(",") if n.strip()]

    def heard(item: Any) -> None:
        from losscli.api import ReadFailure

        if isinstance(item, ReadFailure):
            session.item({"error": item.error})
        else:
            session.item({"warnings": item.warnings})

    with handled(session):
        if to == "-":
            tolerant_stdout()
        summary = export_runs(
            paths,
            to=to,
            metrics=names or None,
            walk=source.walk(),
            read_options=source.read(),
            jobs=source.jobs,
            on_problem=session.problem,
            on_run=heard,
            storage_options=source.storage(),
            dask=dask,
        )
        if not session.runs:
            session.nothing_found(paths)
        else:
            where = "stdout" if to == "-" else to
            runs = "run" if session.runs == 1 else "runs"
            failed = f" ({len(summary.failures)} could not be read)" if summary.failures else ""
            session.err(f"{session.runs} {runs}{failed}: {summary.rows} points written to {where}")
    raise click.exceptions.Exit(session.status())
