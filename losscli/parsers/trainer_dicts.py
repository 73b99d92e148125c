"""The Hugging Face Trainer's log dicts, turned into points one way for every reader that meets them.

`Trainer.log` records one dict per log call: a train dict (`loss`, `grad_norm`, `learning_rate`, `epoch`), an
eval dict (`eval_loss`, `eval_runtime`, ..., `epoch`) and, once at the end, a summary (`train_runtime`,
`train_samples_per_second`, `train_steps_per_second`, `total_flos`, `train_loss`). The same dicts end up in
`trainer_state.json`'s `log_history`, in the console (printed), in LLaMA-Factory's `trainer_log.jsonl` and in
ms-swift's `logging.jsonl` (with their own extras), so each of those readers converts them here, and one run
read from any of them gives the same frame: train keys become `train/<key>`, eval keys `eval/<key>`, the epoch
is each point's epoch and also the `train/epoch` metric (taken from train dicts only, since an eval at the same
step repeats it), and the summary is not a curve but the run's `meta["summary"]`.
"""

from __future__ import annotations

import math
from typing import Any

from losscli.frame import EPOCH, EVAL_LOSS
from losscli.parsers.records import Record, name_records, number

SUMMARY_KEYS = frozenset(
    {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
)


def is_summary(entry: dict[str, Any]) -> bool:
    """The closing summary dict (the run's totals, not a point of any curve)."""
    return bool(SUMMARY_KEYS & entry.keys()) and "loss" not in entry


def entry_records(entry: dict[str, Any], step: int, records: list[Record], *, wall_time: float = math.nan) -> int:
    """Append one log dict's scalars at `step`; return 1 if the dict had a value of the wrong type (0 else).

    Keys `step` and `epoch` are not metrics of their own; text, lists and dicts are not points."""
    epoch = number(entry.get("epoch"))
    epoch_value = epoch if epoch is not None else math.nan
    is_eval = any(k.startswith("eval_") for k in entry)
    bad = 0
    for key, raw in entry.items():
        if key in ("step", "epoch"):
            continue
        value = number(raw)
        if value is None:
            bad = 1 if raw is not None and not isinstance(raw, (dict, list, str)) else bad
            continue
        records.append((trainer_name(key), key, step, epoch_value, value, wall_time))
    if epoch is not None and not is_eval:
        records.append((EPOCH, "epoch", step, epoch_value, epoch, wall_time))
    return bad


def trainer_name(key: str) -> str:
    """The name the Trainer's `log_history` key gets (as the Trainer names it for TensorBoard and W&B): `eval_x`
    is `eval/x`, a key with a `/` stays, any other is `train/<key>`."""
    if key.startswith("eval_"):
        return "eval/" + key[len("eval_") :]
    return key if "/" in key else "train/" + key


def name_trainer_records(records: list[Record]) -> tuple[list[Record], list[str]]:
    """Records with their metric decided by the one naming rule, and `eval_loss_named`."""
    named, notes = name_records(records)
    metrics = list(dict.fromkeys(r[0] for r in named))
    renamed = dict(zip(metrics, eval_loss_named(metrics)))
    if any(renamed[m] != m for m in metrics):
        named = [(renamed[r[0]], *r[1:]) for r in named]
    return named, notes


def eval_loss_named(metrics: list[str]) -> list[str]:
    """With named eval sets the Trainer logs `eval_<name>_loss`; if there is exactly one such loss and no
    `eval/loss`, it is the eval loss."""
    if EVAL_LOSS in metrics:
        return metrics
    losses = {m for m in metrics if m.startswith("eval/") and m.endswith("_loss")}
    if len(losses) != 1:
        return metrics
    only = losses.pop()
    return [EVAL_LOSS if m == only else m for m in metrics]
