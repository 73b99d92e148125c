"""What each kind of stated configuration says, in the same words: `Statement`s about the training.

A statement names one fact (`FACTS`) with its value and the field that states it. The canonical keys are built
from facts in `resolve`: `model` is the named base model, else the architecture; `batch_size` is the stated total,
else per device x accumulation x devices; `warmup` is steps, or a ratio of the planned steps.

Each kind has its own reading, because the same name means different things in different files: the Trainer's
`max_steps` is -1 when epochs decide (and `num_train_epochs` is then the plan), `trainer_state.json`'s is the
planned total either way; a model card's `train_batch_size` is per device and its `total_train_batch_size` the
effective one; a W&B or MLflow config of the Trainer is its TrainingArguments merged with the model's config (and,
in W&B, the PEFT config); LLaMA-Factory's web UI prefixes its fields (`train.learning_rate`). Kinds nobody wrote a
reading for (a script's own W&B config, Lightning's `save_hyperparameters`) are read by the common names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from losscli.config.values import from_text, integer, name, names, number, tidy
from losscli.frame import ConfigSource

FACTS = (
    "base_model",  # a named model (hub id or path) the training started from
    "architecture",  # the model family (`model_type`), when nothing names a base model
    "adapter",
    "dataset",
    "learning_rate",
    "scheduler",
    "warmup_steps",
    "warmup_ratio",
    "epochs",
    "max_steps",
    "per_device_batch_size",
    "accumulation",
    "devices",
    "total_batch_size",
    "seed",
    "started",  # seconds since the epoch
    "train_samples",
)

# common names of each fact, in order of preference (hparams, W&B configs of scripts, LLaMA-Factory)
ALIASES: dict[str, tuple[str, ...]] = {
    "base_model": (
        "model_name_or_path",
        "base_model",
        "base_model_name_or_path",
        "pretrained_model_name_or_path",
        "model_name",
        "model_id",
        "model",
        "_name_or_path",
    ),
    "dataset": (
        "dataset",
        "datasets",
        "dataset_name",
        "dataset_id",
        "data",
        "train_dataset",
        "data_path",
        "train_file",
    ),
    "learning_rate": ("learning_rate", "lr", "base_lr", "max_lr"),
    "scheduler": ("lr_scheduler_type", "lr_scheduler", "scheduler", "lr_schedule"),
    "warmup_steps": ("warmup_steps", "num_warmup_steps", "warmup_iters", "lr_scheduler_warmup_steps"),
    "warmup_ratio": ("warmup_ratio", "lr_scheduler_warmup_ratio"),
    "epochs": ("num_train_epochs", "num_epochs", "epochs", "max_epochs", "n_epochs", "train_epochs"),
    "max_steps": ("max_steps", "training_steps", "total_steps", "max_iters", "num_training_steps"),
    "per_device_batch_size": ("per_device_train_batch_size", "train_batch_size", "batch_size", "micro_batch_size"),
    "accumulation": ("gradient_accumulation_steps", "accumulate_grad_batches", "grad_accum_steps"),
    "devices": ("num_devices", "world_size", "num_processes"),
    "total_batch_size": ("total_train_batch_size", "global_batch_size", "effective_batch_size"),
    "seed": ("seed", "random_seed"),
    "train_samples": ("train_samples",),
}
_HF_MODEL_KEYS = ("model_type", "architectures")  # a Hugging Face model config is among the values


@dataclass(frozen=True)
class Statement:
    """One fact about a training (its model, epochs, ...) as one field of one config file states it."""

    fact: str
    value: Any
    field: str  # the field of the source that states it


@dataclass(frozen=True)
class Adapter:
    """A parameter-efficient adapter (`lora`, with its rank and alpha when stated), or `none` for a full
    fine-tune. Two statements agree when the kind and every number both state are the same."""

    kind: str
    r: int | None = None
    alpha: float | None = None

    def __str__(self) -> str:
        text = self.kind
        if self.r is not None:
            text += f" r={self.r}"
        if self.alpha is not None:
            text += f" alpha={tidy(self.alpha)}"
        return text

    def agrees(self, other: Any) -> bool:
        if not isinstance(other, Adapter) or other.kind != self.kind:
            return False
        return all(a is None or b is None or a == b for a, b in ((self.r, other.r), (self.alpha, other.alpha)))


NONE = Adapter("none")


def interpret(source: ConfigSource, *, has_adapter_file: bool = False) -> list[Statement]:
    """The statements of one source. `has_adapter_file`: the training folder holds an `adapter_config.json`, so a
    saved full model config does not mean a full fine-tune."""
    values = source.values if isinstance(source.values, dict) else {}
    reader = _READERS.get(source.kind, _common)
    if source.kind == "hf_model_config":
        return _model_config(values, saved=source.where.endswith("config.json") and not has_adapter_file)
    return [s for s in reader(values) if s.value is not None]


def _common(values: dict[str, Any]) -> list[Statement]:
    """Common names, and a Hugging Face model config or PEFT config merged in (W&B and MLflow of the Trainer)."""
    found = [s for fact, keys in ALIASES.items() for s in _first(values, fact, keys)]
    if any(k in values for k in _HF_MODEL_KEYS):
        found = [s for s in found if s.field != "_name_or_path"] + _model_config(values, saved=False)
    return found


def _first(values: dict[str, Any], fact: str, keys: tuple[str, ...]) -> Iterator[Statement]:
    """The first of `keys` whose value is a valid statement of `fact`."""
    for key in keys:
        value = _value(fact, values.get(key))
        if value is not None:
            yield Statement(fact, value, key)
            return


def _value(fact: str, raw: Any) -> Any:
    if fact in ("base_model", "scheduler"):
        text = name(raw)
        return text.lower() if text and fact == "scheduler" else text
    if fact == "dataset":
        found = names(raw)
        return ",".join(found) if found else None
    if fact == "started":
        seconds = number(raw)
        return seconds if seconds and 1e8 < seconds < 4e9 else None
    value = number(raw)
    if value is None or value < 0 or (value == 0 and fact not in ("warmup_steps", "warmup_ratio", "seed")):
        return None
    if fact in ("learning_rate", "warmup_ratio"):
        return value if fact == "learning_rate" or value < 1 else None
    return tidy(value)


def _training_args(values: dict[str, Any]) -> list[Statement]:
    """The Trainer's TrainingArguments (also LLaMA-Factory's, which extend them): max_steps -1 means epochs decide;
    a warmup_steps below 1 is a ratio (transformers 5); the batch size is per device."""
    found = _common(values)
    steps = number(values.get("max_steps"))
    if steps is not None and steps > 0:
        found = [s for s in found if s.fact != "epochs"]  # ignored by the Trainer when max_steps is set
    warmup = number(values.get("warmup_steps"))
    if warmup is not None and 0 < warmup < 1:
        found = [s for s in found if s.fact != "warmup_steps"] + [Statement("warmup_ratio", warmup, "warmup_steps")]
    found.extend(_llamafactory_adapter(values))
    return found


def _llamafactory_adapter(values: dict[str, Any]) -> list[Statement]:
    kind = name(values.get("finetuning_type"))
    if kind is None:
        return []
    if kind == "full":
        return [Statement("adapter", NONE, "finetuning_type")]
    rank = integer(values.get("lora_rank")) if kind == "lora" else None
    alpha = number(values.get("lora_alpha")) if kind == "lora" else None
    if rank is not None and alpha is None and "lora_alpha" in values:
        alpha = 2.0 * rank  # LLaMA-Factory's default: twice the rank
    return [Statement("adapter", Adapter(kind, rank, alpha), "finetuning_type")]


def _trainer_state(values: dict[str, Any]) -> list[Statement]:
    """trainer_state.json: the planned epochs and steps the Trainer computed, the batch size per device."""
    found = []
    for fact, key in (
        ("epochs", "num_train_epochs"),
        ("max_steps", "max_steps"),
        ("per_device_batch_size", "train_batch_size"),
    ):
        value = _value(fact, values.get(key))
        if value is not None:
            found.append(Statement(fact, value, key))
    return found


def _model_config(values: dict[str, Any], *, saved: bool) -> list[Statement]:
    """A model's config: the base it was loaded from (`_name_or_path`, empty when built from a config), its
    architecture; a full model saved in the output folder (`saved`) means a full fine-tune."""
    found = []
    base = name(values.get("_name_or_path"))
    if base:
        found.append(Statement("base_model", base, "_name_or_path"))
    family = name(values.get("model_type"))  # in every config; `architectures` only once saved
    architectures = names(values.get("architectures"))
    if family:
        found.append(Statement("architecture", family, "model_type"))
    elif architectures:
        found.append(Statement("architecture", architectures[0], "architectures"))
    peft = values.get("peft_config")
    if isinstance(peft, dict):
        found.extend(_peft(next((v for v in peft.values() if isinstance(v, dict)), {}), prefix="peft_config."))
    elif saved:
        found.append(Statement("adapter", NONE, "a full model saved, no adapter_config.json"))
    return found


def _peft(values: dict[str, Any], prefix: str = "") -> list[Statement]:
    """A PEFT adapter config: its kind, LoRA's rank and alpha, the base model."""
    found = []
    kind = name(values.get("peft_type"))
    if kind:
        lora = kind.lower() == "lora"
        rank = integer(values.get("r")) if lora else None
        alpha = number(values.get("lora_alpha")) if lora else None
        found.append(Statement("adapter", Adapter(kind.lower(), rank, alpha), prefix + "peft_type"))
    base = name(values.get("base_model_name_or_path"))
    if base:
        found.append(Statement("base_model", base, prefix + "base_model_name_or_path"))
    return found


