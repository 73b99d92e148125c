"""Stated values as the configuration compares and shows them: numbers from any spelling, names tidied, lists of
names read back from their printed form.

Files state the same thing in different spellings: JSON numbers, YAML strings (`5e-5` is a string to YAML 1.1),
MLflow's params, which are `str()` of every value (`'None'`, `"['mlflow']"`, `'3e-4'`), the Trainer's enums
(`SchedulerType.LINEAR` in older cards and params). Nothing here evaluates text: lists are read back only when
they are lists of quoted names.
"""

from __future__ import annotations

import math
import re
from typing import Any

_QUOTED = re.compile(r"""\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*(?:,|$)""")
_NONE = frozenset({"", "none", "null", "nan"})
MAX_TEXT = 1000  # a stated name longer than this is not a name


def number(value: Any) -> float | None:
    """A finite number, from a number or its text; None for anything else (booleans included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str) and len(value) < 64:
        try:
            out = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def integer(value: Any) -> int | None:
    """A whole number (3, 3.0, '3'), else None."""
    out = number(value)
    return int(out) if out is not None and out.is_integer() and abs(out) < 2**53 else None


def tidy(value: float) -> int | float:
    """3.0 as 3; other numbers as they are."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def name(value: Any) -> str | None:
    """A stated name: a string that says something (not empty, not 'None'), without an enum's class prefix."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _NONE or len(text) > MAX_TEXT:
        return None
    if re.fullmatch(r"[A-Z][A-Za-z]*Type\.[A-Z_0-9]+", text):  # SchedulerType.LINEAR: an enum printed
        text = text.split(".", 1)[1].lower()
    return text


def names(value: Any) -> list[str] | None:
    """A list of names: a list, a comma-separated string, or the printed form of a list of strings."""
    if isinstance(value, (list, tuple)):
        found = [n for n in (name(v) for v in value) if n]
        return found or None
    text = name(value)
    if text is None:
        return None
    if text.startswith("[") and text.endswith("]"):
        return printed_list(text)
    found = [part.strip() for part in text.split(",") if part.strip()]
    return found or None


def printed_list(text: str) -> list[str] | None:
    """`['a', "b"]` -> ['a', 'b']; None when the text is not a printed list of plain strings."""
    inner = text.strip()[1:-1].strip()
    if not inner:
        return None
    found: list[str] = []
    pos = 0
    while pos < len(inner):
        match = _QUOTED.match(inner, pos)
        if not match:
            return None
        found.append(match.group(1) if match.group(1) is not None else match.group(2))
        pos = match.end()
    return [f for f in found if f] or None


def from_text(value: Any) -> Any:
    """A value as MLflow stores every param, `str()` of it, read back: None, booleans, numbers, lists of names;
    other text stays text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text in ("None", ""):
        return None
    if text in ("True", "False"):
        return text == "True"
    if number(text) is not None:
        out = number(text)
        assert out is not None
        return tidy(out) if re.fullmatch(r"-?\d+", text) else out
    if text.startswith("[") and text.endswith("]"):
        return printed_list(text) if text != "[]" else []
    return value


def same(value: Any, *, other: Any) -> bool:
    """Whether two stated values say the same: numbers equal to 6 significant digits (float32 logs round),
    anything else equal."""
    x, y = number(value), number(other)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12)
    if hasattr(value, "agrees"):
        return bool(value.agrees(other))
    return bool(value == other)


def shown(value: Any) -> str:
    """A stated value in a message: numbers in their short form, names as they are."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
