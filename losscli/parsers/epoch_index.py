"""An epoch counter turned into epoch progress, the one meaning `epoch` has in the frame.

Lightning's CSVLogger logs the 0-based index of the epoch a row was logged in, hand-written loops often a 1-based
count; the HF Trainer logs fractional progress (`1.25`: a quarter into the second epoch). The frame holds progress,
so a counter is converted: epoch k is taken to start midway between the last step logged in epoch k-1 and the
first logged in epoch k, and a row's progress is k plus its position between that start and the next (the last
epoch is taken as long as the one before it). The first epoch starts at step 0 when the counter starts at 0, else
at its first logged step. A counter that starts again from 0 while the step goes on (a run continued) is converted
segment by segment; `losscli.log_checks` then continues the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def is_counter(epoch: np.ndarray) -> bool:
    """Whole-number epochs that repeat over rows (at least two rows a value on average) are a counter, not
    progress: progress changes at nearly every logged step."""
    import numpy as np

    known = epoch[np.isfinite(epoch)]
    return bool(len(known) >= 2 and np.all(known == np.floor(known)) and len(np.unique(known)) * 2 <= len(known))


def index_progress(step: np.ndarray, epoch: np.ndarray) -> np.ndarray:
    """Each row's epoch progress from its 0-based epoch `index` (module docstring), segment by segment where
    the index starts again while the step goes on."""
    import numpy as np

    out = np.empty(len(step))
    order = np.argsort(step, kind="stable")
    index = np.floor(epoch[order]).astype(np.int64)
    ordered = step[order]
    again = (index[1:] < index[:-1]) & (ordered[1:] > ordered[:-1])
    starts = np.flatnonzero(np.r_[True, again]).tolist()
    for a, b in zip(starts, [*starts[1:], len(order)]):
        rows = order[a:b]
        # a later segment's first epoch starts midway between the segment before and its own first row
        origin = None if a == 0 else (float(step[order[a - 1]]) + float(step[rows[0]])) / 2
        out[rows] = _segment_progress(step[rows].tolist(), index[a:b].tolist(), origin)
    return out


def _segment_progress(steps: list[int], index: list[int], origin: float | None) -> list[float]:
    by_epoch: dict[int, list[int]] = {}
    for s, k in zip(steps, index):
        by_epoch.setdefault(k, []).append(s)
    epochs = sorted(by_epoch)
    if origin is None:
        origin = 0.0 if epochs[0] == 0 else float(min(by_epoch[epochs[0]]))
    starts = {epochs[0]: origin}
    for prev, cur in zip(epochs, epochs[1:]):
        starts[cur] = (max(by_epoch[prev]) + min(by_epoch[cur])) / 2
    lengths = {cur: starts[nxt] - starts[cur] for cur, nxt in zip(epochs, epochs[1:])}
    if len(epochs) > 1:
        lengths[epochs[-1]] = lengths[epochs[-2]]
    out = []
    for s, k in zip(steps, index):
        length = lengths.get(k, 0.0)
        frac = (s - starts[k]) / length if length > 0 else 0.0
        out.append(k + min(max(frac, 0.0), 1.0))
    return out
