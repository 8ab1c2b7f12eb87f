"""The tree shows the architecture: few loose modules, no import cycles, SQL in two layers only.

The layers themselves (cli over http over privacy over ingest | analytics over store) are
import-linter's contract in pyproject.toml, which scripts/test runs as `lint-imports`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

PACKAGE = Path(__file__).parent.parent / "tracklog"
# Statements, not words: a docstring may say "select" and a message "update".
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bALTER\s+TABLE\b"
    r"|\bCREATE\s+(TABLE|VIEW|DATABASE)\b|\bWHERE\b"
)
SQL_LAYERS = ("store", "analytics")


def test_at_most_twelve_modules_stay_loose() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= 12, loose


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), function-level imports
    included: grimp reads every import statement of a module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = grimp.build_graph("tracklog")
    assert len(graph.modules) > 40
    assert _cycles(graph) == []


def _strings(tree: ast.Module) -> list[tuple[int, str]]:
    """The string constants of a module, f-strings joined, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    parts = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | parts
        ):
            found.append((node.lineno, node.value))
    return found


def test_sql_is_written_only_in_the_store_and_analytics_layers() -> None:
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in SQL_LAYERS:
            continue
        for line, text in _strings(ast.parse(path.read_text())):
            if SQL.search(text):
                outside.append(f"{relative}:{line}: {text[:60]!r}")
    assert outside == []


def test_the_sql_check_sees_sql() -> None:
    module = ast.parse(
        'def f(t):\n    """Select from a WHERE."""\n    return f"SELECT id FROM {t}"\n'
    )
    assert [text for _, text in _strings(module) if SQL.search(text)] == ["SELECT id FROM {}"]
