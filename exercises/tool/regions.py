"""Region markers in the reference, and the two ways of copying a file around them.

A region is a pair of comments around whole statements inside one function::

    # exercise: reap-workers
    ...statements...
    # end-exercise: reap-workers

:func:`cut` makes a starter: the region becomes one ``raise NotImplementedError(...)``
at the region's indentation and every other marker disappears. :func:`strip_markers`
makes the reference copy: every marker disappears, the code stays.
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# exercise: (?P<name>\S+)[ \t]*$")
END = re.compile(r"^(?P<indent>[ \t]*)# end-exercise: (?P<name>\S+)[ \t]*$")
ANY_MARKER = re.compile(r"^[ \t]*# (end-)?exercise: \S+[ \t]*$")
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Region:
    """Where one region sits: its file, its markers' 1-based lines, its indent."""

    name: str
    path: Path
    begin: int
    end: int
    indent: str


@dataclass(frozen=True)
class Scan:
    """What scanning a package found: the regions, and every problem with them."""

    regions: list[Region]
    problems: list[str]

    def named(self, name: str) -> list[Region]:
        return [region for region in self.regions if region.name == name]


def scan_package(package: Path) -> Scan:
    """Finds every region under ``package`` and checks each is well formed."""
    regions: list[Region] = []
    problems: list[str] = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found, marker_problems = pair_markers(path, text)
        regions += found
        problems += marker_problems
        problems += [p for region in found for p in shape_problems(text, region)]
    return Scan(regions, problems)


def pair_markers(path: Path, text: str) -> tuple[list[Region], list[str]]:
    """Matches each begin marker with its end marker; regions may not nest."""
    regions: list[Region] = []
    problems: list[str] = []
    open_marker: re.Match[str] | None = None
    open_line = 0
    for number, line in enumerate(text.splitlines(), 1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin and open_marker:
            problems.append(f"{path}:{number}: region {begin['name']} opens inside one")
        elif begin:
            open_marker, open_line = begin, number
        elif end and (not open_marker or end["name"] != open_marker["name"]):
            problems.append(f"{path}:{number}: end of {end['name']} closes nothing")
        elif end and open_marker:
            if end["indent"] != open_marker["indent"]:
                problem = f"{path}:{number}: {end['name']} markers differ in indent"
                problems.append(problem)
            region = Region(end["name"], path, open_line, number, end["indent"])
            regions.append(region)
            open_marker = None
    if open_marker:
        problems.append(f"{path}:{open_line}: region {open_marker['name']} never ends")
    return regions, problems


def shape_problems(text: str, region: Region) -> list[str]:
    """Checks that a region holds whole statements at its markers' indent."""
    where = f"{region.path}:{region.begin}: region {region.name}"
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        return [f"{where}: the file does not parse: {error}"]
    if enclosing_function(tree, region) is None:
        return [f"{where} is not inside a function"]
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    problems = [
        f"{where} cuts the statement on line {node.lineno}"
        for node in statements
        if overlaps(node, region)
        and not is_inside(node, region)
        and not encloses(node, region)
    ]
    top = outermost([node for node in statements if is_inside(node, region)])
    if not top:
        problems.append(f"{where} holds no statement")
    if any(node.col_offset != len(region.indent) for node in top):
        problems.append(f"{where}: its statements and markers differ in indent")
    return problems


def overlaps(node: ast.stmt, region: Region) -> bool:
    end = node.end_lineno or node.lineno
    return node.lineno < region.end and end > region.begin


def is_inside(node: ast.stmt, region: Region) -> bool:
    end = node.end_lineno or node.lineno
    return region.begin < node.lineno and end < region.end


def encloses(node: ast.stmt, region: Region) -> bool:
    """A compound statement (``def``, ``if``, ``with``...) holding the region."""
    return node.lineno < region.begin and hasattr(node, "body")


def outermost(nodes: list[ast.stmt]) -> list[ast.stmt]:
    """The statements in ``nodes`` that are not nested in another one of them."""
    nested = {
        id(child) for node in nodes for child in ast.walk(node) if child is not node
    }
    return [node for node in nodes if id(node) not in nested]


def enclosing_function(tree: ast.Module, region: Region) -> str | None:
    """The qualified name (``Arbiter.reap_workers``) of the region's function."""
    best: tuple[int, str] | None = None
    for qualname, node in functions(tree):
        end = node.end_lineno or node.lineno
        holds = node.lineno < region.begin and end >= region.end - 1
        if holds and (best is None or node.lineno > best[0]):
            best = (node.lineno, qualname)
    return best[1] if best else None


def functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, Function]]:
    """Every function in ``tree`` with its qualified name (``Class.method``)."""
    found: list[tuple[str, Function]] = []
    for node in ast.iter_child_nodes(tree):
        name = getattr(node, "name", "")
        if isinstance(node, FUNCTIONS):
            found.append((prefix + name, node))
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            found += functions(node, f"{prefix}{name}.")
        elif not isinstance(node, ast.expr):
            found += functions(node, prefix)
    return found


def cut(text: str, name: str, message: str) -> str:
    """The starter: region ``name`` becomes a ``raise``, other markers vanish."""
    return cut_regions(text, {name: message})


def cut_regions(text: str, messages: dict[str, str]) -> str:
    """Every region named in ``messages`` becomes its ``raise``; other markers vanish.

    The student edition of the book uses this for a listing that shows more than one
    region; with a single name it is exactly the starter the check tests.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    cutting = False
    for line in lines:
        begin, end = BEGIN.match(line), END.match(line)
        if begin and begin["name"] in messages:
            literal = json.dumps(messages[begin["name"]])
            out.append(f"{begin['indent']}raise NotImplementedError({literal})\n")
            cutting = True
        elif end and end["name"] in messages:
            cutting = False
        elif not cutting and not ANY_MARKER.match(line):
            out.append(line)
    return "".join(out)


def replace_region(text: str, name: str, replacement: str) -> str:
    """The region ``name`` holds ``replacement`` (re-indented), other markers vanish.

    The teacher's check uses it to run the tests against a plausible wrong answer.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    cutting = False
    for line in lines:
        begin, end = BEGIN.match(line), END.match(line)
        if begin and begin["name"] == name:
            out += [
                f"{begin['indent']}{body}" if body.strip() else "\n"
                for body in replacement.splitlines(keepends=True)
            ]
            cutting = True
        elif end and end["name"] == name:
            cutting = False
        elif not cutting and not ANY_MARKER.match(line):
            out.append(line)
    return "".join(out)


def strip_markers(text: str) -> str:
    """The reference copy: the same code with every marker line removed."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not ANY_MARKER.match(line))
