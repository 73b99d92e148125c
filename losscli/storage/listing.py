"""A URL tree listed once: every file's path below the root and its size, and the folders they make.

Object stores have no folders, only keys: a folder here is a key prefix that some file is under, so an empty
folder does not exist (no log is one). The listing is one `find` of the whole tree (paged requests in the file
system, not one per folder), taken before anything is read.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.errors import UsageError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


@dataclass
class Listing:
    """The files under one URL (`files`: path below the root -> size; a URL that names a file lists that file
    alone, under its own name), and for each folder its files and sub-folders by name."""

    url: str  # the folder the paths are below, as a URL (no trailing slash)
    root: str  # the same folder as the file system names it
    files: dict[str, int]
    named_file: str | None = None  # the URL named one file: its path below `url`
    unsafe: list[str] = field(
        default_factory=list
    )  # keys that cannot be a local path (`..`, `//`, a file and a folder)
    children: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)  # folder -> (files, dirs)

    def __post_init__(self) -> None:
        for rel in list(self.files):
            parts = rel.split("/")
            if any(part in ("", ".", "..") for part in parts) or "\0" in rel:
                self.unsafe.append(rel)
                del self.files[rel]
        folders = {rel.rsplit("/", 1)[0] for rel in self.files if "/" in rel}
        folders |= {f.rsplit("/", i)[0] for f in folders for i in range(1, f.count("/") + 1)}
        for rel in sorted(set(self.files) & folders):  # both a file and a folder: the folder is kept
            self.unsafe.append(rel)
            del self.files[rel]
        kids: dict[str, tuple[set[str], set[str]]] = {"": (set(), set())}
        for rel in self.files:
            parent, name = posixpath.split(rel)
            kids.setdefault(parent, (set(), set()))[0].add(name)
            while parent:
                above, folder = posixpath.split(parent)
                known = above in kids and folder in kids[above][1]
                kids.setdefault(above, (set(), set()))[1].add(folder)
                if known:
                    break
                parent = above
        self.children = {k: (sorted(f), sorted(d)) for k, (f, d) in kids.items()}

    def subtree(self, folder: str) -> list[str]:
        """Every file below `folder` (a path below the root; "" is the root)."""
        found: list[str] = []
        stack = [folder]
        while stack:
            current = stack.pop()
            files, dirs = self.children.get(current, ([], []))
            found.extend(posixpath.join(current, f) for f in files)
            stack.extend(posixpath.join(current, d) for d in dirs)
        return found

    def url_of(self, rel: str) -> str:
        return f"{self.url}/{rel}" if rel else self.url


def list_tree(fs: AbstractFileSystem, url: str, path: str) -> Listing:
    """Every file under `url` (`path` in `fs`), or the file it names; a URL that names nothing is a UsageError."""
    path = path.rstrip("/")
    base_url = url.rstrip("/")
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise UsageError(f"{url}: no such file or folder") from None
    except Exception as exc:  # credentials, endpoint, permissions: the file system's own words
        raise UsageError(f"{url}: cannot be listed ({type(exc).__name__}: {exc})") from None
    if info.get("type") != "directory":
        folder_url, name = base_url.rsplit("/", 1)
        return Listing(folder_url, posixpath.dirname(path), {name: int(info.get("size") or 0)}, named_file=name)
    try:
        found: dict[str, Any] = fs.find(path, detail=True)
    except Exception as exc:
        raise UsageError(f"{url}: cannot be listed ({type(exc).__name__}: {exc})") from None
    files: dict[str, int] = {}
    for name, entry in found.items():
        rel = name.rstrip("/")[len(path) :].lstrip("/")
        if rel and entry.get("type", "file") == "file":
            files[rel] = int(entry.get("size") or 0)
    return Listing(base_url, path, files)
