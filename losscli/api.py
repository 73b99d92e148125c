"""The library API the CLI is a thin layer over: load runs, classify them, in parallel, without printing.

>>> import losscli
>>> runs = losscli.load("sample_logs/hf-stepped")
>>> losscli.analyze(runs[0]).verdict
'stepped'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.analysis.result import RunResult
from losscli.discover import WalkOptions, find_sources
from losscli.errors import LossCliError
from losscli.parsers import get_format
from losscli.parsers.base import ReadOptions, Source

if TYPE_CHECKING:
    from losscli.analysis.settings import Settings
    from losscli.frame import Run


@dataclass
class Outcome:
    """Every run's result in a stable order, and the problems met while finding runs."""

    results: list[RunResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load(path: str | Path, read_options: ReadOptions | None = None, walk: WalkOptions | None = None) -> list[Run]:
    """Every run found under `path` (a file or a folder), read into the common frame.

    Unreadable runs raise `ParseError`; use `classify` to get them as error results instead.
    """
    found = find_sources([path], walk)
    runs: list[Run] = []
    for source, root in found.sources:
        runs.extend(_read(source, root, read_options or ReadOptions()))
    return runs


def classify(
    paths: Iterable[str | Path],
    settings: Settings | None = None,
    walk: WalkOptions | None = None,
    read_options: ReadOptions | None = None,
    jobs: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    display_points: int = 2000,
) -> Outcome:
    """Find, read and judge every run under `paths`. One job per core by default; order never depends on jobs.

    Each result carries its curves thinned to `display_points` for plots and sparklines (0: none, which keeps
    memory flat over thousands of runs when only the verdicts are wanted)."""
    from losscli.analysis.settings import Settings

    found = find_sources(paths, walk)
    settings = settings or Settings()
    read_options = read_options or ReadOptions()
    outcome = Outcome(warnings=list(found.warnings))
    work = found.sources
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1 or len(work) < 2:
        for i, (source, root) in enumerate(work, 1):
            outcome.results.extend(judge_source(source, root, settings, read_options, display_points))
            if on_progress:
                on_progress(i, len(work))
        return outcome
    from concurrent.futures import ProcessPoolExecutor

    import losscli.analysis.classify  # noqa: F401  (loaded once here, inherited by forked workers)
    import losscli.curves  # noqa: F401

    args = [(source, root, settings, read_options, display_points) for source, root in work]
    with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
        futures = [pool.submit(judge_source, *a) for a in args]
        for i, future in enumerate(futures, 1):
            outcome.results.extend(_result_or_retry(future, args[i - 1]))
            if on_progress:
                on_progress(i, len(work))
    return outcome


def _result_or_retry(future: Any, args: tuple) -> list[RunResult]:
    """A worker's results; when a worker died (out of memory, a crash in a reader) the pool is broken for every
    run still pending, so each of those is judged again alone, in a fresh process: only the culprit fails."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        pass
    source, root = args[0], args[1]
    try:
        with ProcessPoolExecutor(max_workers=1) as solo:
            return solo.submit(judge_source, *args).result()
    except Exception as exc:
        message = f"{source.path}: the process reading it stopped ({type(exc).__name__})"
        return [RunResult(run_label(source.path, root), str(source.path), source.format, None, error=message)]


def judge_source(
    source: Source, root: Path, settings: Settings, read_options: ReadOptions, display_points: int = 2000
) -> list[RunResult]:
    """Read one source and analyse each run in it; a failure becomes an error result, never an exception.

    numpy's floating-point warnings (overflow on absurd values) are silenced: the library never prints."""
    import numpy as np

    with np.errstate(all="ignore"):
        return _judge_source(source, root, settings, read_options, display_points)


def _judge_source(
    source: Source, root: Path, settings: Settings, read_options: ReadOptions, display_points: int
) -> list[RunResult]:
    from losscli.analysis.classify import analyze
    from losscli.curves import display_curves

    label = run_label(source.path, root)
    try:
        runs = _read(source, root, read_options)
    except LossCliError as exc:
        return [RunResult(label, str(source.path), source.format, None, error=str(exc))]
    except Exception as exc:  # a reader bug must not take the other runs down
        message = f"{source.path}: could not be read ({type(exc).__name__}: {exc})"
        return [RunResult(label, str(source.path), source.format, None, error=message)]
    results = []
    for run in runs:
        common: dict[str, Any] = {
            "run": run.name,
            "path": str(run.path),
            "format": run.format,
            "warnings": tuple(run.warnings),
            "notes": tuple(run.notes),
            "meta": _plain_meta(run.meta),
            "curves": display_curves(run, display_points) if display_points else {},
        }
        try:
            analysis = analyze(run, settings=settings)
        except Exception as exc:
            results.append(RunResult(analysis=None, error=f"{run.path}: analysis failed ({exc})", **common))
            continue
        common["warnings"] = (*run.warnings, *analysis.warnings)
        results.append(RunResult(analysis=analysis, **common))
    return results


def _read(source: Source, root: Path, read_options: ReadOptions) -> list[Run]:
    runs = get_format(source.format).read(source, read_options)
    label = run_label(source.path, root)
    for run in runs:
        run.name = f"{label}:{run.name}" if len(runs) > 1 else label
    return runs


def run_label(path: Path, root: Path) -> str:
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
