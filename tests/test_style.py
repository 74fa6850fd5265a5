"""The package's shape that no linter checks: how long a function may grow."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minigun"
MAX_FUNCTION_LINES = 40  # issue 24: "no function is over 40 lines"


def function_lengths(path: Path) -> list[tuple[str, int]]:
    """Every function and method of ``path`` with its length, docstring included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
    ]


def test_no_function_in_the_package_is_over_40_lines():
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}: {name} ({length} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, length in function_lengths(path)
        if length > MAX_FUNCTION_LINES
    ]
    assert not too_long, "functions a student reads in one screen: " + ", ".join(
        too_long
    )
