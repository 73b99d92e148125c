"""The tally for people and for scripts: one row per group of trainings, or per value of each ranked key.

Records (`group_records`, `split_records`) are flat, so that JSON Lines, JSON and CSV share them. The terminal
tables are plain aligned columns; a value nobody stated is shown as `(unknown)`, a share over no stepped or smooth
training as `-`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from losscli.report.printable import printable
from losscli.tally import Counts, Group, Split
from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED

COUNT_COLUMNS = ("runs", STEPPED, SMOOTH, INCONCLUSIVE, ERROR, "share stepped")
UNKNOWN_VALUE = "(unknown)"


def group_records(groups: Sequence[Group], *, by: Sequence[str]) -> list[dict[str, Any]]:
    """One record per group: its value of each key, then the counts."""
    return [{**dict(zip(by, g.values)), **g.counts.to_dict()} for g in groups]


def split_records(found: Sequence[Split]) -> list[dict[str, Any]]:
    """One record per key and value, keys in rank order: the key's separation, then the value's counts."""
    return [
        {
            "key": split.key,
            "value": g.values[0],
            "rank": rank,
            "separated": split.separated,
            "conclusive": split.conclusive,
            "p": None if split.p is None else round(split.p, 4),
            "exact": split.exact,
            **g.counts.to_dict(),
        }
        for rank, split in enumerate(found, 1)
        for g in split.groups
    ]


def shown_value(value: Any) -> str:
    if value is None:
        return UNKNOWN_VALUE
    if isinstance(value, float):
        return f"{value:g}"
    return printable(str(value))


def _cells(counts: Counts) -> list[str]:
    share = counts.share_stepped
    numbers = [counts.trainings, counts.stepped, counts.smooth, counts.inconclusive, counts.error]
    return [str(n) for n in numbers] + ["-" if share is None else f"{share:.0%}"]


def _table(headers: Sequence[str], rows: list[list[str]], *, left: int, console: Console, indent: str = "") -> None:
    """Aligned columns: the first `left` ones to the left, the counts to the right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str], style: str = "") -> Text:
        parts = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return Text(indent + "  ".join(parts).rstrip(), style=style)

    console.print(line(headers, "bold"), soft_wrap=True)
    for row in rows:
        console.print(line(row), soft_wrap=True, markup=False)


def render_groups(groups: Sequence[Group], *, by: Sequence[str], console: Console) -> None:
    rows = [[shown_value(v) for v in g.values] + _cells(g.counts) for g in groups]
    _table([*by, *COUNT_COLUMNS], rows, left=len(by), console=console)


def render_splits(found: Sequence[Split], *, console: Console) -> None:
    """Each key in rank order: how well it separates, then how the verdicts split across its values."""
    if not found:
        console.print("No key takes two known values: nothing to compare.", markup=False)
        return
    for rank, split in enumerate(found, 1):
        if rank > 1:
            console.print("")
        console.print(Text(f"{rank}. {split.key}: {separation_text(split)}", style="bold"), soft_wrap=True)
        rows = [[shown_value(g.values[0])] + _cells(g.counts) for g in split.groups]
        _table(["value", *COUNT_COLUMNS], rows, left=1, console=console, indent="   ")


def separation_text(split: Split) -> str:
    """`tells 5 of 5 stepped or smooth runs apart; p = 0.40 (every way counted)`."""
    if split.p is None:
        return f"{split.conclusive} stepped or smooth run(s): too few to compare"
    how = "every way counted" if split.exact else "estimated from random shuffles"
    return f"tells {split.separated} of {split.conclusive} stepped or smooth runs apart; p = {split.p:.2f} ({how})"
