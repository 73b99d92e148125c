"""The Trainer's checkpoint folders (`checkpoint-<step>`): which sub-folders they are and the step each was saved at.

Finding a Trainer's runs and reading them both need it, and so does fetching a remote run's files.
"""

from __future__ import annotations

import re

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_step(name: str) -> int | None:
    """The step of a `checkpoint-<step>` folder name; None for any other name."""
    match = _CHECKPOINT.match(name)
    return int(match.group(1)) if match else None
