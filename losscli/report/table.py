"""The terminal table: one row per run, the verdict coloured, the curve's shape as a sparkline.

Colour and box drawing only on a terminal (rich decides from the console it is given, and honours NO_COLOR);
user text (run names, reasons) is never read as markup.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from losscli.analysis.result import RunResult
from losscli.curves import sparkline
from losscli.frame import TRAIN_LOSS
from losscli.report.records import largest_drop
from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED, VERDICTS

VERDICT_STYLE = {STEPPED: "bold red", SMOOTH: "green", INCONCLUSIVE: "yellow", ERROR: "bold magenta"}
_COLUMNS: dict[str, dict[str, Any]] = {  # name: rich column options
    "format": {"no_wrap": True},
    "epochs": {"justify": "right", "no_wrap": True},
    "points": {"justify": "right", "no_wrap": True},
    "verdict": {"no_wrap": True, "min_width": 12},
    "score": {"justify": "right", "no_wrap": True},
    "max drop": {"justify": "right", "no_wrap": True},
    "eval": {"no_wrap": True, "overflow": "ellipsis", "max_width": 26},
    "train loss": {"no_wrap": True, "min_width": 16},
}
_LAYOUTS = (  # widest first; a terminal gets the first that leaves a readable run name
    ("format", "epochs", "points", "verdict", "score", "max drop", "eval", "train loss", "reason"),
    ("format", "epochs", "points", "verdict", "score", "max drop", "eval", "train loss"),
    ("format", "epochs", "points", "verdict", "score", "max drop"),
    ("epochs", "verdict", "score", "max drop"),
)
_REASON_MIN = 40
_RUN_MIN = 24


def render_table(results: Sequence[RunResult], console: Console, show_reason: bool = True) -> None:
    """The table, one row per run sorted by name.

    In a pipe: every column, whole names, no trailing spaces (nothing is cut). On a terminal: the widest set
    of columns that leaves room for the run names, shortened to fit (keeping both ends), so that no row wraps
    or is cut; the reason only on a wide terminal; a rule under the header unless NO_COLOR.
    """
    terminal = console.is_terminal
    ruled = terminal and not console.no_color
    ordered = sorted(results, key=lambda r: r.run)
    cells = [_cells(result) for result in ordered]
    layouts = [c for c in _LAYOUTS if show_reason or "reason" not in c]
    columns, run_width = layouts[0], None
    if terminal:
        for columns in layouts:
            run_width = console.width - _width(columns, cells, gap=3 if ruled else 2)
            if run_width >= _RUN_MIN:
                break
        run_width = max(12, min(48, run_width or 0))
    table = Table(box=_box() if ruled else None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("run", no_wrap=True, overflow="ellipsis", min_width=12 if run_width else None, max_width=run_width)
    for name in columns:
        if name == "reason":
            table.add_column("reason", overflow="fold", min_width=_REASON_MIN, no_wrap=not terminal)
        else:
            table.add_column(name, **_COLUMNS[name])
    for result, row in zip(ordered, cells):
        label = Text(shorten(result.run, run_width) if run_width else result.run)
        table.add_row(label, *(row[c] for c in columns))
    if terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _width(columns: Sequence[str], cells: list[dict[str, Text]], gap: int) -> int:
    """The width the given columns take (the run column aside), with the gaps between all columns."""
    total = gap * len(columns)
    for c in columns:
        if c == "reason":
            total += _REASON_MIN
            continue
        options = _COLUMNS[c]
        natural = max([len(c), int(options.get("min_width", 0)), *(len(row[c].plain) for row in cells)])
        total += min(natural, int(options.get("max_width", natural)))
    return total


def _cells(result: RunResult) -> dict[str, Text]:
    a = result.analysis
    drop = largest_drop(result)
    train = result.curves.get(TRAIN_LOSS, {}).get("value", [])
    return {
        "format": Text(result.format),
        "epochs": Text("" if not a or a.epochs is None else f"{a.epochs:.2f}".rstrip("0").rstrip(".")),
        "points": Text("" if not a else str(a.points)),
        "verdict": Text(result.verdict, style=VERDICT_STYLE.get(result.verdict, "")),
        "score": Text("" if not a else f"{a.score:.2f}"),
        "max drop": Text("" if drop is None else f"{drop:.3g}"),
        "eval": Text(eval_cell(result)),
        "train loss": Text(sparkline(train, 16), style="cyan"),
        "reason": Text(a.reason if a else (result.error or "")),
    }


def summary_line(results: Sequence[RunResult]) -> str:
    counts = Counter(r.verdict for r in results)
    parts = [f"{counts[v]} {v}" for v in VERDICTS if counts[v]]
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
    return name[: keep // 3] + "…" + name[-(keep - keep // 3) :]


def _box():  # type: ignore[no-untyped-def]
    from rich import box

    return box.SIMPLE_HEAD
