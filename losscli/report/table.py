"""The terminal table: one row per run, the verdict coloured, the curve's shape as a sparkline, and the reason.

The reason is what a person reads, so it is never dropped, and names are never cut. In a pipe every column is
on one line per run, whole. On a terminal, the table takes the first layout that fits the width:

1. every column on one line per run;
2. every column, the reason wrapped inside its own column (at least `REASON_MIN` wide);
3. the columns that fit, by importance (`PRIORITY`), with the reason (and the eval finding, when its column is
   left out) on lines of their own under the row, and a last line that names the columns left out and how to
   see them. A run name longer than its column wraps after a `/`.

Configuration keys asked for (`columns`, the `--columns` option) come after the format, before the other columns
in priority; `epochs` is shown as `planned epochs` beside the epochs the log covers.

Colour and the rule under the header only on a terminal (rich decides from the console, and honours NO_COLOR);
user text is never read as markup and shows undecodable bytes as escapes (`report.printable`). A console whose
encoding cannot print the block characters gets an ASCII sparkline and rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from losscli.analysis.result import RunResult
from losscli.curves import ASCII_BLOCKS, BLOCKS, sparkline
from losscli.frame import TRAIN_LOSS
from losscli.report.printable import printable
from losscli.report.records import largest_drop, most_severe
from losscli.verdicts import ERROR, INCONCLUSIVE, SMOOTH, STEPPED, VERDICTS

VERDICT_STYLE = {STEPPED: "bold red", SMOOTH: "green", INCONCLUSIVE: "yellow", ERROR: "bold magenta"}
COLUMNS = (
    "run",
    "format",
    "epochs",
    "points",
    "verdict",
    "score",
    "max drop",
    "eval",
    "findings",
    "cause",
    "lr schedule",
    "train loss",
    "reason",
)
RIGHT = frozenset({"epochs", "points", "score", "max drop"})
MIN_WIDTH = {"verdict": 12, "train loss": 16}
# after run and verdict, in this order while they fit
PRIORITY = ("score", "max drop", "train loss", "findings", "epochs", "eval", "cause", "lr schedule", "points", "format")
OPTIONAL = frozenset({"findings", "cause", "lr schedule"})  # columns shown only when a run has something in them
BELOW = ("eval", "findings", "cause", "reason")  # shown on lines of their own when their column is left out
REASON_MIN = 40
_NUMERIC_CONFIG = frozenset({"learning_rate", "warmup", "planned epochs", "max_steps", "batch_size", "seed"})
SPARK_CELLS = 16
GAP = "  "


@dataclass(frozen=True)
class _Layout:
    """Which columns fit on the terminal, how wide, and which go on lines of their own."""

    columns: tuple[str, ...]  # shown in the row, in COLUMNS order
    widths: dict[str, int]
    below: tuple[str, ...] = ()  # shown on lines of their own under the row: the reason, eval, findings, cause


def render_table(
    results: Sequence[RunResult], *, console: Console, show_reason: bool = True, columns: Sequence[str] = ()
) -> None:
    """The table of `results`, sorted by run name, printed on `console`, with the configuration keys `columns`."""
    ascii_only = not _can_print(console, BLOCKS + "─")
    ordered = sorted(results, key=lambda r: r.run)
    extra = {config_header(key): key for key in columns}
    rows = [_cells(result, ascii_only) | _config_cells(result, extra) for result in ordered]
    # the columns of what only some runs have are shown when a run has it: a table of clean runs stays as narrow
    base = tuple(
        c
        for c in COLUMNS
        if (show_reason or c != "reason") and (c not in OPTIONAL or any(row[c].plain for row in rows))
    )
    wanted = (*base[:2], *extra, *base[2:])
    natural = {c: max([len(c), MIN_WIDTH.get(c, 0), *(row[c].cell_len for row in rows)]) for c in wanted}
    layout = _layout(wanted, natural, console.width if console.is_terminal else None, asked=tuple(extra))
    ruled = console.is_terminal and not console.no_color
    lines: list[Text] = [_line([Text(c, style="bold") for c in layout.columns], layout)]
    if ruled:
        width = sum(layout.widths[c] for c in layout.columns) + len(GAP) * (len(layout.columns) - 1)
        lines.append(Text(("-" if ascii_only else "─") * width))
    for row in rows:
        lines.extend(_row_lines(row, layout, console))
    left_out = [c for c in wanted if c not in layout.columns and c not in BELOW]
    if left_out:
        note = Text(f"(left out at this width: {', '.join(left_out)}; a wider terminal or --format csv shows them)")
        lines.extend(note.wrap(console, console.width, overflow="fold"))
    for line in lines:
        line.rstrip()
        console.print(line, overflow="ignore", no_wrap=True, crop=False, soft_wrap=True)


def _layout(
    wanted: tuple[str, ...], natural: dict[str, int], width: int | None, asked: tuple[str, ...] = ()
) -> _Layout:
    gaps = len(GAP) * (len(wanted) - 1)
    if width is None or sum(natural.values()) + gaps <= width:
        return _Layout(wanted, natural)
    if "reason" in wanted:
        rest = sum(natural[c] for c in wanted if c != "reason") + gaps
        if width - rest >= REASON_MIN:
            return _Layout(wanted, {**natural, "reason": width - rest})
    # narrow: run and verdict always, then the others by priority while they fit; whole names when they leave
    # room for the first three (score, largest drop, sparkline), else names wrap in a third of the width
    widths = {c: natural[c] for c in wanted if c != "reason"}
    chosen = ["run", "verdict"]
    budget = width - len(GAP)
    first = sum(widths[c] + len(GAP) for c in PRIORITY[:3] if c in widths)
    whole = widths["run"] + widths["verdict"] + first <= budget
    room = budget - (widths["run"] if whole else min(widths["run"], max(12, budget // 3))) - widths["verdict"]
    for column in (*asked, *PRIORITY):  # the columns asked for first
        if column in widths and widths[column] + len(GAP) <= room:
            chosen.append(column)
            room -= widths[column] + len(GAP)
    columns = tuple(c for c in wanted if c in chosen)
    others = sum(widths[c] for c in columns if c != "run") + len(GAP) * (len(columns) - 1)
    widths["run"] = max(8, min(widths["run"], width - others))
    return _Layout(columns, widths, below=tuple(c for c in BELOW if c in wanted and c not in columns))


def _row_lines(row: dict[str, Text], layout: _Layout, console: Console) -> list[Text]:
    cells = {c: _wrap(row[c], layout.widths[c], c, console) for c in layout.columns}
    height = max(len(lines) for lines in cells.values())
    lines = [
        _line([cells[c][i] if i < len(cells[c]) else Text("") for c in layout.columns], layout) for i in range(height)
    ]
    indent = "  "
    for column in layout.below:
        text = row[column] if column == "reason" else Text(f"{column}: ") + row[column]
        if row[column].plain:
            parts = text.wrap(console, max(20, console.width - len(indent)), overflow="fold")
            lines.extend(Text(indent) + part for part in parts)
    return lines


def _wrap(cell: Text, width: int, column: str, console: Console) -> list[Text]:
    if cell.cell_len <= width:
        return [cell]
    if column == "run":
        return [Text(part) for part in _break_name(cell.plain, width)]
    return list(cell.wrap(console, width, overflow="fold"))


def _break_name(name: str, width: int) -> list[str]:
    """A long name on several lines, broken after a `/` where it can be (else wherever it must)."""
    parts: list[str] = []
    for piece in name.replace("/", "/\0").split("\0"):
        while len(piece) > width:
            parts.append(piece[:width])
            piece = piece[width:]
        parts.append(piece)
    lines = [""]
    for piece in parts:
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return lines


def config_header(key: str) -> str:
    """A configuration key's column header (`epochs` is the plan, beside the epochs the log covers)."""
    return f"planned {key}" if key in COLUMNS else key