def _model_card(values: dict[str, Any]) -> list[Statement]:
    """A model card: `base_model` and `datasets` in its front matter, and the Trainer's "Training hyperparameters"
    list (`hyperparameters`): per device and total batch sizes, devices, warmup steps or ratio, epochs or steps."""
    found = list(_first(values, "base_model", ("base_model",)))
    base = values.get("base_model")
    if isinstance(base, list) and base:
        found = list(_first({"base_model": base[0]}, "base_model", ("base_model",)))
    found.extend(_first(values, "dataset", ("datasets",)))
    listed = values.get("hyperparameters")
    if isinstance(listed, dict):
        for fact, key in (
            ("learning_rate", "learning_rate"),
            ("per_device_batch_size", "train_batch_size"),
            ("total_batch_size", "total_train_batch_size"),
            ("devices", "num_devices"),
            ("accumulation", "gradient_accumulation_steps"),
            ("seed", "seed"),
            ("scheduler", "lr_scheduler_type"),
            ("warmup_ratio", "lr_scheduler_warmup_ratio"),
            ("epochs", "num_epochs"),
            ("max_steps", "training_steps"),
        ):
            found.extend(_first(listed, fact, (key,)))
        steps = number(listed.get("lr_scheduler_warmup_steps"))
        if steps is not None and 0 < steps < 1:
            found.append(Statement("warmup_ratio", steps, "lr_scheduler_warmup_steps"))
        else:
            found.extend(_first(listed, "warmup_steps", ("lr_scheduler_warmup_steps",)))
    return [Statement(s.fact, s.value, _card_field(s.field, values)) for s in found]


