"""The analyzer's shape, checked: every threshold in `Settings` and in the method's documentation, keyword-only
library functions, and the three steps (measure, decide, explain) each doing only its own job."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from conftest import ROOT

import losscli.analysis
from losscli.analysis import Settings

PACKAGE = ROOT / "losscli" / "analysis"
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
NOT_A_DECISION = re.compile(r"#.*\b(numerical|safety|a definition)\b")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_decision_constant_outside_settings(path: Path) -> None:
    """A module-level number outside settings.py must say why it is not a decision (numerical safety or a
    definition); every threshold that can change a verdict is a `Settings` field."""
    if path.name == "settings.py":
        return
    lines = path.read_text().splitlines()
    offenders = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, (int, float)) and not isinstance(node.value.value, bool):
                if not NOT_A_DECISION.search(lines[node.lineno - 1]):
                    offenders.append(lines[node.lineno - 1].strip())
    assert offenders == []


def test_every_setting_is_explained_and_documented() -> None:
    source = (PACKAGE / "settings.py").read_text().splitlines()
    method = (ROOT / "docs" / "method.md").read_text()
    for field in dataclasses.fields(Settings):
        [line] = [i for i, text in enumerate(source) if re.match(rf"\s+{field.name}: ", text)]
        above = line - 1
        while re.match(r"\s+\w+: [^#]*$", source[above]):  # fields that share the comment block above them
            above -= 1
        commented = "#" in source[line] or source[above].strip().startswith("#")
        assert commented, f"Settings.{field.name} has no comment"
        assert f"`{field.name}`" in method, f"docs/method.md does not mention Settings.{field.name}"


def _public_functions() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(losscli.analysis.__path__):
        module = importlib.import_module(f"losscli.analysis.{info.name}")
        for name, value in vars(module).items():
            if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__:
                found.append((f"{info.name}.{name}", value))
    return found


@pytest.mark.parametrize("name, function", _public_functions(), ids=lambda v: v if isinstance(v, str) else "")
def test_library_functions_are_keyword_only_past_the_first_argument(name: str, function: object) -> None:
    parameters = list(inspect.signature(function).parameters.values())  # type: ignore[arg-type]
    positional = [p.name for p in parameters[1:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # data arrays that go together come first: (x, y), (design, y), (steps, values, epochs), each side's (u, y)
    data = {"y", "values", "epochs", "y_before", "u_after", "y_after"}
    assert [p for p in positional if p not in data] == []


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_analyze_is_measure_then_decide_then_explain() -> None:
    assert _imports("classify") >= {"losscli.analysis.measure", "losscli.analysis.decide", "losscli.analysis.explain"}
    fitting = {"losscli.analysis.fits", "losscli.analysis.epoch_levels", "losscli.analysis.infer", "numpy"}
    assert _imports("decide") & fitting == set(), "decide.py decides; it does not fit"
    assert _imports("explain") & (fitting | {"losscli.analysis.evidence"}) == set(), "explain.py only words"
    assert _imports("measure") & {"losscli.analysis.decide", "losscli.analysis.explain"} == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_verdict_names_come_from_one_place(path: Path) -> None:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in ("stepped", "smooth", "inconclusive", "error")
        if id(node) not in docstrings
    ]
    assert literals == []
