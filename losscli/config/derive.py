"""What no file states but the log shows, marked as derived wherever it is shown.

- the peak logged learning rate: the highest `train/learning_rate` the run logged (the configured peak, when a
  file states none; warm-up and decay make every other logged value lower);
- steps per epoch: the last logged step over the last logged epoch, as the reader found it;
- the start: the earliest wall time the training's logs hold (the first record of its event files, which their
  writer wrote when it opened them, else the first logged point).

The shape of the schedule (warm-up, decay, restarts) is not derived here: the configured scheduler name is used
when a file states it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from losscli.frame import LEARNING_RATE

if TYPE_CHECKING:
    from losscli.frame import Run

EARLIEST, LATEST = 1e8, 4e9  # 1973 .. 2096: a wall time outside is not one (a zero, a step logged as time)


def derive(run: Run | None, *, wall_times: Iterable[float] = ()) -> dict[str, Any]:
    """The derived values of `run` (None: a run that could not be read) and the training's first wall times."""
    import numpy as np

    derived: dict[str, Any] = {"peak_learning_rate": None, "steps_per_epoch": None, "started": None}
    times = [t for t in wall_times if _plausible(t)]
    if run is not None:
        cols = run.columns()
        rates = cols.value[(cols.metric == LEARNING_RATE) & np.isfinite(cols.value) & (cols.value > 0)]
        if len(rates):
            derived["peak_learning_rate"] = float(f"{float(rates.max()):.6g}")
        spe = run.meta.get("steps_per_epoch")
        if isinstance(spe, (int, float)) and not isinstance(spe, bool) and math.isfinite(spe) and spe > 0:
            derived["steps_per_epoch"] = round(float(spe), 4)
        logged = cols.wall_time[np.isfinite(cols.wall_time)]
        logged = logged[(logged > EARLIEST) & (logged < LATEST)]
        if len(logged):
            times.append(float(logged.min()))
    if times:
        derived["started"] = iso_time(min(times))
    return derived


def iso_time(seconds: float) -> str:
    """A time as ISO 8601 in UTC, to the second: `2026-10-01T09:37:10+00:00`."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")


def _plausible(seconds: Any) -> bool:
    return isinstance(seconds, float) and math.isfinite(seconds) and EARLIEST < seconds < LATEST
