"""Reading and judging runs on an existing Dask distributed cluster (`--dask tcp://scheduler:8786`).

The walk stays on the client (a listing is cheap); each run found goes to the cluster as one task, the function
that reads and judges one source (`api`'s, plain data in and out), and the results come back through
`parallel.ordered_map`, in walk order, with at most `AHEAD` tasks per worker thread in flight, so the client's
memory stays flat however large the archive. The cluster retries a task whose worker died; one that fails
anyway is that run's error. Workers read remote runs themselves (`losscli.storage`): they need losscli and the
file system's extra installed, and the same credentials (`--storage-option` values travel with each task).
Local paths given with `--dask` must be readable at the same path on every worker (a shared file system).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from losscli.errors import UsageError


class DaskPool:
    """A Dask client as a pool for `parallel.ordered_map`: `jobs` is the cluster's worker threads."""

    remote = True

    def __init__(self, client: Any) -> None:
        self.client = client
        self.jobs = max(1, sum(client.nthreads().values()))
        self.futures: list[Any] = []

    @classmethod
    def connect(cls, address: str) -> DaskPool:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--dask needs Dask's distributed package: pip install 'losscli[dask]'") from None
        try:
            client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--dask {address}: no Dask scheduler answers there ({exc})") from None
        return cls(client)

    def submit(self, work: Callable[[Any], Any], item: Any) -> Any:
        future = self.client.submit(work, item, pure=False)
        self.futures.append(future)
        if len(self.futures) > 4 * self.jobs * 4:
            self.futures = [f for f in self.futures if not f.done()]
        return future

    def renew(self) -> None:
        """Nothing to renew: the cluster replaces its workers itself."""

    def close(self, wait: bool) -> None:
        if not wait:
            self.client.cancel([f for f in self.futures if not f.done()])
        self.futures.clear()
        self.client.close()
