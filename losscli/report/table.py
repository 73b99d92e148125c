"""The terminal table: one row per run, the verdict coloured, the curve's shape as a sparkline.

Colour and box drawing only on a terminal (rich decides from the console it is given, and honours NO_COLOR);
user text (run names, reasons) is never read as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from losscli.analysis.result import RunResult
from losscli.curves import sparkline
from losscli.frame import TRAIN_LOSS
from losscli.report.records import largest_drop

VERDICT_STYLE = {"stepped": "bold red", "smooth": "green", "inconclusive": "yellow", "error": "bold magenta"}


def render_table(results: Sequence[RunResult], console: Console, show_reason: bool = True) -> None:
    """The table; the reason column only where it fits (a wide terminal, or a pipe, where nothing is cut)."""
    boxed = console.is_terminal
    show_reason = show_reason and console.width >= 150
    table = Table(box=None if not boxed else _box(), show_edge=boxed, pad_edge=False, header_style="bold")
    narrow = console.width < 110
    table.add_column("run", no_wrap=True, overflow="ellipsis", min_width=12, max_width=48 if boxed else None)
    table.add_column("format", no_wrap=True, min_width=6)
    table.add_column("epochs", justify="right", no_wrap=True, min_width=6)
    table.add_column("points", justify="right", no_wrap=True, min_width=6)
    table.add_column("verdict", no_wrap=True, min_width=12)
    table.add_column("score", justify="right", no_wrap=True, min_width=5)
    table.add_column("max drop", justify="right", no_wrap=True, min_width=8)
    if not narrow:
        table.add_column("eval", no_wrap=True, overflow="ellipsis", max_width=26)
        table.add_column("train loss", no_wrap=True, min_width=16)
    if show_reason:
        table.add_column("reason", overflow="fold", min_width=30)
    for result in sorted(results, key=lambda r: r.run):
        a = result.analysis
        drop = largest_drop(result)
        train = result.curves.get(TRAIN_LOSS, {}).get("value", [])
        row = [
            Text(shorten(result.run, 48) if boxed else result.run),
            Text(result.format),
            Text("" if not a or a.epochs is None else f"{a.epochs:.2f}".rstrip("0").rstrip(".")),
            Text("" if not a else str(a.points)),
            Text(result.verdict, style=VERDICT_STYLE.get(result.verdict, "")),
            Text("" if not a else f"{a.score:.2f}"),
            Text("" if drop is None else f"{drop:.3g}"),
        ]
        if not narrow:
            row += [Text(eval_cell(result)), Text(sparkline(train, 16), style="cyan")]
        if show_reason:
            row.append(Text(a.reason if a else (result.error or "")))
        table.add_row(*row)
    console.print(table)


def summary_line(results: Sequence[RunResult]) -> str:
    counts = Counter(r.verdict for r in results)
    parts = [f"{counts[v]} {v}" for v in ("stepped", "smooth", "inconclusive", "error") if counts[v]]
    noun = "run" if len(results) == 1 else "runs"
    return f"{len(results)} {noun}: " + (", ".join(parts) if parts else "none")


def eval_cell(result: RunResult) -> str:
    """The eval finding in a few words: where the eval loss was lowest, and whether it rises."""
    a = result.analysis
    if not a or not a.eval:
        return ""
    e = a.eval
    where = f"ep {e.best_epoch:g}" if e.best_epoch is not None else f"step {e.best_step}"
    if a.memorization:
        return f"memorizes; best {where}"
    return f"rises; best {where}" if e.rises else f"best {where}"


def shorten(name: str, width: int) -> str:
    """Keep the start and the end of a long path, where runs differ."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: keep // 3] + "…" + name[-(keep - keep // 3):]


def _box():  # type: ignore[no-untyped-def]
    from rich import box

    return box.SIMPLE_HEAD
