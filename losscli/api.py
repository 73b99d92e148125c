"""The library API the CLI is a thin layer over: load runs, judge them, in parallel, without printing.

>>> import losscli
>>> runs = losscli.load("sample_logs/hf-stepped")
>>> losscli.analyze(runs[0]).verdict
'stepped'

`iter_results` yields each run's result as soon as it and every result before it are done, in walk order, with
memory that does not grow with the number of runs; `classify` collects them all into an `Outcome`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.discover import Located, Problem, WalkOptions, find_sources
from losscli.errors import LossCliError, ParseError
from losscli.parsers import get_format
from losscli.parsers.base import ReadOptions, Source

if TYPE_CHECKING:
    from losscli.analysis.result import RunResult
    from losscli.analysis.settings import Settings
    from losscli.config.record import RunConfig
    from losscli.frame import Run


@dataclass
class Outcome:
    """Every run's result in a stable order, and the problems met while finding runs: `warnings` for entries
    skipped on purpose, `errors` for folders and files that could not be read."""

    results: list[RunResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load(
    path: str | Path,
    *,
    read_options: ReadOptions | None = None,
    walk: WalkOptions | None = None,
    storage_options: dict[str, Any] | None = None,
) -> list[Run]:
    """Every run found under `path` (a file or a folder, or an fsspec URL read with `storage_options`), read into
    the common frame.

    Unreadable runs raise `ParseError`; use `classify` to get them as error results instead.
    """
    from losscli.storage import is_url

    if is_url(path):
        runs: list[Run] = []
        for item in iter_runs([path], walk=walk, read_options=read_options, jobs=1, storage_options=storage_options):
            if isinstance(item, ReadFailure):
                raise ParseError(item.path, item.error.removeprefix(f"{item.path}: "))
            runs.append(item)
        return runs
    found = find_sources([path], options=walk, read_options=read_options)
    loaded: list[Run] = []
    for source, root in found.sources:
        loaded.extend(_read(source, root, read_options or ReadOptions()))
    return loaded


def classify(
    paths: Iterable[str | Path],
    *,
    settings: Settings | None = None,
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    display_points: int = 2000,
    raw_config: bool = False,
    storage_options: dict[str, Any] | None = None,
    dask: str | None = None,
) -> Outcome:
    """Find, read and judge every run under `paths`: `iter_results` collected, with the problems met."""
    outcome = Outcome()

    def note(problem: Problem) -> None:
        (outcome.errors if problem.error else outcome.warnings).append(problem.message)

    outcome.results.extend(
        iter_results(
            paths,
            settings=settings,
            walk=walk,
            read_options=read_options,
            jobs=jobs,
            on_progress=on_progress,
            on_problem=note,
            display_points=display_points,
            raw_config=raw_config,
            storage_options=storage_options,
            dask=dask,
        )
    )
    return outcome


def iter_results(
    paths: Iterable[str | Path],
    *,
    settings: Settings | None = None,
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    display_points: int = 2000,
    raw_config: bool = False,
    storage_options: dict[str, Any] | None = None,
    dask: str | None = None,
) -> Iterator[RunResult]:
    """Each run's result under `paths`, in walk order, as soon as it and every one before it are done.

    One job per core by default; the order never depends on the jobs. `on_problem` hears, in the same order,
    what the walk met (entries skipped, folders that could not be read); `on_progress(done, found)` after each
    source. Each result carries its curves thinned to `display_points` for plots and sparklines (0: none), and
    its configuration (`losscli.config`; with `raw_config`, also everything read, by file).
    Paths may be fsspec URLs (`s3://bucket/prefix`), with `storage_options` for their file system
    (`losscli.storage`); `dask` names a Dask scheduler whose workers read and judge the runs (`losscli.cluster`).
    A path that does not exist raises `UsageError` at once, before anything is yielded."""
    from losscli.analysis.settings import Settings
    from losscli.storage.sources import find, on_source

    pool = _cluster(dask)
    items = find(  # checks (or lists) the paths now
        paths, walk_options=walk, read_options=read_options, storage_options=storage_options, local_workers=not pool
    )
    judge = partial(
        on_source,
        work=partial(
            _judge_located,
            settings=settings or Settings(),
            read_options=read_options or ReadOptions(),
            display_points=display_points,
            raw_config=raw_config,
        ),
        failed=_unfetched,
    )
    jobs = max(1, jobs or os.cpu_count() or 1)
    return _results(items, judge, jobs, on_progress, on_problem, pool)


def _cluster(address: str | None) -> Any:
    """The Dask cluster at `address` as a pool for `ordered_map` (None: this machine's processes)."""
    if not address:
        return None
    from losscli.cluster import DaskPool

    return DaskPool.connect(address)


def _results(
    items: Iterator[Any],
    judge: Callable[[Any], list[RunResult]],
    jobs: int,
    on_progress: Callable[[int, int], None] | None,
    on_problem: Callable[[Problem], None] | None,
    pool: Any = None,
) -> Iterator[RunResult]:
    from losscli.parallel import ordered_map

    found = 0

    def counted(items: Iterator[Any]) -> Iterator[Any]:
        nonlocal found
        for item in items:
            found += 0 if isinstance(item, Problem) else len(getattr(item, "sources", (item,)))
            yield item

    if jobs > 1:
        import losscli.analysis.classify  # noqa: F401  (loaded once here, inherited by forked workers)
        import losscli.curves  # noqa: F401

    from losscli.storage.sources import closed

    done = 0
    try:
        for out in ordered_map(
            judge,
            counted(items),
            jobs=jobs,
            is_work=lambda item: not isinstance(item, Problem),
            on_crash=_crashed,
            pool=pool,
        ):
            if isinstance(out, Problem):
                if on_problem:
                    on_problem(out)
                continue
            done += 1
            if on_progress:
                on_progress(done, found)
            yield from out
    finally:
        closed(items)


@dataclass(frozen=True)
class ReadFailure:
    """A source that could not be read, in `iter_runs`' stream: its name, path and format, and why."""

    run: str
    path: str
    format: str
    error: str


def iter_runs(
    paths: Iterable[str | Path],
    *,
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    storage_options: dict[str, Any] | None = None,
    dask: str | None = None,
) -> Iterator[Run | ReadFailure]:
    """Every run under `paths`, read into the frame (not judged), in walk order, each as soon as it and every one
    before it are read; a source that cannot be read is a `ReadFailure` in its place. Memory does not grow with
    the number of runs. Paths, `storage_options` and `dask` as in `iter_results`. A path that does not exist
    raises `UsageError` at once."""
    from losscli.parallel import ordered_map
    from losscli.storage.sources import closed, find, is_work, on_source

    pool = _cluster(dask)
    items = find(
        paths, walk_options=walk, read_options=read_options, storage_options=storage_options, local_workers=not pool
    )
    read = partial(
        on_source, work=partial(_read_located, read_options=read_options or ReadOptions()), failed=_unfetched_run
    )
    jobs = max(1, jobs or os.cpu_count() or 1)
    try:
        for out in ordered_map(read, items, jobs=jobs, is_work=is_work, on_crash=_lost, pool=pool):
            if isinstance(out, Problem):
                if on_problem:
                    on_problem(out)
                continue
            yield from out
    finally:
        closed(items)


def _read_located(located: Located, *, read_options: ReadOptions) -> list[Run | ReadFailure]:
    source, root = located
    try:
        return list(_read(source, root, read_options))
    except Exception as exc:  # a reader's bug is one more unreadable run, as in `classify`
        message = str(exc) if isinstance(exc, LossCliError) else f"{source.path}: could not be read ({exc!r})"
        return [ReadFailure(run_label(source.path, root=root), str(source.path), source.format, message)]


def _lost(item: Any, exc: BaseException) -> list[Run | ReadFailure]:
    from losscli.storage.sources import stopped

    return stopped(item, exc, _unfetched_run)


def _unfetched_run(located: Located, message: str) -> list[Run | ReadFailure]:
    source, root = located
    return [ReadFailure(run_label(source.path, root=root), str(source.path), source.format, message)]


def _crashed(item: Any, exc: BaseException) -> list[RunResult]:
    """The result of a source whose reading killed its process even when read alone."""
    from losscli.storage.sources import stopped

    return stopped(item, exc, _unfetched)


def _unfetched(located: Located, message: str) -> list[RunResult]:
    """The result of a source that could not be read at all (its files could not be fetched)."""
    from losscli.analysis.result import RunResult

    source, root = located
    return [RunResult(run_label(source.path, root=root), str(source.path), source.format, None, error=message)]


def _judge_located(
    located: Located, *, settings: Settings, read_options: ReadOptions, display_points: int, raw_config: bool
) -> list[RunResult]:
    source, root = located
    return judge_source(
        source,
        root=root,
        settings=settings,
        read_options=read_options,
        display_points=display_points,
        raw_config=raw_config,
    )


Reader = Callable[[Source, ReadOptions], list["Run"]]


def judge_source(
    source: Source,
    *,
    root: Path,
    settings: Settings,
    read_options: ReadOptions,
    display_points: int = 2000,
    read: Reader | None = None,
    raw_config: bool = False,
) -> list[RunResult]:
    """Read one source and analyse each run in it; a failure becomes an error result, never an exception.

    `read` reads the source's runs (its format's `read` by default; `losscli watch` gives what it has read of
    files that grow). Reading includes each run's configuration (`losscli.config`), here, so that parallel workers
    read it too. numpy's floating-point warnings (overflow on absurd values) are silenced: the library never
    prints."""
    import numpy as np

    with np.errstate(all="ignore"):
        return _judge_source(source, root, settings, read_options, display_points, read, raw_config)


def _judge_source(
    source: Source,
    root: Path,
    settings: Settings,
    read_options: ReadOptions,
    display_points: int,
    read: Reader | None,
    raw_config: bool,
) -> list[RunResult]:
    from losscli.analysis.classify import analyze
    from losscli.analysis.result import RunResult
    from losscli.curves import display_curves

    label = run_label(source.path, root=root)
    try:
        runs = _read(source, root, read_options) if read is None else _named(read(source, read_options), source, root)
    except Exception as exc:  # a reader bug must not take the other runs down
        if isinstance(exc, LossCliError):
            message = str(exc)
        else:
            message = f"{source.path}: could not be read ({type(exc).__name__}: {exc})"
        config, warnings = _configuration(source, raw=raw_config)
        return [
            RunResult(
                label, str(source.path), source.format, None, error=message, warnings=tuple(warnings), config=config
            )
        ]
    results = []
    for run in runs:
        config, config_warnings = _configuration(run, raw=raw_config)
        common: dict[str, Any] = {
            "run": run.name,
            "path": str(run.path),
            "format": run.format,
            "warnings": (*run.warnings, *config_warnings),
            "notes": tuple(run.notes),
            "meta": _plain_meta(run.meta),
            "curves": display_curves(run, display_points) if display_points else {},
            "config": config,
        }
        try:
            analysis = analyze(run, settings=settings)
        except Exception as exc:
            results.append(RunResult(analysis=None, error=f"{run.path}: analysis failed ({exc})", **common))
            continue
        common["warnings"] = (*run.warnings, *analysis.warnings, *config_warnings)
        if config is not None and analysis.lr_schedule is not None:
            common["config"] = config.with_schedule(analysis.lr_schedule.kind, analysis.lr_schedule.warmup_steps)
        results.append(RunResult(analysis=analysis, **common))
    return results


def _configuration(what: Run | Source, *, raw: bool) -> tuple[RunConfig | None, list[str]]:
    """A run's configuration (or, for a source that could not be read, what the files around it state), with its
    warnings; reading it never fails the run: an unexpected error is one warning."""
    from losscli.config.build import run_config, source_config

    try:
        if isinstance(what, Source):
            return source_config(what.path, fmt=what.format, files=what.files, raw=raw)
        return run_config(what, raw=raw)
    except Exception as exc:
        return None, [f"{what.path}: the configuration around it could not be read ({type(exc).__name__}: {exc})"]


def _read(source: Source, root: Path, read_options: ReadOptions) -> list[Run]:
    return _named(get_format(source.format).read(source, read_options), source, root)


def _named(runs: list[Run], source: Source, root: Path) -> list[Run]:
    """Runs read from `source`, named by their path below `root` and checked (`log_checks`)."""
    from losscli.log_checks import check_run

    label = run_label(source.path, root=root)
    for run in runs:
        run.name = f"{label}:{run.name}" if len(runs) > 1 else label
        check_run(run)
    return runs


def run_label(path: Path, *, root: Path) -> str:
    """A run's name: its path below the folder the user named (the folder's own name when it is the run)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    if rel == Path("."):
        return Path(os.path.abspath(root)).name or str(root)
    return rel.as_posix()


def _plain_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON-friendly part of a run's meta, for output."""
    keep: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            keep[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
            keep[key] = list(value)
    return keep
