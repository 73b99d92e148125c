"""Shared test helpers: where the committed real files are, and a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_LOGS = ROOT / "sample_logs"


def corpus(name: str) -> Path:
    """A real public log copied from shared/corpus (sources in tests/data/corpus/SOURCES.md)."""
    return DATA / "corpus" / name


@pytest.fixture
def copy_of(tmp_path: Path):
    """Copy a committed folder or file into tmp_path, so a test can change or damage it."""

    def copy(source: Path, name: str | None = None) -> Path:
        target = tmp_path / (name or source.name)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
        return target

    return copy


# The keys every JSON record carries: a contract other tools and scripts rely on (README, "Output").
REQUIRED_KEYS = frozenset(
    {"run", "path", "format", "verdict", "score", "epochs", "points", "boundaries", "reason", "error"}
)
