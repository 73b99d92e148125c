"""One base error per layer, each shown to the user as one line that names the file and what is wrong."""

from __future__ import annotations

from pathlib import Path


class LossCliError(Exception):
    """Base of every error losscli raises on purpose."""


class ParseError(LossCliError):
    """A log file could not be read at all. Partial damage is a warning on the run instead."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class UsageError(LossCliError):
    """The caller asked for something that cannot be done (unknown format, missing path)."""
