"""`losscli export`: every run's scalars as one long table in one file, for a notebook or another tool.

>>> import losscli
>>> summary = losscli.export(["sample_logs/"], to="all.parquet", metrics=["loss", "eval_loss"])

Runs are read in walk order (in parallel, as `classify` reads them) and each is written as soon as it and every one
before it are read, so memory does not grow with the number of runs (`iter_runs`). The file is written under a
temporary name beside the target and renamed when complete, so a target never holds half an export (a Parquet
file cut short cannot be read at all); nothing is created when no run is found. `to="-"` or a text stream writes
CSV there, row by row.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO

from losscli.api import ReadFailure, iter_runs
from losscli.discover import Problem, WalkOptions
from losscli.errors import UsageError
from losscli.frame import Run
from losscli.metric_names import canonical_metric
from losscli.parsers.base import ReadOptions
from losscli.report.long_table import LongTableWriter, check_parquet, open_writer, table_format


@dataclass
class ExportSummary:
    """What was written: runs, rows, the target, and the runs that could not be read (their messages)."""

    target: str
    runs: int = 0
    rows: int = 0
    failures: list[str] = field(default_factory=list)


def metric_filter(names: Sequence[str] | None) -> Callable[[str, str], bool] | None:
    """Whether a point (metric, tag) is kept for `--metrics loss,eval_loss`: a name matches its canonical metric
    (`loss` is `train/loss`), and any tag or metric spelled exactly."""
    if not names:
        return None
    wanted = {n.strip() for n in names if n.strip()} | {canonical_metric(n.strip()) for n in names if n.strip()}
    return lambda metric, tag: metric in wanted or tag in wanted


def export(
    paths: Iterable[str | Path],
    *,
    to: str | Path | TextIO,
    metrics: Sequence[str] | None = None,
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    on_run: Callable[[Run | ReadFailure], None] | None = None,
    storage_options: dict[str, Any] | None = None,
    dask: str | None = None,
) -> ExportSummary:
    """Write every run's points under `paths` into `to` (module docstring): a file whose extension says the
    format (`.csv`, `.jsonl`, `.parquet`), `"-"` for CSV on stdout, or an open text stream (CSV).

    `metrics` keeps only those metrics. `on_problem` hears what the walk met; `on_run` each run (or failure) as
    it is written. Runs that cannot be read are listed in the summary, not raised. Paths may be URLs, read with
    `storage_options`, and `dask` names a cluster that reads the runs (`api.iter_runs`)."""
    stream = to if not isinstance(to, (str, Path)) else (sys.stdout if str(to) == "-" else None)
    target = "-" if stream is not None else str(to)
    fmt = "csv" if stream is not None else table_format(target)
    if fmt == "parquet":
        check_parquet()
    if stream is None and (target.endswith(("/", os.sep)) or Path(target).is_dir()):
        raise UsageError(f"--to {target}: is a folder; name a file in it")
    if stream is None and not Path(target).parent.is_dir():
        raise UsageError(f"--to {target}: the folder {Path(target).parent} does not exist")
    keep = metric_filter(metrics)
    summary = ExportSummary(target)
    output = _Output(stream, target, fmt)
    try:
        runs = iter_runs(
            paths,
            walk=walk,
            read_options=read_options,
            jobs=jobs,
            on_problem=on_problem,
            storage_options=storage_options,
            dask=dask,
        )
        for item in runs:
            if isinstance(item, ReadFailure):
                summary.failures.append(item.error)
            else:
                cols = item.columns()
                if keep is not None:
                    import numpy as np

                    chosen = np.fromiter((keep(m, t) for m, t in zip(cols.metric, cols.tag)), bool, len(cols))
                    cols = cols.take(np.flatnonzero(chosen))
                output.writer().write_run(item.name, item.format, str(item.path), cols)
                summary.runs += 1
            if on_run:
                on_run(item)
        output.finish()
    except BaseException:
        output.abandon()
        raise
    summary.rows = output.rows
    return summary


class _Output:
    """The target, opened at the first run (nothing is created for no runs), under a temporary name until done."""

    def __init__(self, stream: TextIO | None, target: str, fmt: str) -> None:
        self.stream, self.target, self.fmt = stream, target, fmt
        self._writer: LongTableWriter | None = None
        self._file: IO[Any] | None = None
        self._temp: str | None = None

    @property
    def rows(self) -> int:
        return self._writer.rows if self._writer else 0

    def writer(self) -> LongTableWriter:
        if self._writer is None:
            if self.stream is not None:
                self._writer = open_writer(self.fmt, self.stream)
            else:
                target = Path(self.target)
                handle, self._temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
                binary = self.fmt == "parquet"
                self._file = os.fdopen(handle, "wb" if binary else "w", **({} if binary else _TEXT))
                self._writer = open_writer(self.fmt, self._file)
        return self._writer

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._file is not None and self._temp is not None:
            self._file.close()
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(self._temp, 0o666 & ~mask)  # as a file the user made (mkstemp's is private)
            os.replace(self._temp, self.target)
            self._temp = None

    def abandon(self) -> None:
        if self._writer is not None:
            self._writer.abandon()
        if self._file is not None:
            self._file.close()
        if self._temp is not None:
            Path(self._temp).unlink(missing_ok=True)


_TEXT: dict[str, Any] = {"encoding": "utf-8", "newline": "", "errors": "backslashreplace"}