def _config_cells(result: RunResult, extra: dict[str, str]) -> dict[str, Text]:
    config = result.config
    return {header: Text(config_text(config.get(key) if config else None)) for header, key in extra.items()}


def config_text(value: object) -> str:
    """A configuration value in a table cell: empty when unknown, numbers short."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return printable(str(value))


def _line(cells: list[Text], layout: _Layout) -> Text:
    out = Text()
    for i, (column, cell) in enumerate(zip(layout.columns, cells)):
        if i:
            out.append(GAP)
        pad = " " * max(0, layout.widths[column] - cell.cell_len)
        if column in RIGHT or column in _NUMERIC_CONFIG:
            out.append(pad)
            out.append_text(cell)
        else:
            out.append_text(cell)
            out.append(pad)
    return out


def _cells(result: RunResult, ascii_only: bool) -> dict[str, Text]:
    a = result.analysis
    drop = largest_drop(result)
    train = result.curves.get(TRAIN_LOSS, {}).get("value", [])
    blocks = ASCII_BLOCKS if ascii_only else BLOCKS
    return {
        "run": Text(printable(result.run)),
        "format": Text(result.format),
        "epochs": Text("" if not a or a.epochs is None else f"{a.epochs:.2f}".rstrip("0").rstrip(".")),
        "points": Text("" if not a else str(a.points)),
        "verdict": Text(result.verdict, style=VERDICT_STYLE.get(result.verdict, "")),
        "score": Text("" if not a else f"{a.score:.2f}"),
        "max drop": Text("" if drop is None else f"{drop:.3g}"),
        "eval": Text(eval_cell(result)),
        "findings": Text(findings_cell(result)),
        "cause": Text(cause_cell(result)),
        "lr schedule": Text(schedule_cell(result)),
        "train loss": Text(sparkline(train, SPARK_CELLS, blocks=blocks), style="cyan"),
        "reason": Text(printable(a.reason if a else (result.error or ""))),
    }


def _can_print(console: Console, text: str) -> bool:
    try:
        text.encode(console.encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def summary_line(verdicts: Iterable[RunResult | str] | Counter[str]) -> str:
    """`3 runs: 1 stepped, 1 smooth, 1 error`, from the results, their verdicts, or a Counter of verdicts."""
    if isinstance(verdicts, Counter):
        counts = verdicts
    else:
        counts = Counter(v if isinstance(v, str) else v.verdict for v in verdicts)
    total = sum(counts.values())
    parts = [f"{counts[v]} {v}" for v in VERDICTS if counts[v]]
    noun = "run" if total == 1 else "runs"
    return f"{total} {noun}: " + (", ".join(parts) if parts else "none")


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


def findings_cell(result: RunResult) -> str:
    """The most severe finding's kind and how many others: `nan +2`."""
    a = result.analysis
    return most_severe([{"kind": f.kind} for f in a.findings]) if a else ""


def cause_cell(result: RunResult) -> str:
    """The first cause of a staircase and how many others: `memorization +1`."""
    a = result.analysis
    if not a or not a.causes:
        return ""
    return a.causes[0].kind + (f" +{len(a.causes) - 1}" if len(a.causes) > 1 else "")


def schedule_cell(result: RunResult) -> str:
    """The learning-rate schedule in a few words: `cosine, warm-up 10`, `restarts x4`."""
    s = result.analysis.lr_schedule if result.analysis else None
    if s is None:
        return ""
    text = f"restarts x{len(s.restarts)}" if s.restarts else s.kind
    return text + (f", warm-up {s.warmup_steps:g}" if s.warmup_steps else "")


def shorten(name: str, width: int) -> str:
    """Keep the start and the end of a long path, where runs differ (for the HTML report's small cards, whose
    tooltip has the whole name; the table never cuts a name)."""
    if len(name) <= width:
        return name
    keep = width - 1
    return name[: keep // 3] + "…" + name[-(keep - keep // 3) :]
