"""One value per key from everything stated: the first source in rank order wins, disagreements are said once.

Sources come ranked (`files`): what the run's own log states, then what the trainer recorded while training (the
other formats' logs, trainer_state.json, training_args.yaml, hparams.yaml), then the files saved with the model
(adapter_config.json, config.json), then the model card and the results files; in a rank, in the order they were
read. The start is the exception: the earliest stated start wins (a resumed training started with its first
run). A fact stated differently by two sources (numbers compared to 6 significant digits) gives one warning per
run that lists every such fact, what each source says and which is used. What is derived from the log fills only
what no file states, and never disagrees.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from losscli.config.derive import iso_time
from losscli.config.interpret import interpret
from losscli.config.record import KEYS, RunConfig
from losscli.config.values import same, shown, tidy
from losscli.frame import ConfigSource

ORDER = "a run's own log first, then the training's other logs and trainer files, the saved model, the model card"
_HIDDEN = "<hidden>"
_SECRET = re.compile(r"(^token|api_?key|secret(_key)?|password|passwd|access_token|auth_token|hub_token|api_token)$")


@dataclass(frozen=True)
class Stated:
    """A fact as a ranked source states it, kept to tell agreeing sources from conflicting ones."""

    fact: str
    value: Any
    where: str  # file (and field)
    rank: int


def resolve(
    ranked: list[tuple[int, ConfigSource]],
    *,
    derived: Mapping[str, Any],
    training: str | None,
    label: str,
    raw: bool = False,
    adapter_file: bool = False,
) -> tuple[RunConfig, str | None]:
    """The run's configuration and, when sources disagree, the one warning that says so (`label` names the run;
    `adapter_file`: an adapter_config.json is beside the run, even if it could not be read)."""
    stated = _stated(ranked, adapter_file=adapter_file)
    chosen: dict[str, Stated] = {}
    disagree: list[str] = []
    for fact, found in stated.items():
        if fact == "started":
            chosen[fact] = min(found, key=lambda s: s.value)
            continue
        chosen[fact] = found[0]
        if any(not same(s.value, other=found[0].value) for s in found[1:]):
            disagree.append(f"{fact} ({_says(found)})")
    values, sources = _canonical(chosen, derived)
    warning = None
    if disagree:
        warning = (
            f"{label}: the files of this training disagree on " + ", ".join(disagree) + f"; the first is used ({ORDER})"
        )
    config = RunConfig(
        values=values,
        sources=sources,
        derived=dict(derived),
        training=training,
        raw={source.where: _plain(source.values) for _, source in ranked} if raw else {},
    )
    return config, warning


def _stated(ranked: list[tuple[int, ConfigSource]], *, adapter_file: bool) -> dict[str, list[Stated]]:
    """Every fact's statements, in rank order (each source's first statement of a fact only)."""
    has_adapter_file = adapter_file or any(source.kind == "peft_adapter" for _, source in ranked)
    stated: dict[str, list[Stated]] = {}
    for rank, source in sorted(ranked, key=lambda item: item[0]):  # stable: read order within a rank
        seen: set[str] = set()
        for statement in interpret(source, has_adapter_file=has_adapter_file):
            if statement.fact in seen:
                continue
            seen.add(statement.fact)
            where = _where(source.where, statement.field)
            stated.setdefault(statement.fact, []).append(Stated(statement.fact, statement.value, where, rank))
    return stated


def _where(where: str, field: str) -> str:
    """`file (field)`, or `file (record: field)` when the source names a record in the file."""
    if not field:
        return where
    return f"{where[:-1]}: {field})" if where.endswith(")") else f"{where} ({field})"


def _says(found: list[Stated]) -> str:
    """Each value stated, the used one first, with every file that states it (sorted, so that every run of a
    training words the same disagreement the same way, and it is said once)."""
    values: list[tuple[Any, list[str]]] = []
    for s in found:
        for value, wheres in values:
            if same(s.value, other=value):
                wheres.append(s.where)
                break
        else:
            values.append((s.value, [s.where]))
    first, rest = values[0], sorted(values[1:], key=lambda item: shown(item[0]))
    return "; ".join(f"{shown(value)} in {', '.join(sorted(set(wheres)))}" for value, wheres in [first, *rest])


def _canonical(chosen: dict[str, Stated], derived: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = dict.fromkeys(KEYS)
    sources: dict[str, str] = {}

    def take(key: str, fact: str, convert: Any = None) -> None:
        if fact in chosen:
            value = chosen[fact].value
            values[key] = convert(value) if convert else value
            sources[key] = chosen[fact].where

    take("model", "base_model" if "base_model" in chosen else "architecture")
    take("adapter", "adapter", str)
    take("dataset", "dataset")
    take("scheduler", "scheduler")
    take("epochs", "epochs")
    take("max_steps", "max_steps")
    take("seed", "seed")
    take("train_samples", "train_samples")
    take("learning_rate", "learning_rate")
    if values["learning_rate"] is None and derived.get("peak_learning_rate") is not None:
        values["learning_rate"] = derived["peak_learning_rate"]
        sources["learning_rate"] = "derived: the highest learning rate logged"
    _warmup(chosen, values, sources)
    _batch_size(chosen, values, sources)
    if "started" in chosen:
        values["started"] = iso_time(chosen["started"].value)
        sources["started"] = chosen["started"].where
    elif derived.get("started"):
        values["started"] = derived["started"]
        sources["started"] = "derived: the first wall time in the training's logs"
    return values, {key: sources[key] for key in KEYS if key in sources}


def _warmup(chosen: dict[str, Stated], values: dict[str, Any], sources: dict[str, str]) -> None:
    """Warm-up in steps, as the Trainer counts it: the steps when above 0, else the ratio of the planned steps
    (rounded up), else 0 when stated so."""
    steps, ratio = chosen.get("warmup_steps"), chosen.get("warmup_ratio")
    if steps is not None and steps.value > 0:
        values["warmup"], sources["warmup"] = steps.value, steps.where
    elif ratio is not None and ratio.value > 0:
        if values["max_steps"] is not None:
            values["warmup"] = math.ceil(ratio.value * values["max_steps"])
            sources["warmup"] = f"{ratio.where}: {ratio.value:g} of {values['max_steps']} steps"
    else:
        zero = steps if steps is not None else ratio
        if zero is not None:
            values["warmup"], sources["warmup"] = 0, zero.where


def _batch_size(chosen: dict[str, Stated], values: dict[str, Any], sources: dict[str, str]) -> None:
    """The effective batch: the stated total, else per device x accumulation x devices (1 where not stated)."""
    if "total_batch_size" in chosen:
        values["batch_size"], sources["batch_size"] = chosen["total_batch_size"].value, chosen["total_batch_size"].where
        return
    if "per_device_batch_size" not in chosen:
        return
    size = 1.0
    parts = []
    for fact, what in (
        ("per_device_batch_size", "per device"),
        ("accumulation", "accumulation"),
        ("devices", "devices"),
    ):
        if fact in chosen:
            size *= chosen[fact].value
            parts.append(f"{what} {chosen[fact].value} from {chosen[fact].where}")
        else:
            parts.append(f"{what} not stated (1)")
    values["batch_size"] = tidy(size)
    sources["batch_size"] = " x ".join(parts)


def _secret(key: Any, value: Any) -> bool:
    """A token, key or password (masked or not): never shown, even from the user's own files."""
    return bool(_SECRET.search(str(key).lower())) and value not in (None, "")


def _plain(value: Any, depth: int = 0) -> Any:
    """A stated value as JSON can hold it (keys as text, YAML's dates and sets as text and lists), secrets hidden."""
    if depth > 20:
        return None
    if isinstance(value, Mapping):
        return {
            str(k): "<hidden>"
            if _SECRET.search(str(k).lower()) and value[k] not in (None, "")
            else _plain(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
