"""The log dicts the HF Trainer prints, found in a console line and read without evaluating anything.

At default verbosity the Trainer's ProgressCallback writes `str(logs)` through `tqdm.write`, so a dict sits after
the last carriage return of its physical line, behind a progress bar it erased (`\\r 12%|█▏ | 12/100 [...]\\r   \\r
{'loss': ...}`); an eval dict may start with an ANSI cursor move; under `torchrun --tee` every line starts with
`[default0]:` and a dict may follow a bar on the same line. transformers 5 prints every float as a quoted `.4g`
string (`{'loss': '5.881', 'learning_rate': '0.0002984', 'epoch': '0.05'}`, `'nan'`, `'3.066e+07'`); 4.x printed
raw floats, with bare `nan` and `inf` (which `ast.literal_eval` rejects), and some versions `tensor(1.9)` or
`np.float64(1.9)` for a value.

So a dict is read by a small tokenizer of its own, never `eval`: `'key': value` pairs, where a value is a quoted
string, a number, a bare word (`nan`, `inf`, `None`, `True`), a wrapped number (`tensor(1.9, ...)`), or a nested
list or dict (skipped). A value is a number when its text is one (`float()`), so quoted and bare forms read the
same. Anything else about the line (ANSI codes, bars, rank prefixes) is noise around the dict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
DICT_START = re.compile(r"\{\s*['\"]")
_RANK = re.compile(r"\[(?:default|rank)?(\d+)\]:\s*$")
_KEY = re.compile(r"\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\")\s*:\s*")
_BARE = re.compile(r"[^,}\s]+")
_WRAPPED = re.compile(r"[A-Za-z_][\w.]*\(\s*([^,()\s]+)[^()]*\)")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
MAX_DICT = 1 << 16  # characters: a printed log dict is a few hundred


@dataclass(frozen=True)
class Printed:
    """One dict found in a line: its text position, the rank that printed it ("" when the line has no rank
    prefix), and its values (a number, or None for what is not one)."""

    rank: str
    values: dict[str, float | None]


def find_dicts(line: str) -> tuple[list[Printed], bool]:
    """The dicts a console line holds, and whether one of them is left open at the end of the line."""
    found: list[Printed] = []
    pos = 0
    while True:
        match = DICT_START.search(line, pos)
        if match is None:
            return found, False
        start = match.start()
        parsed = parse_dict(line, start)
        if parsed is None:
            return found, True
        values, end = parsed
        rank = _RANK.search(line, max(0, start - 24), start)
        found.append(Printed(rank.group(1) if rank else "", values))
        pos = end


def parse_dict(text: str, start: int) -> tuple[dict[str, float | None], int] | None:
    """The flat dict opening at `start`, and where it ends; None when the text ends before it closes. A dict
    that is not a flat dict of scalars gives what it held up to where it stops making sense."""
    values: dict[str, float | None] = {}
    pos = start + 1
    limit = min(len(text), start + MAX_DICT)
    while pos < limit:
        key = _KEY.match(text, pos)
        if key is None:
            close = _skip_space(text, pos)
            if close < len(text) and text[close] == "}":
                return values, close + 1
            return (values, pos) if close < len(text) else None
        name = key.group(1) if key.group(1) is not None else key.group(2)
        value, pos = _value(text, key.end())
        if pos < 0:
            return None
        values[name] = value
        pos = _skip_space(text, pos)
        if pos >= len(text):
            return None
        if text[pos] == "}":
            return values, pos + 1
        if text[pos] != ",":
            return values, pos
        pos += 1
    return None if limit == len(text) else (values, limit)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _value(text: str, pos: int) -> tuple[float | None, int]:
    """One value at `pos` and where it ends (-1: the text ends inside it)."""
    if pos >= len(text):
        return None, -1
    first = text[pos]
    if first in "'\"":
        quoted = _QUOTED.match(text, pos)
        if quoted is None:
            return None, -1
        inner = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        return as_number(inner), quoted.end()
    if first in "[{(":
        end = _close(text, pos)
        return None, end
    wrapped = _WRAPPED.match(text, pos)
    if wrapped is not None:
        return as_number(wrapped.group(1)), wrapped.end()
    bare = _BARE.match(text, pos)
    if bare is None:
        return None, pos
    return as_number(bare.group(0)), bare.end()


def _close(text: str, pos: int) -> int:
    """Where the bracket opening at `pos` closes (quotes respected); -1 when the text ends first."""
    depth = 0
    quote = ""
    i = pos
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def as_number(text: str) -> float | None:
    """The number a printed value stands for (`'5.881'`, `5.881`, `nan`, `-inf`); None for anything else."""
    try:
        return float(text.strip())
    except ValueError:
        return None
