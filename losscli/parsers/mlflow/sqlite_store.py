"""MLflow's SQLite backend (`mlflow.db`, the default backend of MLflow 3): one run per row of its `runs` table.

The database is opened read-only (`file:...?mode=ro`, and `PRAGMA query_only`), never written, and each query
reads and lets go at once, so a database a live tracking server is writing stays usable by it: SQLite readers
take a shared lock only while a statement runs, and a writer that holds the database makes a read wait (up to
`BUSY_SECONDS`), never the other way round for longer than one query.

Tables read: `experiments` (name, lifecycle stage), `runs` (`run_uuid`, `name`, `status`, `lifecycle_stage`,
`start_time`, `end_time`, `experiment_id`), `params` and `tags` (`key`, `value`, `run_uuid`), `metrics` (`key`,
`value`, `timestamp` in ms, `step`, `is_nan`, `run_uuid`). MLflow stores a NaN as `value 0, is_nan 1` and an
infinity as the largest double (`sqlalchemy_store`'s `sanitize_metric_value`); both are turned back into what was
logged, so both stores give the same frame. A run without any metric value is a run with no points.

Found by its name (`mlflow.db`) or, under any name, by SQLite's header and MLflow's `runs` and `metrics` tables.
"""

from __future__ import annotations

import math
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.base import Format, ReadOptions, Source

if TYPE_CHECKING:
    import sqlite3

    from losscli.parsers.mlflow.run_data import Point, RunData

DEFAULT_NAME = "mlflow.db"
MAGIC = b"SQLite format 3\x00"
BUSY_SECONDS = 5.0
_LARGEST = 1.7976931348623157e308  # how MLflow stores an infinity


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection that can never write or create the file."""
    import sqlite3
    from urllib.parse import quote

    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS)
    conn.execute("PRAGMA query_only = ON")
    return conn


class MlflowSqlite(Format):
    name = "mlflow_sqlite"
    label = "MLflow SQLite store"

    def claim_file(self, path: Path, head: bytes) -> bool:
        if path.name == DEFAULT_NAME:
            return True  # MLflow's own name: taken even when damaged, so that the damage is reported
        if not head.startswith(MAGIC):
            return False
        import sqlite3

        try:
            with closing(connect(path)) as conn:
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error:
            return False
        return {"runs", "metrics", "experiments"} <= tables

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return read_database(source.path)


def read_database(path: Path) -> list[Run]:
    """Every run of the database, oldest first (module docstring)."""
    import sqlite3

    from losscli.parsers.mlflow.run_data import make_run

    try:
        with open(path, "rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise ParseError(path, "not an SQLite database (an MLflow store is one)")
        with closing(connect(path)) as conn:
            datas = _read_runs(conn)
    except sqlite3.Error as exc:
        raise ParseError(path, f"not a readable MLflow database: {exc}") from None
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from None
    if not datas:
        raise ParseError(path, "no runs in this MLflow database")
    names = _unique_names(datas)
    runs = []
    for data, name in zip(datas, names):
        run = make_run(data, path=path, where=f"{path} run {data.run_id}", fmt="mlflow_sqlite")
        run.name = name
        runs.append(run)
    return runs


def _read_runs(conn: sqlite3.Connection) -> list[RunData]:
    from losscli.parsers.mlflow.run_data import RunData

    experiments = {
        row[0]: (row[1], row[2]) for row in conn.execute("SELECT experiment_id, name, lifecycle_stage FROM experiments")
    }
    rows = conn.execute(
        "SELECT run_uuid, name, status, lifecycle_stage, start_time, end_time, experiment_id FROM runs "
        "ORDER BY start_time, run_uuid"
    ).fetchall()
    datas = []
    for run_id, name, status, stage, start, end, experiment in rows:
        data = RunData(str(run_id))
        exp_name, exp_stage = experiments.get(experiment, (None, None))
        data.info = {
            "run_name": name,
            "status": status,
            "lifecycle_stage": stage,
            "start_time": start,
            "end_time": end,
            "experiment_id": experiment,
            "experiment_name": exp_name,
            "experiment_stage": exp_stage,
        }
        data.params = _pairs(conn, "params", run_id)
        data.tags = _pairs(conn, "tags", run_id)
        metrics = conn.execute(
            "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?", (run_id,)
        ).fetchall()
        data.points = [p for row in metrics if (p := _point(row)) is not None]
        skipped = len(metrics) - len(data.points)
        if skipped:
            data.warnings.append(f"run {run_id}: {skipped} metric rows without a usable key, value or step skipped")
        datas.append(data)
    return datas


def _pairs(conn: sqlite3.Connection, table: str, run_id: Any) -> dict[str, str]:
    rows = conn.execute(f"SELECT key, value FROM {table} WHERE run_uuid = ?", (run_id,)).fetchall()  # noqa: S608
    return {str(key): "" if value is None else str(value) for key, value in rows}


def _point(row: tuple[Any, ...]) -> Point | None:
    key, value, timestamp, step, is_nan = row
    if not isinstance(key, str) or isinstance(value, (str, bytes)) or value is None:
        return None
    if not isinstance(step, int) or not isinstance(timestamp, (int, type(None))):
        return None
    value = math.nan if is_nan else float(value)
    if abs(value) == _LARGEST:
        value = math.copysign(math.inf, value)
    return key, value, timestamp or 0, step


def _unique_names(datas: list[RunData]) -> list[str]:
    """Each run's name: its run name, with its experiment when the runs come from several, and its id when
    that is still not unique."""
    several = len({d.info.get("experiment_id") for d in datas}) > 1
    names = [f"{d.info.get('experiment_name')}/{d.name}" if several else d.name for d in datas]
    return [f"{n} ({d.run_id[:8]})" if names.count(n) > 1 else n for n, d in zip(names, datas)]


FORMATS = [MlflowSqlite()]
