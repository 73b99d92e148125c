"""The options the commands share, each defined once: a decorator adds a group of options to a command and hands
them to it as one object (sqlite-utils' `output_options()` pattern), so that `--jobs` or `--exclude` mean the same
in every command and their help is written once.

Nothing here loads the analysis: the thresholds' defaults are read from `losscli.analysis.settings.Settings` only
when a command runs or shows its help, so that `losscli --help` and `--version` start as fast as Python does.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from losscli.config.record import GROUP_KEYS, KEYS
from losscli.verdicts import VERDICTS

if TYPE_CHECKING:
    from losscli.analysis.settings import Settings
    from losscli.discover import WalkOptions
    from losscli.parsers.base import ReadOptions


class OutputFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    json = "json"
    csv = "csv"


class PathOrUrl(click.ParamType):
    """A local path (a `Path`), or a URL kept as written (`s3://bucket/prefix`: `Path` would fold its `//`)."""

    name = "path"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path | str:
        from losscli.storage import is_url

        if isinstance(value, Path) or not is_url(str(value)):
            return Path(value)
        return str(value)


def paths_argument(command: Callable[..., Any]) -> Callable[..., Any]:
    """PATHS...: one or more log files or folders, or URLs of any fsspec file system (`s3://bucket/runs`)."""
    return click.argument("paths", nargs=-1, required=True, metavar="PATHS...", type=PathOrUrl())(command)


def dask_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--dask ADDRESS`: read and judge the runs on a Dask cluster (`losscli.cluster`)."""
    return click.option(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="Read and judge the runs on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
        "needs the `dask` extra.",
    )(command)


def format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice([f.value for f in OutputFormat]),
        default=OutputFormat.table.value,
        show_default=True,
        help="table for people; jsonl, json or csv for scripts (data on stdout, messages on stderr).",
    )(command)


@dataclass(frozen=True)
class SourceOptions:
    """Which runs to find and how to read them, and how to treat what goes wrong: every command takes these."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    hidden: bool = False
    no_checksums: bool = False
    jobs: int | None = None
    strict: bool = False
    debug: bool = False
    step_col: str | None = None
    loss_col: str | None = None
    epoch_col: str | None = None
    eval_col: str | None = None
    storage_option: tuple[str, ...] = ()

    def storage(self) -> dict[str, Any]:
        """The file system options for URLs (`--storage-option KEY=VALUE`)."""
        from losscli.storage.filesystem import storage_options

        return storage_options(self.storage_option)

    def walk(self) -> WalkOptions:
        from losscli.discover import WalkOptions

        return WalkOptions(include=self.include, exclude=self.exclude, include_hidden=self.hidden)

    def read(self) -> ReadOptions:
        from losscli.parsers.base import ReadOptions

        return ReadOptions(
            verify_checksums=not self.no_checksums,
            step_col=self.step_col,
            loss_col=self.loss_col,
            epoch_col=self.epoch_col,
            eval_col=self.eval_col,
        )


_SOURCE_OPTIONS = {  # SourceOptions field: its option
    "include": click.option(
        "--include", multiple=True, metavar="GLOB", help="Only runs whose path matches this glob (repeatable)."
    ),
    "exclude": click.option(
        "--exclude", multiple=True, metavar="GLOB", help="Skip runs whose path matches this glob (repeatable)."
    ),
    "hidden": click.option(
        "--hidden", is_flag=True, help="Also search hidden and dependency folders (.git, node_modules, ...)."
    ),
    "no_checksums": click.option(
        "--no-checksums", is_flag=True, help="Skip the CRC checks of event files (trusted files; faster)."
    ),
    "jobs": click.option(
        "-j", "--jobs", type=click.IntRange(min=1), default=None, help="Parallel jobs [default: one per core]."
    ),
    "strict": click.option(
        "--strict", is_flag=True, help="Exit with 1 on any warning too (damaged files, skipped entries)."
    ),
    "debug": click.option("--debug", is_flag=True, help="Show the traceback of unexpected errors."),
    "step_col": click.option(
        "--step-col", metavar="NAME", help="A loss table's step column, when not named in a usual way."
    ),
    "loss_col": click.option("--loss-col", metavar="NAME", help="A loss table's train-loss column."),
    "epoch_col": click.option("--epoch-col", metavar="NAME", help="A loss table's epoch column (progress or a count)."),
    "eval_col": click.option("--eval-col", metavar="NAME", help="A loss table's eval-loss column."),
    "storage_option": click.option(
        "--storage-option",
        multiple=True,
        metavar="KEY=VALUE",
        help="An option for the file system of URL paths (endpoint_url=http://host:9000, anon=true; repeatable).",
    ),
}


def source_options(command: Callable[..., Any] | None = None, *, omit: tuple[str, ...] = ()) -> Callable[..., Any]:
    """Add the shared finding, reading and failure options; the command gets them as `source: SourceOptions`.

    `@source_options(omit=("jobs",))` leaves out options that mean nothing to a command (they keep their
    defaults)."""
    if command is None:
        return functools.partial(source_options, omit=omit)
    names = [f.name for f in dataclasses.fields(SourceOptions) if f.name not in omit]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        source = SourceOptions(**{name: kwargs.pop(name) for name in names})
        return command(source=source, **kwargs)

    for name in reversed(names):
        wrapper = _SOURCE_OPTIONS[name](wrapper)
    return wrapper


@dataclass(frozen=True)
class JudgeOptions:
    """How runs are judged (thresholds) and which verdicts make the exit code 4."""

    thresholds: dict[str, Any]
    fail_on: tuple[str, ...] = ()

    def settings(self) -> Settings:
        from losscli.analysis.settings import Settings

        return Settings(**self.thresholds)


class SettingOption(click.Option):
    """An option whose default is a field of `Settings`, read when a command runs or shows its help (not when
    the command line is built, which would load the analysis and numpy for `losscli --version`)."""

    def __init__(self, *args: Any, setting: str, **kwargs: Any) -> None:
        self.setting = setting
        super().__init__(*args, **kwargs)

    def get_default(self, ctx: click.Context, call: bool = True) -> Any:
        return setting_defaults()[self.setting]


def setting_defaults() -> dict[str, Any]:
    from losscli.analysis.settings import Settings

    return {f.name: f.default for f in dataclasses.fields(Settings)}


class VerdictList(click.ParamType):
    """`stepped`, or `stepped,inconclusive`: one or more verdict names."""

    name = "verdict"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names = tuple(v.strip() for v in str(value).split(",") if v.strip())
        unknown = [n for n in names if n not in VERDICTS]
        if unknown or not names:
            self.fail(f"{value!r} is not a verdict; choose from {', '.join(VERDICTS)}", param, ctx)
        return names


class KeyList(click.ParamType):
    """`model`, or `model,epochs`: one or more configuration keys (`losscli.config.record`), each once."""

    name = "key"

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        names = tuple(dict.fromkeys(v.strip() for v in str(value).split(",") if v.strip()))
        unknown = [n for n in names if n not in self.keys]
        if unknown or not names:
            self.fail(
                f"{unknown[0] if unknown else value!r} is not a key; choose from {', '.join(self.keys)}", param, ctx
            )
        return names


def columns_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--columns KEY[,KEY...]`: configuration keys shown as table columns; the command gets `columns` (None:
    none given)."""
    return click.option(
        "--columns",
        type=KeyList(KEYS),
        default=None,
        metavar="KEY[,KEY...]",
        help=f"Configuration keys to show as table columns ({', '.join(KEYS)}); every key is in jsonl, json and csv.",
    )(command)


