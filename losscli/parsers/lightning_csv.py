"""PyTorch Lightning's CSVLogger `metrics.csv`: one row per log call, columns `epoch`, `step` and the metrics.

Lightning's `epoch` is the 0-based index of the epoch a row was logged in, not the fractional progress the HF
Trainer logs. To give the frame one meaning of `epoch`, the index is turned into progress: epoch k is taken to
start midway between the last step logged in epoch k-1 and the first logged in epoch k, and a row's progress is
k plus its position between that start and the next.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from losscli.errors import ParseError
from losscli.frame import Run, columns_from_records
from losscli.metric_names import canonical_metric
from losscli.parsers.base import Format, ReadOptions, Source, read_text
from losscli.restarts import resolve_restarts, restart_warning

_VERSION_DIR = re.compile(r"^version_\d+$")


def _header(head: bytes) -> list[str]:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    try:
        return [c.strip() for c in next(csv.reader([first]), [])]
    except csv.Error:  # a bare CR or NUL: not a header Lightning wrote
        return []


class LightningCsv(Format):
    name = "lightning_csv"
    label = "Lightning CSV"

    def claim_file(self, path: Path, head: bytes) -> bool:
        if not path.name.endswith(".csv"):
            return False
        if path.name == "metrics.csv" and _VERSION_DIR.match(path.parent.name):
            return True  # CSVLogger's own layout: taken even when damaged, so that the damage is reported
        columns = _header(head)
        return "epoch" in columns and "step" in columns and not any(" - " in c or c.startswith("_") for c in columns)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        path = source.path
        text = read_text(path)
        if not text.strip():
            raise ParseError(path, "empty file")
        try:
            rows = list(csv.DictReader(io.StringIO(text)))
        except csv.Error as exc:
            raise ParseError(path, f"not a readable CSV: {exc}") from None
        if not rows:
            raise ParseError(path, "no rows under the header")
        parsed: list[tuple[int, float, dict[str, float]]] = []
        bad = 0
        for row in rows:
            step, epoch = _float(row.get("step")), _float(row.get("epoch"))
            if step is None or epoch is None or abs(step) >= 2.0**63:  # steps are int64 in the frame
                bad += 1
                continue
            values = {
                k: v for k, raw in row.items() if k not in ("step", "epoch") and k and (v := _float(raw)) is not None
            }
            parsed.append((int(step), epoch, values))
        if not parsed:
            raise ParseError(path, "no row has both `step` and `epoch`")
        progress = _progress({(s, e) for s, e, _ in parsed})
        records = [
            (canonical_metric(k), k, s, progress[(s, e)], v, math.nan)
            for s, e, values in parsed
            for k, v in values.items()
        ]
        frame, replaced = resolve_restarts(columns_from_records(records))
        warnings = []
        if bad:
            warnings.append(f"{path}: {bad} rows without a usable step or epoch were skipped")
        if replaced:
            warnings.append(restart_warning(path, replaced))
        meta = {"source_files": [str(path)], "epoch_values": "Lightning epoch index, converted to progress"}
        return [
            Run(
                name=path.parent.name,
                path=path,
                format=self.name,
                scalars=frame,
                meta=meta,
                warnings=warnings,
            )
        ]


def _float(raw: str | None) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _progress(pairs: set[tuple[int, float]]) -> dict[tuple[int, float], float]:
    by_epoch: dict[int, list[int]] = {}
    for step, epoch in pairs:
        by_epoch.setdefault(int(epoch), []).append(step)
    epochs = sorted(by_epoch)
    starts = {epochs[0]: 0.0 if epochs[0] == 0 else float(min(by_epoch[epochs[0]]))}
    for prev, cur in zip(epochs, epochs[1:]):
        starts[cur] = (max(by_epoch[prev]) + min(by_epoch[cur])) / 2
    lengths = {cur: starts[nxt] - starts[cur] for cur, nxt in zip(epochs, epochs[1:])}
    if len(epochs) > 1:
        lengths[epochs[-1]] = lengths[epochs[-2]]
    out = {}
    for step, epoch in pairs:
        k = int(epoch)
        length = lengths.get(k, 0.0)
        frac = (step - starts[k]) / length if length > 0 else 0.0
        out[(step, epoch)] = k + min(max(frac, 0.0), 1.0)
    return out


FORMATS = [LightningCsv()]
