"""The product's code keeps a shape a reader can hold: small files, small functions, thin triggers.

Product files are function_app.py, functions/ and shared/ (not the tests, local/ or bench/). Each limit is a
ceiling, not a target; a file or function that needs more is a sign that it does two things. Lines are counted
as the source has them (docstrings and comments included: they are read too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 50
MAX_TRIGGER_LINES = 20
# Decorators that make a function a trigger: FastAPI routes and the Functions Blueprint's bindings.
TRIGGER_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "options", "head", "api_route", "route",
                                "queue_trigger", "timer_trigger", "event_grid_trigger", "blob_trigger"})


def product_files() -> list[Path]:
    files = [ROOT / "function_app.py", *(ROOT / "functions").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]
    return sorted(f for f in files if f.is_file())


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """From the `def` line to the last line of the body (decorators not counted)."""
    return (node.end_lineno or node.lineno) - node.lineno + 1


def is_trigger(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in TRIGGER_DECORATORS
               for d in node.decorator_list)


def where(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length(node)} lines)"


def parsed() -> Iterator[tuple[Path, ast.Module]]:
    for path in product_files():
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_product_files_are_found():
    names = {str(p.relative_to(ROOT)) for p in product_files()}
    assert {"function_app.py", "shared/errors.py", "functions/queues.py"} <= names


def test_no_product_file_is_over_300_lines():
    long = {str(p.relative_to(ROOT)): n for p in product_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES}
    assert not long, f"split these files (at most {MAX_FILE_LINES} lines): {long}"


def test_no_function_is_over_50_lines():
    long = [where(path, node) for path, tree in parsed() for node in functions(tree)
            if length(node) > MAX_FUNCTION_LINES]
    assert not long, f"split these functions (at most {MAX_FUNCTION_LINES} lines): {long}"


def test_no_trigger_function_is_over_20_lines():
    triggers = [(path, node) for path, tree in parsed() if path.is_relative_to(ROOT / "functions")
                for node in functions(tree) if is_trigger(node)]
    assert len(triggers) >= 10, "the trigger decorators were not recognised"
    long = [where(path, node) for path, node in triggers if length(node) > MAX_TRIGGER_LINES]
    assert not long, f"move the work of these triggers into shared/services (at most {MAX_TRIGGER_LINES} lines): {long}"
