"""Work on runs in worker processes and hand the results back in walk order, each as soon as it and every one
before it are done.

At most `jobs * AHEAD` items are in flight, so memory stays flat however many runs a tree holds, and the first
result is out while the walk goes on. A worker that dies (the out-of-memory killer, a crash in a reader) breaks
the pool for every job in flight: the one whose turn it is runs again alone in a fresh process, so that only the
culprit fails, and a new pool takes the rest. Workers ignore Ctrl-C; when the consumer stops (Ctrl-C, a closed
pipe, an early `break`), the workers are stopped at once instead of finishing work nobody will read.

The same streaming runs on other workers given as a `pool` (`losscli.cluster`: a Dask cluster), which then does
every piece of work, however few; a piece whose worker failed is `on_crash`'s there, the cluster having retried it.
"""

from __future__ import annotations

import itertools
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
AHEAD = 4  # items in flight per worker: enough to keep every worker busy while the head is written


def ordered_map(
    work: Callable[[T], R],
    items: Iterable[Any],
    *,
    jobs: int,
    is_work: Callable[[Any], bool],
    on_crash: Callable[[T, BaseException], R],
    pool: Any = None,
) -> Iterator[Any]:
    """`work(item)` for each item where `is_work(item)`, other items passed through, all in the input order.

    `on_crash(item, exc)` stands in for the result when `work` killed its process even when run alone. `pool`:
    other workers to use instead of this machine's processes (module docstring)."""
    items = iter(items)
    if pool is not None:
        yield from _streamed(pool, work, items, pool.jobs, is_work, on_crash)
        return
    head: list[Any] = []  # up to the second piece of work: a single run is judged here, without a pool
    if jobs > 1:
        for item in items:
            head.append(item)
            if sum(map(is_work, head)) == 2:
                break
    if jobs <= 1 or sum(map(is_work, head)) < 2:
        for item in itertools.chain(head, items):
            yield work(item) if is_work(item) else item
        return
    yield from _streamed(_Pool(jobs), work, itertools.chain(head, items), jobs, is_work, on_crash)


def _streamed(
    pool: Any,
    work: Callable[[T], R],
    items: Iterator[Any],
    jobs: int,
    is_work: Callable[[Any], bool],
    on_crash: Callable[[T, BaseException], R],
) -> Iterator[Any]:
    window: deque[tuple[Any, Any]] = deque()
    in_flight = 0
    finished = False
    try:
        for item in items:
            if not is_work(item):
                window.append((item, None))
            else:
                window.append((item, pool.submit(work, item)))
                in_flight += 1
            while window and (window[0][1] is None or window[0][1].done() or in_flight >= jobs * AHEAD):
                item, future = window.popleft()
                if future is None:
                    yield item
                else:
                    in_flight -= 1
                    yield _result(pool, window, work, item, future, on_crash)
        while window:
            item, future = window.popleft()
            yield item if future is None else _result(pool, window, work, item, future, on_crash)
        finished = True
    finally:
        pool.close(wait=finished)


def _result(
    pool: Any,
    window: deque[tuple[Any, Any]],
    work: Callable[[T], R],
    item: T,
    future: Future[R],
    on_crash: Callable[[T, BaseException], R],
) -> R:
    try:
        return future.result()
    except BrokenProcessPool:
        pass
    except Exception as exc:
        if not pool.remote:
            raise
        return on_crash(item, exc)  # the cluster retried it already
    pool.renew()
    for i, (other, waiting) in enumerate(window):  # the rest were lost with the pool, unless already done
        if waiting is not None and (not waiting.done() or waiting.exception() is not None):
            window[i] = (other, pool.submit(work, other))
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_ignore_interrupts) as solo:
            return solo.submit(work, item).result()
    except Exception as exc:
        return on_crash(item, exc)


class _Pool:
    remote = False

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_interrupts)

    def submit(self, work: Callable[[T], R], item: T) -> Future[R]:
        return self.executor.submit(work, item)

    def renew(self) -> None:
        self.close(wait=False)
        self.executor = ProcessPoolExecutor(max_workers=self.jobs, initializer=_ignore_interrupts)

    def close(self, wait: bool) -> None:
        if not wait:  # nobody wants the work in flight: stop the workers now
            for process in list((getattr(self.executor, "_processes", None) or {}).values()):
                process.terminate()
        self.executor.shutdown(wait=wait, cancel_futures=not wait)


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C is for the main process, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
