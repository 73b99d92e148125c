"""Runs that are not on a local disk: paths given as fsspec URLs (`s3://bucket/prefix`, `gs://`, `hf://`,
`memory://`).

The parsers read local files, and they stay that way. A URL tree is listed once (`listing`); a private local
mirror of it holds every file's first bytes, so that the walk (`losscli.discover`, unchanged) recognises runs by
folder and file names and first bytes as it does on a disk; each run found is then judged in a private folder of
its own that holds exactly the files reading it needs, each fetched whole in one request (`fetch`), and the
results name the URLs, never the private folders (`relabel`). Nothing is ever written to the remote, and the
private folders are deleted once their run is judged.

Only this module is imported when the CLI starts: fsspec and its protocol packages are imported when a URL is
met (`filesystem`).
"""

from __future__ import annotations

import re
from pathlib import Path

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_url(path: str | Path) -> bool:
    """Whether `path` is a URL (`s3://...`), not a local path. A `Path` never is: `Path` folds `//`."""
    return isinstance(path, str) and bool(_URL.match(path))


def local_file_url(path: str) -> str | None:
    """The local path a `file://` URL names (read from the disk directly), else None."""
    if path.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(path).path) or "/"
    return None
