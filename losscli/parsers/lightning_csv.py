"""PyTorch Lightning's CSVLogger `metrics.csv`: one row per log call, columns `epoch`, `step` and the metrics.

Claimed where Lightning writes it: `<save_dir>/<name>/version_N/metrics.csv` (also Lightning Fabric's, which LitGPT
uses: `out_dir/logs/csv/version_N/metrics.csv`), or beside the `hparams.yaml` the logger writes with it (a version
folder given its own name). Any other CSV with `epoch` and `step` columns is a loss table (`loss_table`), which
tells a 0-based index from a 1-based count or progress; this reader knows it is Lightning's 0-based index.

Lightning's `epoch` is the 0-based index of the epoch a row was logged in, not the fractional progress the HF
Trainer logs; it is turned into progress (`epoch_index`). A run continued with its epoch index starting again
from 0 (while the step goes on) is converted segment by segment; `losscli.log_checks` then continues the count.

Only finite numbers are points: empty cells (a metric not logged in that call), text and NaN are not. The rows are
streamed, keeping only the columns that will be read (`metric_names.columns_to_read`), so a wide table does not
cost memory for the columns it does not need.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import Format, LineParser, ReadOptions, Source
from losscli.parsers.text_tables import header_fields

if TYPE_CHECKING:
    from losscli.parsers.csv_columns import Table, TableRows

_VERSION_DIR = re.compile(r"^version_\d+$")
_INDEX = ("step", "epoch")


class LightningCsv(Format):
    name = "lightning_csv"
    label = "Lightning CSV"

    def claim_file(self, path: Path, head: bytes) -> bool:
        if path.name != "metrics.csv":
            return False
        if _VERSION_DIR.match(path.parent.name):
            return True  # CSVLogger's own layout: taken even when damaged, so that the damage is reported
        columns = header_fields(head)
        return "epoch" in columns and "step" in columns and (path.parent / "hparams.yaml").is_file()

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_lightning_csv(source.path)]

    def line_parser(self, source: Source, options: ReadOptions) -> LineParser:
        return LightningLines(source.path)


def _keep(header: list[str]) -> list[str]:
    from losscli.metric_names import columns_to_read

    return columns_to_read(header, always=_INDEX)


def read_lightning_csv(path: Path) -> Run:
    """Read one `metrics.csv` into a run (module docstring)."""
    from losscli.parsers.csv_columns import read_table

    return lightning_run(path, read_table(path, keep=_keep))


class LightningLines:
    """A `metrics.csv` fed line by line as CSVLogger writes it (`losscli watch`): the header, then rows. CSVLogger
    writes the whole file again when a new metric appears; the watcher then starts a new one of these."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: TableRows | None = None

    def feed(self, lines: list[str]) -> None:
        from losscli.parsers.csv_columns import TableRows

        if self.rows is None and lines:
            self.rows = TableRows.from_lines(self.path, lines[0], _keep)
            lines = lines[1:]
        if self.rows is not None:
            self.rows.add_lines(lines)

    def runs(self) -> list[Run]:
        if self.rows is None:
            raise ParseError(self.path, "empty file")
        return [lightning_run(self.path, self.rows.table())]


def lightning_run(path: Path, table: Table) -> Run:
    """The run of a `metrics.csv` table (module docstring)."""
    import numpy as np

    from losscli.frame import make_columns
    from losscli.metric_names import name_metrics, unread_note
    from losscli.parsers.epoch_index import index_progress
    from losscli.restarts import resolve_restarts, restart_messages, restart_meta

    if not table.rows:
        raise ParseError(path, "no rows under the header")
    if any(c not in table.columns for c in _INDEX):
        raise ParseError(path, "no `step` and `epoch` columns: not a Lightning metrics.csv")
    step, epoch = table.columns["step"], table.columns["epoch"]
    usable = np.isfinite(step) & np.isfinite(epoch) & (np.abs(step) < 2.0**63)  # steps are int64 in the frame
    if not usable.any():
        raise ParseError(path, "no row has both `step` and `epoch`")
    step = np.where(usable, step, 0).astype(np.int64)
    progress = index_progress(step[usable], epoch[usable])
    full_progress = np.full(len(step), np.nan)
    full_progress[usable] = progress
    names = [c for c in table.columns if c not in _INDEX and c]
    masks = {c: usable & np.isfinite(table.columns[c]) for c in names}
    names = [c for c in names if masks[c].any()]
    # metrics in the order their first point was logged (row by row), as a row-by-row reader would meet them
    position = {c: i for i, c in enumerate(names)}
    names.sort(key=lambda c: (int(np.argmax(masks[c])), position[c]))
    naming = name_metrics(names, points=[int(masks[c].sum()) for c in names])
    # every point, in logged order (row by row; within a row, in the order above), as the restart rule wants
    which = [np.full(int(masks[c].sum()), i) for i, c in enumerate(names)]
    rows = [np.flatnonzero(masks[c]) for c in names]
    part = np.concatenate(which) if names else np.zeros(0, dtype=np.int64)
    row = np.concatenate(rows) if names else np.zeros(0, dtype=np.int64)
    order = np.lexsort((part, row))
    part, row = part[order], row[order]
    values = np.concatenate([table.columns[c][r] for c, r in zip(names, rows)]) if names else np.zeros(0)
    cols = make_columns(
        np.asarray(naming.metrics, dtype=object)[part],
        np.asarray(names, dtype=object)[part],
        step[row],
        full_progress[row],
        values[order],
        np.full(len(row), np.nan),
    )
    frame, restarts = resolve_restarts(cols)
    warnings, notes = restart_messages(path, found=restarts)
    bad = table.rows - int(usable.sum())
    if bad:
        warnings.insert(0, f"{path}: {bad} rows without a usable step or epoch were skipped")
    notes = naming.notes + notes + unread_note(len(table.header), read=len(table.columns))
    meta = {
        "source_files": [str(path)],
        "epoch_values": "Lightning epoch index, converted to progress",
        **restart_meta(restarts),
    }
    return Run(
        name=path.parent.name,
        path=path,
        format="lightning_csv",
        scalars=frame,
        meta=meta,
        warnings=warnings,
        notes=notes,
    )


FORMATS = [LightningCsv()]
