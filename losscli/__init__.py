"""losscli: tell, for every training run, whether its loss curve is smooth or stepped at epoch boundaries.

The public API (`load`, `classify`, `iter_results`, `iter_runs`, `analyze`, `export`) is imported lazily so
that `losscli --version` stays instant.
"""

from __future__ import annotations

from typing import Any

from losscli._version import __version__

__all__ = ["__version__", "analyze", "classify", "export", "iter_results", "iter_runs", "load"]


def __getattr__(name: str) -> Any:
    import importlib

    if name in ("load", "classify", "iter_results", "iter_runs"):
        return getattr(importlib.import_module("losscli.api"), name)
    if name == "export":
        return importlib.import_module("losscli.table_export").export
    if name == "analyze":
        return importlib.import_module("losscli.analysis.classify").analyze
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")
