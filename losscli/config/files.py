"""The files around a run that state its configuration, found and read, never executed.

Everything in one Hugging Face Trainer output folder describes one training: its `trainer_state.json`, the event
files under its `runs/`, the run folders under its `wandb/`, and what the end of a script saves beside them
(`config.json`, `adapter_config.json`, the model card `README.md`, `all_results.json`, `train_results.json`,
LLaMA-Factory's `training_args.yaml` and `llamaboard_config.yaml`). A run of any format finds the output folder it
belongs to (`training_folder`: its own folder or one to three levels up, the first that holds a Trainer's files)
and reads them all, so that its three formats get one configuration. A run outside such a folder reads what its
own folder states: Lightning's `hparams.yaml`, a W&B run's `files/config.yaml`.

Each source has a rank (the first stated value of a fact wins, `resolve`): what the run's own files state (0),
what the trainer recorded while training (1: trainer_state.json, the other formats' logs, training_args.yaml,
hparams.yaml, W&B's config.yaml), the files saved with the model (2: adapter_config.json, config.json), the model
card and the files that summarise the run (3).

Reading: JSON with the standard library, YAML only with the safe loader of `yaml.safe_load` (and no more than
`MAX_NODES` values, so that aliases cannot blow up), event files and `.wandb` logs only their first bytes.
`training_args.bin` is a pickle: it is never opened (its name marks a Trainer output folder, nothing more). Each
file is read once per process (cached by path, size and modification time); a file that cannot be read gives one
warning naming it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from losscli.frame import ConfigSource

OWN, RUN_TIME, SAVED, CARD = 0, 1, 2, 3
MARKERS = frozenset(
    {
        "trainer_state.json",
        "trainer_log.jsonl",
        "all_results.json",
        "train_results.json",
        "training_args.yaml",
        "training_args.bin",
    }
)
TRAINING_FILES = {  # name -> (kind, rank), in the order they are read
    "trainer_state.json": ("trainer_state", RUN_TIME),
    "training_args.yaml": ("llamafactory_args", RUN_TIME),
    "adapter_config.json": ("peft_adapter", SAVED),
    "config.json": ("hf_model_config", SAVED),
    "README.md": ("model_card", CARD),
    "llamaboard_config.yaml": ("llamaboard_config", CARD),
    "all_results.json": ("hf_results", CARD),
    "train_results.json": ("hf_results", CARD),
}
FROM_CHECKPOINT = ("trainer_state.json", "adapter_config.json", "config.json", "README.md")  # when the folder lacks
CLIMB = 3  # levels above a run's folder searched for its Trainer output folder (runs/<name>, wandb/<run>)
STANDALONE = ("tensorboard", "wandb_run", "lightning_csv")  # formats whose own folder may hold hparams.yaml etc.
MAX_BYTES = 4 << 20  # a configuration file larger than this is not one
MAX_STATE_BYTES = 256 << 20  # trainer_state.json holds the whole log history
MAX_NODES = 100_000


@dataclass
class Around:
    """What the files around one run state: ranked sources, first wall times of the training's event files, the
    Trainer output folder (None when the run is not in one), and one warning per file that could not be read."""

    training: Path | None = None
    adapter_file: bool = False  # an adapter_config.json is there (read or not): not a full fine-tune
    sources: list[tuple[int, ConfigSource]] = field(default_factory=list)
    first_wall_times: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def around(path: Path, *, fmt: str, own_files: frozenset[str] = frozenset()) -> Around:
    """The configuration stated around the run at `path` read as `fmt`; `own_files` were read by its reader (their
    configuration is the run's own), and are not read again."""
    folder = path if path.is_dir() else path.parent
    found = Around(training=training_folder(folder, fmt=fmt))
    if found.training is not None:
        _training(found, found.training, own_files)
    if fmt in STANDALONE and folder != found.training:
        _own_folder(found, folder, fmt)
    return found


def training_folder(folder: Path, *, fmt: str) -> Path | None:
    """The Trainer output folder the run in `folder` belongs to: its own folder for a Trainer's run, else the
    first of it and its `CLIMB` parents that holds a Trainer's files."""
    if fmt in ("trainer_state", "trainer_log"):
        return folder
    if fmt not in STANDALONE:
        return None
    here = Path(os.path.abspath(folder))
    came_from = None
    for _ in range(CLIMB + 1):
        if _is_trainer_output(here, came_from=came_from):
            return here if folder.is_absolute() else Path(os.path.relpath(here))
        if here.parent == here:
            break
        here, came_from = here.parent, here.name
    return None


def _is_trainer_output(folder: Path, *, came_from: str | None) -> bool:
    """Whether `folder` holds a Trainer's files: one of `MARKERS` (a few stats), or, reached from its `runs/` or
    `wandb/`, a checkpoint's state (a training still running; the only case that lists the folder, so that the runs
    of a wide folder do not each list it)."""
    if any(os.path.isfile(os.path.join(folder, name)) for name in MARKERS):
        return True
    if came_from not in ("runs", "wandb"):
        return False
    try:
        with os.scandir(folder) as entries:
            return any(
                entry.name.startswith("checkpoint-") and os.path.isfile(os.path.join(entry.path, "trainer_state.json"))
                for entry in entries
            )
    except OSError:
        return False


def _training(found: Around, folder: Path, own_files: frozenset[str]) -> None:
    checkpoints = _checkpoints(folder)
    for name, (kind, rank) in TRAINING_FILES.items():
        path = folder / name
        if not path.is_file() and name in FROM_CHECKPOINT:  # the latest checkpoint that has it
            path = next((c / name for c in checkpoints if (c / name).is_file()), path)
        if str(path) in own_files or not path.is_file():
            continue
        found.adapter_file |= kind == "peft_adapter"
        _add(found, rank, *_read_file(str(path), kind, *_stamp(path)))
    _event_files(found, sorted((folder / "runs").glob("*/*tfevents*")) + sorted(folder.glob("*tfevents*")), own_files)
    for run in _wandb_runs(folder / "wandb"):
        for log in sorted(run.glob("run-*.wandb")):
            if str(log) not in own_files:
                _add(found, RUN_TIME, *_read_wandb(str(log), *_stamp(log)))
        config = run / "files" / "config.yaml"
        if config.is_file():
            rank = OWN if any(f.startswith(str(run) + os.sep) for f in own_files) else RUN_TIME
            _add(found, rank, *_read_file(str(config), "wandb_config", *_stamp(config)))


def _own_folder(found: Around, folder: Path, fmt: str) -> None:
    """A run outside a Trainer output folder: Lightning's hparams.yaml beside its logs, a W&B run's config.yaml;
    the first wall time of its own event files."""
    candidates = [(folder / "hparams.yaml", "lightning_hparams")]
    if fmt == "wandb_run":
        candidates.append((folder / "files" / "config.yaml", "wandb_config"))
    for path, kind in candidates:
        if path.is_file():
            _add(found, OWN, *_read_file(str(path), kind, *_stamp(path)))
    if fmt == "tensorboard":
        _event_files(found, sorted(folder.glob("*tfevents*")), frozenset())


def _event_files(found: Around, paths: list[Path], own_files: frozenset[str]) -> None:
    """The configuration in the first bytes of the training's event files, and when each was opened; a run's own
    files only for the latter (its reader attached their configuration)."""
    from losscli.parsers.tensorboard.config import first_wall_time

    for path in paths:
        if not path.is_file():
            continue
        if str(path) in own_files:
            when = first_wall_time(path)
            configs: list[ConfigSource] = []
        else:
            configs, when, warnings = _read_events(str(path), *_stamp(path))
            found.warnings.extend(warnings)
        for config in configs:
            found.sources.append((RUN_TIME, config))
        if when is not None:
            found.first_wall_times.append(when)


def _wandb_runs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    runs: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if (path.name.startswith(("run-", "offline-run-"))) and path.is_dir() and not path.is_symlink():
            runs.setdefault(os.path.realpath(path), path)
    return list(runs.values())


def _checkpoints(folder: Path) -> list[Path]:
    """The `checkpoint-N` folders the Trainer finished writing, latest first: it writes a checkpoint's
    `trainer_state.json` last, so one without it is still being written (its `config.json` may be empty yet, as
    `losscli watch` saw), and the walk does not take it for a checkpoint either."""
    found = [
        (int(p.name[11:]), p)
        for p in folder.glob("checkpoint-*")
        if p.name[11:].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return [p for _, p in sorted(found, reverse=True)]


def _add(found: Around, rank: int, sources: tuple[ConfigSource, ...], warning: str | None) -> None:
    found.sources.extend((rank, source) for source in sources)
    if warning:
        found.warnings.append(warning)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return stat.st_size, stat.st_mtime_ns


@lru_cache(maxsize=512)
def _read_file(path: str, kind: str, size: int, mtime: int) -> tuple[tuple[ConfigSource, ...], str | None]:
    """One configuration file as a source (none when it states nothing), or a warning naming it."""
    limit = MAX_STATE_BYTES if kind == "trainer_state" else MAX_BYTES
    if size > limit:
        return (), f"{path}: {size} bytes, too large for a configuration file; not read"
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        return (), f"{path}: cannot read ({reason}); the configuration it states was not read"
    try:
        values = _parse(path, kind, text)
    except ValueError as exc:
        return (), f"{path}: {exc}; the configuration it states was not read"
    return ((ConfigSource(kind, path, values),) if values else ()), None


def _parse(path: str, kind: str, text: str) -> dict[str, Any] | None:
    if kind == "model_card":
        from losscli.config.model_card import card_values, split_card

        front, listed = split_card(text)
        return card_values(_yaml(front, "front matter") if front is not None else None, listed=listed)
    if path.endswith((".yaml", ".yml")):
        values = _yaml(text, "YAML")
    else:
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(values, dict):
        raise ValueError(f"holds {type(values).__name__}, not a mapping of names to values")
    if kind == "trainer_state":
        values = {k: v for k, v in values.items() if k != "log_history" and not isinstance(v, (dict, list))}
    return values


def _yaml(text: str, what: str) -> Any:
    """YAML read with the safe loader only (no Python objects, no code: `yaml.safe_load`'s loader, its C build
    when PyYAML has one), and bounded in size."""
    import yaml

    try:
        values = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.constructor.ConstructorError:
        raise ValueError(f"{what} with a Python object tag (only plain values are read)") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ValueError(f"not valid {what}{line}") from None
    except RecursionError:
        raise ValueError(f"{what} nested too deeply") from None
    if _count(values, MAX_NODES) > MAX_NODES:
        raise ValueError(f"{what} holds more than {MAX_NODES} values")
    return values


def _count(value: Any, budget: int) -> int:
    """Values in a loaded document, counting a shared (aliased) part each time it is used; stops past `budget`."""
    seen = 0
    stack = [value]
    while stack and seen <= budget:
        item = stack.pop()
        seen += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return seen


@lru_cache(maxsize=512)
def _read_events(path: str, size: int, mtime: int) -> tuple[list[ConfigSource], float | None, list[str]]:
    from losscli.parsers.tensorboard.config import head_config

    try:
        return head_config(Path(path))
    except OSError as exc:
        return [], None, [f"{path}: cannot read ({exc.strerror or exc}); the configuration it states was not read"]


@lru_cache(maxsize=512)
def _read_wandb(path: str, size: int, mtime: int) -> tuple[tuple[ConfigSource, ...], str | None]:
    from losscli.parsers.wandb.run_records import head_config

    try:
        return tuple(head_config(Path(path))), None
    except OSError as exc:
        return (), f"{path}: cannot read ({exc.strerror or exc}); the configuration it states was not read"