def by_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--by KEY[,KEY...]`: the keys to group runs by; the command gets `by` (None: none given)."""
    return click.option(
        "--by",
        type=KeyList(GROUP_KEYS),
        default=None,
        metavar="KEY[,KEY...]",
        help=f"Group by these keys ({', '.join(GROUP_KEYS)}); month and week are those of `started`.",
    )(command)


THRESHOLDS = {  # Settings field: help (the default is the field's)
    "min_t": "A step's drop must be this many of its standard errors.",
    "min_z": "... and this many times the noise of single points.",
    "min_share": "... and this share of the epoch-to-epoch decrease must happen at the boundary.",
}


def judge_options(command: Callable[..., Any] | None = None, *, fail_on: bool = True) -> Callable[..., Any]:
    """Add `--steps-per-epoch`, the thresholds and `--fail-on`; the command gets them as `judge: JudgeOptions`.

    `@judge_options(fail_on=False)` leaves `--fail-on` out (a command that ends on conditions of its own)."""
    if command is None:
        return functools.partial(judge_options, fail_on=fail_on)
    settings = ["steps_per_epoch", *THRESHOLDS]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        thresholds = {name: kwargs.pop(name) for name in settings}
        failing = tuple(dict.fromkeys(v for group in kwargs.pop("fail_on", ()) for v in group))
        return command(judge=JudgeOptions(thresholds, failing), **kwargs)

    options = [
        click.option(
            "--steps-per-epoch",
            type=click.FloatRange(min=1),
            default=None,
            help="Steps per epoch, for runs whose logs carry no epoch information; ignored for runs whose logs "
            "record epochs.",
        ),
        *(
            click.option(
                f"--{name.replace('_', '-')}", cls=SettingOption, setting=name, type=float, show_default=True, help=text
            )
            for name, text in THRESHOLDS.items()
        ),
        click.option(
            "--fail-on",
            type=VerdictList(),
            multiple=True,
            metavar="VERDICT[,VERDICT...]",
            help=f"Exit with 4 when a run gets one of these verdicts ({', '.join(VERDICTS)}); repeatable.",
        ),
    ]
    if not fail_on:
        options.pop()
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