def _card_field(key: str, values: dict[str, Any]) -> str:
    listed = values.get("hyperparameters")
    return f"Training hyperparameters: {key}" if isinstance(listed, dict) and key in listed else key


def _llamaboard(values: dict[str, Any]) -> list[Statement]:
    """LLaMA-Factory's web UI state: `top.*` and `train.*` fields, numbers often as strings. `top.model_name` is
    a name in LLaMA-Factory's own list, not the model's path: not read as the model."""
    plain = {key.split(".", 1)[1]: v for key, v in values.items() if isinstance(key, str) and "." in key}
    plain.pop("model_name", None)
    if "batch_size" in plain:
        plain["per_device_train_batch_size"] = plain.pop("batch_size")
    return _training_args(plain)


def _wandb(values: dict[str, Any]) -> list[Statement]:
    """A W&B config (from the `.wandb` log, or `config.yaml` with its `{value: ...}` wrappers): the Trainer's
    arguments and model config merged, or a script's own names; `_wandb.start_time` when the file has it."""
    plain = {k: _unwrap(v) for k, v in values.items()}
    found = _training_args(plain) if _looks_like_training_args(plain) else _common(plain)
    if any(k in plain for k in _HF_MODEL_KEYS) and "peft_config" not in plain:  # the Trainer adds it for PEFT
        found.append(Statement("adapter", NONE, "a model config without peft_config"))
    meta = plain.get("_wandb")
    if isinstance(meta, dict):
        found.extend(_first(meta, "started", ("start_time",)))
    return found


def _mlflow(values: dict[str, Any]) -> list[Statement]:
    """MLflow params: every value is text (`str()` of it), read back first; the Trainer's are its arguments and
    the model config merged (no PEFT config)."""
    plain = {k: from_text(v) for k, v in values.items()}
    if _looks_like_training_args(plain):
        return [s for s in _training_args(plain) if s.fact != "adapter"]
    return _common(plain)


def _looks_like_training_args(values: dict[str, Any]) -> bool:
    return "per_device_train_batch_size" in values and "lr_scheduler_type" in values


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
        return value["value"]
    return value


def _results(values: dict[str, Any]) -> list[Statement]:
    """all_results.json / train_results.json: the examples trained on (run_clm and its kin save it)."""
    return list(_first(values, "train_samples", ("train_samples",)))


def _run_times(values: dict[str, Any]) -> list[Statement]:
    return list(_first(values, "started", ("start_time",)))


_READERS: dict[str, Callable[[dict[str, Any]], list[Statement]]] = {
    "hf_training_args": _training_args,
    "llamafactory_args": _training_args,
    "llamaboard_config": _llamaboard,
    "trainer_state": _trainer_state,
    "trainer_log": _trainer_state,
    "peft_adapter": _peft,
    "model_card": _model_card,
    "hf_results": _results,
    "wandb_config": _wandb,
    "wandb_run": _run_times,
    "mlflow_params": _mlflow,
}
