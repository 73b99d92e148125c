"""The file system behind a URL, through fsspec, with options the user passes (`--storage-option KEY=VALUE`).

Credentials and endpoints otherwise come from each file system's usual environment (`AWS_ENDPOINT_URL`, AWS
profiles, `GOOGLE_APPLICATION_CREDENTIALS`, `HF_TOKEN`). The protocol packages are optional extras of losscli: a
missing one is one line that names the extra to install.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from losscli.errors import UsageError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "hf": "hf"}  # protocol -> losscli's extra


def storage_options(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as file system options; a value that is a JSON scalar (`true`, `3`, `null`) is that
    value, anything else the text as written."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--storage-option {pair!r}: expected KEY=VALUE (e.g. endpoint_url=http://host:9000)")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        options[key.strip()] = value if value is None or isinstance(value, (bool, int, float, str)) else text
    return options


def open_url(url: str, options: dict[str, Any] | None = None) -> tuple[AbstractFileSystem, str]:
    """The file system that serves `url`, and the path of `url` in it."""
    protocol = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise UsageError(f"{url}: reading URLs needs fsspec: pip install fsspec") from None
    try:
        return fsspec.core.url_to_fs(url, **(options or {}))
    except ImportError:
        extra = EXTRAS.get(protocol)
        hint = f"pip install 'losscli[{extra}]'" if extra else f"install the fsspec package for {protocol}://"
        raise UsageError(f"{url}: reading {protocol}:// URLs needs a package that is not installed: {hint}") from None
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{url}: cannot be opened ({exc})") from None
