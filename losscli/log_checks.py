"""Checks of a run's frame that hold whatever wrote it, applied once to every run a reader hands over.

Readers turn a file into the frame; what its epoch and step values mean for the analysis is the same whatever the
format, so it is checked here, once, for all of them (`check_run`, called by `losscli.api` on every run read):

- **An epoch count that starts again.** A run continued by a new Trainer on the old output folder, or a script
  whose global step is restored from a checkpoint while its epoch loop starts from 0 again, logs epochs that fall
  back to 0 while the steps go on. Read as they are, the epochs after the fall overlap the ones before, and the
  analysis (which takes epochs as never going back) would find no boundary after it: a confident verdict on half
  the run. The count is continued instead: each segment after a fall is shifted to begin at the next whole epoch
  after the last one logged before it (after the last epoch index, for logs of the 0-based epoch index), so the
  boundaries stay where the log puts them, with a warning. A lone stray value is not a fall: the values on both
  sides of a fall must agree that the count went back.
- **Negative epochs and steps** cannot be what a trainer counts; they are left as they are, with a warning.

Steps that go back are the restart rule's business (`losscli.restarts`), which every reader applies in logged
order, before the frame is built.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from losscli.frame import EPOCH

if TYPE_CHECKING:
    import numpy as np

    from losscli.frame import Columns, Run

_TOLERANCE = 1e-6  # epochs are often stored as float32: a fall must be larger than their rounding


def check_run(run: Run) -> None:
    """Check `run`'s frame (module docstring): continue an epoch count that starts again, and add a warning for
    each problem found to `run.warnings`."""
    import numpy as np

    cols = run.columns()
    if not len(cols):
        return
    where = (run.meta.get("source_files") or [str(run.path)])[0]
    negative_steps = cols.step < 0
    if negative_steps.any():
        first = int(cols.step[negative_steps].min())
        run.warnings.append(
            f"{where}: {int(negative_steps.sum())} points have a negative step (down to {first}); a trainer's "
            "step counts from 0, so these steps are not a global step count"
        )
    with np.errstate(invalid="ignore"):
        negative_epochs = cols.epoch < -_TOLERANCE
    if negative_epochs.any():
        first = int(np.argmax(negative_epochs))
        run.warnings.append(
            f"{where}: {int(negative_epochs.sum())} points have a negative epoch (the first at step "
            f"{int(cols.step[first])}: {float(cols.epoch[first]):g}); epochs count from 0, so the epoch values "
            "are damaged or not epochs"
        )
    continued = continue_epochs(cols.step, epoch=cols.epoch, logged=run.series(EPOCH))
    if continued is None:
        return
    epoch, resets = continued
    run.replace_epochs(epoch)
    (step, before, after, shifted), count = resets[0], len(resets)
    times = "once" if count == 1 else f"{count} times"
    run.warnings.append(
        f"{where}: the epoch count starts again {times} while the steps go on (at step {step}: epoch {before:g} "
        f"then {after:g}; a run continued on an old output folder?); the count is continued, so epoch {after:g} "
        f"there is read as {shifted:g}"
    )
    _update_meta(run, cols.step, epoch)


def continue_epochs(
    step: np.ndarray, *, epoch: np.ndarray, logged: Columns | None = None
) -> tuple[np.ndarray, list[tuple[int, float, float, float]]] | None:
    """The epoch column with every fall of the count continued (module docstring), and each fall as
    `(step, epoch before, epoch after, that epoch continued)`; None when the count never falls back.

    Falls are found in the `logged` epoch metric when there is one (the values as logged, in step order), else
    in the epoch column itself.
    """
    import numpy as np

    if logged is not None and np.isfinite(logged.value).sum() >= 2:
        ok = np.isfinite(logged.value)
        s, e = logged.step[ok], logged.value[ok]
    else:
        known = np.flatnonzero(np.isfinite(epoch))
        if len(known) < 2:
            return None
        order = known[np.argsort(step[known], kind="stable")]
        s, e = step[order], epoch[order]
    tolerance = _TOLERANCE * np.maximum(1.0, np.abs(e))
    fell = np.r_[False, (e[1:] < e[:-1] - tolerance[1:]) & (s[1:] > s[:-1])]
    if not fell.any():
        return None
    falls = []
    for i in np.flatnonzero(fell).tolist():
        below_earlier = i < 2 or e[i] < e[i - 2] - tolerance[i]  # not the way down from a lone spike
        stays_below = i + 1 >= len(e) or e[i + 1] < e[i - 1] - tolerance[i]  # not a lone dip
        if below_earlier and stays_below:
            falls.append(i)
    if not falls:
        return None
    whole = bool(np.all(e == np.floor(e))) and len(np.unique(e)) * 2 <= len(e)  # the 0-based epoch index
    shift = np.zeros(len(e))
    offset = 0.0
    for i in falls:
        last = float(e[i - 1]) + offset  # the count reached before the fall, already continued
        offset = last + 1.0 if whole else float(math.ceil(round(last, 6)))
        shift[i:] = offset
    # every row of the run is shifted by the segment its step falls in
    segment = np.searchsorted(s[falls], step, side="right")
    out = epoch + np.r_[0.0, shift[falls]][segment]
    resets = [(int(s[i]), float(e[i - 1]), float(e[i]), float(e[i] + shift[i])) for i in falls]
    return out, resets


def _update_meta(run: Run, step: np.ndarray, epoch: np.ndarray) -> None:
    """The last epoch and the steps per epoch a reader took from the log, recomputed from the continued count."""
    import numpy as np

    known = np.isfinite(epoch)
    if not known.any():
        return
    last = int(np.argmax(np.where(known, step, np.iinfo(np.int64).min)))
    if "epoch" in run.meta:
        run.meta["epoch"] = float(epoch[last])
    if "steps_per_epoch" in run.meta:
        first = int(np.argmin(np.where(known, step, np.iinfo(np.int64).max)))
        span = float(epoch[last] - epoch[first])
        if span > 0:
            run.meta["steps_per_epoch"] = float(step[last] - step[first]) / span
