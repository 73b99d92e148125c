"""The model card a Trainer writes (`README.md`): its YAML front matter and its "Training hyperparameters" list.

`Trainer.create_model_card` writes front matter with `base_model` (when the model was loaded from one) and
`datasets`, then, under `### Training hyperparameters`, one `- name: value` line per hyperparameter (learning
rate, per-device and total batch sizes, devices, seed, scheduler, warmup, epochs or steps). PEFT rewrites the front
matter of the output folder's card and writes its own template card into checkpoints (front matter only). A
README.md with neither is not a model card and states nothing.
"""

from __future__ import annotations

import re
from typing import Any

_HEADING = re.compile(r"^#{2,4}\s+Training hyperparameters\s*$", re.MULTILINE)
_ITEM = re.compile(r"^-\s+([A-Za-z_][\w ]*?):\s*(.*?)\s*$")


def split_card(text: str) -> tuple[str | None, dict[str, str]]:
    """The front matter's YAML text (None when the card has none) and the hyperparameters list as written."""
    front = None
    if text.startswith("---"):
        end = re.search(r"^---\s*$", text[3:], re.MULTILINE)
        if end:
            front = text[3 : 3 + end.start()]
    listed: dict[str, str] = {}
    heading = _HEADING.search(text)
    if heading:
        for line in text[heading.end() :].splitlines():
            if line.startswith("#"):
                break
            match = _ITEM.match(line.strip())
            if match:
                listed.setdefault(match.group(1).strip(), match.group(2))
    return front, listed


def card_values(front: Any, *, listed: dict[str, str]) -> dict[str, Any] | None:
    """The card's values: the front matter's keys, and the list under `hyperparameters` (numbers read as numbers);
    None when the card states nothing."""
    values: dict[str, Any] = dict(front) if isinstance(front, dict) else {}
    if listed:
        values["hyperparameters"] = {key: _number_or_text(text) for key, text in listed.items()}
    return values or None


def _number_or_text(text: str) -> Any:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", text) else number
