"""The shape of the code: no import cycles anywhere in `losscli/`, the readers' modules small, and a walk that loads
only the readers of the formats it meets.

Imports are read from the source (every `import` statement, also those inside functions, which is where the heavy
ones are), so a cycle that only closes at run time is found too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "losscli"
READERS = ("parsers", "restarts.py", "metric_names.py", "frame.py", "log_checks.py")
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the `losscli` modules it imports (a `from package import name` counts as the module `name` when
    it is one, else as the package)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("losscli"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("losscli"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    # lazy (inside a function) in the one, top level in the other: both are edges
    assert "losscli.parsers.tensorboard.decode" in graph["losscli.parsers.tensorboard.reader"]
    assert "losscli.parsers.tensorboard.columns" in graph["losscli.parsers.tensorboard.decode"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_anywhere_in_losscli() -> None:
    assert cycles(import_graph()) == []


def test_reader_modules_are_small() -> None:
    paths = [p for entry in READERS for p in ([PACKAGE / entry] if entry.endswith(".py") else [])]
    paths += sorted((PACKAGE / "parsers").rglob("*.py"))
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in paths
        if p.exists() and (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_one_protobuf_wire_reader() -> None:
    """Only `protobuf_wire` walks protobuf varints by hand; the binary readers use it."""
    walkers = [
        p.relative_to(PACKAGE).as_posix()
        for p in (PACKAGE / "parsers").rglob("*.py")
        if "& 0x7F) << shift" in p.read_text()
    ]
    assert walkers == ["parsers/protobuf_wire.py"]


def test_reading_one_format_loads_no_other_formats_reader() -> None:
    """Every format is offered each folder of a walk, so each format module is imported; their readers are not
    (`losscli.parsers`): a first read in a fresh process pays for the reader it uses only."""
    event_run = PACKAGE.parent / "sample_logs" / "findings" / "eval-leak" / "runs" / "eval-leak"
    others = [
        "losscli.parsers.trainer_logs",
        "losscli.parsers.console_lines",
        "losscli.parsers.console_steps",
        "losscli.parsers.wandb.run_records",
        "losscli.parsers.wandb.transaction_log",
        "losscli.parsers.mlflow.run_data",
        "losscli.parsers.csv_columns",
        "losscli.parsers.partial_json",
    ]
    script = (
        "import sys, losscli\n"
        f"runs = losscli.load({str(event_run)!r})\n"
        "assert runs and runs[0].format == 'tensorboard', runs\n"
        f"print(sorted(m for m in {others!r} if m in sys.modules))\n"
        "print('losscli.parsers.tensorboard.decode' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    loaded, used = out.stdout.split("\n")[:2]
    assert used == "True"  # the reader of the format met was loaded
    assert loaded == "[]"
