"""MLflow's file store: `mlruns/<experiment id>/<run id>/`, one run per run folder.

A run folder holds `meta.yaml` (run id and name, status, lifecycle stage, start and end times), `metrics/<key>`
(one line per logged value: `<timestamp ms> <value> <step>`, the value as Python prints a float, so `nan` and
`inf` are words; MLflow's own reader also accepts a line without a step, meaning step 0, and lines with more
fields after the step), `params/<key>` and `tags/<key>` (the value is the file's text; the run name is the tag
`mlflow.runName`). A key with `/` in it is a path of folders (`metrics/train/loss`). `artifacts/` (the run's saved
files, copies of what the run wrote) is not walked. The experiment's `meta.yaml`, one folder up, gives its name.

The store is in maintenance mode since MLflow 3 (writing it needs `MLFLOW_ALLOW_FILE_STORE=true`), but years of
archives use it. Nothing is written; a deleted experiment is in `.trash/`, which the walk skips unless `--hidden`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.frame import Run
from losscli.parsers.base import HEAD_BYTES, FolderClaim, Format, ReadOptions, Source

if TYPE_CHECKING:
    from losscli.parsers.mlflow.run_data import Point

META = "meta.yaml"
METRICS = "metrics"
_RUN_PARTS = {"metrics", "params", "tags", "artifacts", "inputs", "outputs"}
_MARKERS = (b"run_id:", b"run_uuid:")


class MlflowFileStore(Format):
    name = "mlflow_file"
    label = "MLflow file store"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        if META not in files or METRICS not in dirs:
            return None
        if not {"params", "tags"} <= set(dirs):  # the whole layout: taken even when meta.yaml is damaged
            try:
                with (folder / META).open("rb") as handle:
                    head = handle.read(HEAD_BYTES)
            except OSError:
                return None
            if not any(marker in head for marker in _MARKERS):
                return None
        source = Source(self.name, folder, (folder / META,))
        return FolderClaim([source], used_files={META}, used_dirs=_RUN_PARTS & set(dirs))

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_run_folder(source.path)]


def read_run_folder(folder: Path) -> Run:
    """One run folder (module docstring)."""
    from losscli.parsers.mlflow.run_data import STATUS, RunData, make_run

    data = RunData(folder.name)
    info = _yaml(folder / META, data.warnings)
    data.run_id = str(info.get("run_id") or info.get("run_uuid") or folder.name)
    data.info = {
        "run_name": info.get("run_name"),
        "status": STATUS.get(info["status"], info["status"]) if isinstance(info.get("status"), int) else None,
        "lifecycle_stage": info.get("lifecycle_stage"),
        "start_time": info.get("start_time"),
        "end_time": info.get("end_time"),
        "experiment_id": info.get("experiment_id"),
    }
    experiment = _yaml(folder.parent / META, [])
    if experiment.get("name"):
        data.info["experiment_name"] = experiment["name"]
        data.info["experiment_stage"] = experiment.get("lifecycle_stage")
    data.params = _values(folder / "params", data.warnings)
    data.tags = _values(folder / "tags", data.warnings)
    metrics = folder / METRICS
    for key, path in _keys(metrics, data.warnings):
        data.points.extend(_metric_file(path, key, data.warnings))
    return make_run(data, path=folder, where=str(folder), fmt="mlflow_file")


def _yaml(path: Path, warnings: list[str]) -> dict[str, Any]:
    """A `meta.yaml` as a mapping ({} with a warning when it cannot be read, {} silently when it is absent)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        warnings.append(f"{path}: cannot read ({type(exc).__name__}); the run's name and status are unknown")
        return {}
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError:
        warnings.append(f"{path}: not valid YAML; the run's name and status are unknown")
        return {}
    return found if isinstance(found, dict) else {}


def _keys(root: Path, warnings: list[str]) -> list[tuple[str, Path]]:
    """Every key under a `metrics/`, `params/` or `tags/` folder (nested folders make keys with `/`)."""
    found: list[tuple[str, Path]] = []

    def failed(exc: OSError) -> None:
        warnings.append(f"{exc.filename}: cannot be listed ({exc.strerror}); its values were skipped")

    for current, dirs, files in os.walk(root, onerror=failed):
        dirs.sort()
        base = Path(current)
        prefix = base.relative_to(root).as_posix()
        found.extend(((name if prefix == "." else f"{prefix}/{name}"), base / name) for name in sorted(files))
    return found


def _values(root: Path, warnings: list[str]) -> dict[str, str]:
    values = {key: _text(path, warnings) for key, path in _keys(root, warnings)}
    return {key: value for key, value in values.items() if value is not None}


def _text(path: Path, warnings: list[str]) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        warnings.append(f"{path}: cannot read ({exc.strerror or exc}); skipped")
        return None


def _metric_file(path: Path, key: str, warnings: list[str]) -> list[Point]:
    """One metric's values (module docstring); lines that are not `timestamp value [step ...]` are skipped."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        warnings.append(f"{path}: cannot read ({exc.strerror or exc}); skipped")
        return []
    points: list[Point] = []
    bad = 0
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        point = _point(key, fields)
        if point is None:
            bad += 1
        else:
            points.append(point)
    if bad:
        lines = "1 line that is" if bad == 1 else f"{bad} lines that are"
        warnings.append(f"{path}: {lines} not `timestamp value step` skipped")
    return points


def _point(key: str, fields: list[str]) -> Point | None:
    if len(fields) < 2:
        return None
    try:
        timestamp, value = int(fields[0]), float(fields[1])
        step = int(fields[2]) if len(fields) > 2 else 0
    except ValueError:
        return None
    if not (-(2**63) <= step < 2**63 and -(2**62) < timestamp < 2**62):
        return None
    return key, value, timestamp, step


FORMATS = [MlflowFileStore()]
