"""Where runs come from: local paths and URLs side by side, in the order given, and the work on each either way.

Without a URL among the paths this is `losscli.discover.walk` itself. With one, each path is walked on its own
(a URL by `runs.walk_url`), every path checked or listed before the first run is yielded. `on_source` does a
piece of work on a local source as it is, and on a remote one in the private folder `runs.fetched` makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

from losscli.discover import Located, Problem, WalkOptions, walk
from losscli.parsers.base import ReadOptions
from losscli.storage import is_url, local_file_url

if TYPE_CHECKING:
    from losscli.storage.runs import RemoteGroup, RemoteSource

R = TypeVar("R")
Found = Union[Problem, Located, "RemoteSource", "RemoteGroup"]


def find(
    paths: Iterable[str | Path],
    *,
    walk_options: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    storage_options: dict[str, Any] | None = None,
    local_workers: bool = True,
) -> Iterator[Found]:
    """The sources under `paths` and the problems met, in walk order. `local_workers`: the work runs on this
    machine (remote sources may then take what the walk fetched already, until `close()` is called on what this
    returns, once the work on every source is done)."""
    given = [local_file_url(p) or p if isinstance(p, str) else p for p in paths]
    if not any(is_url(p) for p in given):
        return walk(given, options=walk_options, read_options=read_options)
    from losscli.storage.runs import list_url, walk_url

    parts: list[Iterator[Found]] = []
    mirrors: list[Path] = []
    for path in given:
        if isinstance(path, str) and is_url(path):
            listing = list_url(path, storage_options or {})
            parts.append(
                walk_url(
                    listing,
                    options=storage_options or {},
                    walk=walk_options,
                    read_options=read_options,
                    keep_mirror=local_workers,
                    mirrors=mirrors,
                )
            )
        else:
            parts.append(walk([path], options=walk_options, read_options=read_options))
    return Sources(chain.from_iterable(parts), mirrors)


class Sources(Iterator[Found]):
    """`find`'s sources under URLs: `close()` deletes the walks' mirrors (the work on the sources is done)."""

    def __init__(self, items: Iterator[Found], mirrors: list[Path]) -> None:
        self.items = items
        self.mirrors = mirrors

    def __next__(self) -> Found:
        return next(self.items)

    def close(self) -> None:
        from losscli.storage.runs import MIRRORS

        for folder in self.mirrors:
            MIRRORS.drop(folder)
        self.mirrors.clear()


def closed(items: Iterator[Any]) -> None:
    """Release what `find` holds for its sources (a walk's mirror), once the work on them is done."""
    close = getattr(items, "close", None)
    if close is not None:
        close()


def is_work(item: Any) -> bool:
    return not isinstance(item, Problem)


def on_source(item: Any, *, work: Callable[[Located], list[R]], failed: Callable[[Located, str], list[R]]) -> list[R]:
    """`work` on a source found by `find`; for a remote one, `failed(shown, message)` when its files cannot be
    fetched."""
    if isinstance(item, tuple):
        return work(item)
    from losscli.storage.runs import fetched

    return fetched(item, work, failed)


def stopped(item: Any, exc: BaseException, failed: Callable[[Located, str], list[R]]) -> list[R]:
    """What stands for each source of `item` when the process reading it stopped (`failed(shown, message)`)."""
    why = f"the process reading it stopped ({type(exc).__name__})"
    return [r for located in shown(item) for r in failed(located, f"{located[0].path}: {why}")]


def shown(item: Any) -> list[Located]:
    """Each source of an item found by `find` (a group of remote runs holds several) as messages name it."""
    if isinstance(item, tuple):
        return [item]
    return [remote.shown() for remote in getattr(item, "sources", (item,))]
