"""Results read from a private local folder, named by the URLs they came from.

Whatever a reader or the analysis says (paths, messages, warnings, the configuration's sources) names the local
stand-ins; everything handed back names the remote files instead: a string that contains the private folder gets
the URL in its place, a `Path` under it becomes a `UrlPath`. Nothing else changes, so a record read from `s3://`
is the record read from the same tree on a disk, with URLs for paths.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PosixPath
from typing import Any

_FOLDED = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)")


class UrlPath(PosixPath):
    """A path below a URL: `Path` arithmetic (`name`, `parent`, `relative_to`) as for any path, shown as the URL.
    Never opened: it names a remote file."""

    def __str__(self) -> str:
        return _FOLDED.sub(r"\1://", super().__str__())

    def __fspath__(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"UrlPath({str(self)!r})"


def url_path(url: str) -> UrlPath:
    return UrlPath(url)


def relabel(value: Any, local: str, url: str) -> Any:
    """`value` with the local folder `local` named `url` wherever it appears (module docstring)."""
    if isinstance(value, str):
        return value.replace(local, url) if local in value else value
    if isinstance(value, Path):
        text = str(value)
        if text == local or text.startswith(local + "/"):
            return UrlPath(url + text[len(local) :])
        return value
    if isinstance(value, dict):
        return {relabel(k, local, url): relabel(v, local, url) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(relabel(v, local, url) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = relabel(old, local, url)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if hasattr(value, "__dict__") and type(value).__module__.startswith("losscli."):
        for name, old in vars(value).items():
            new = relabel(old, local, url)
            if new is not old:
                setattr(value, name, new)
        return value
    return value
