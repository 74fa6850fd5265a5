"""The holes in the package the student edits: where each one is, which are still open,
and how to put one back.

A hole is the ``raise NotImplementedError("exercise ID: ...")`` the kit ships in place
of an exercise's code. Once the student starts writing, the ``raise`` is gone, so the
place that stays findable is the function around it. The kit builder records, for each
exercise, that function's file, qualified name and text as shipped (its *starter*) in
``exercises/holes.json``::

    {"graceful-stop": {"file": "minigun/arbiter.py", "function": "Arbiter.stop",
                       "starter": "    def stop(self, graceful: bool = True) ..."}}

``reset`` puts the starter back over the student's version of that one function and
leaves the rest of the file, and every other exercise, as it is. No function holds two
holes (the teacher's check of the kit fails if one does), so resetting one exercise
never resets another.
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .catalogue import CatalogueError, Exercise
from .layout import Layout
from .messages import say
from .regions import functions

OPEN_HOLE = re.compile(r'raise NotImplementedError\("exercise (?P<id>[^:"]+):')


@dataclass(frozen=True)
class Hole:
    """Where one exercise's hole is: a file of the package, a function, its starter."""

    file: str
    function: str
    starter: str


@dataclass(frozen=True)
class Place:
    """A line to open in an editor: the file, the line, the function's name."""

    path: Path
    line: int
    function: str


class ResetError(Exception):
    """The function cannot be put back: the file does not parse, or it has gone."""


def load_holes(path: Path) -> dict[str, Hole]:
    """Reads ``holes.json``; a missing table means this is not a kit."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CatalogueError(say("not_a_kit", path=path)) from error
    except (OSError, ValueError) as error:
        raise CatalogueError(f"{path}: {error}") from error
    return {name: Hole(**fields) for name, fields in data.items()}


def holes_json(holes: dict[str, Hole]) -> str:
    data = {name: vars(hole) for name, hole in holes.items()}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def edit_place(layout: Layout, exercise: Exercise, hole: Hole) -> Place:
    """The ``raise`` of this exercise's hole, or the ``def`` once the raise is gone."""
    path = layout.root / hole.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return Place(path, 1, hole.function)
    for number, line in enumerate(text.splitlines(), 1):
        found = OPEN_HOLE.search(line)
        if found and found["id"] == exercise.id:
            return Place(path, number, hole.function)
    span = function_span(text, hole.function)
    return Place(path, span[0] if span else 1, hole.function)


def open_holes(package: Path) -> dict[str, Place]:
    """Every hole still cut in ``package``: exercise id to the line of its ``raise``."""
    found: dict[str, Place] = {}
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            match = OPEN_HOLE.search(line)
            if match:
                found.setdefault(match["id"], Place(path, number, ""))
    return found


def function_span(text: str, qualname: str) -> tuple[int, int] | None:
    """The 1-based first and last line of ``qualname`` (decorators included)."""
    tree = ast.parse(text)
    for name, node in functions(tree):
        if name == qualname:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return first, node.end_lineno or node.lineno
    return None


def starter_of(text: str, qualname: str) -> str:
    """The text of ``qualname`` in ``text``: what the builder records as the starter."""
    span = function_span(text, qualname)
    if span is None:
        raise ValueError(f"no function {qualname}")
    lines = text.splitlines(keepends=True)
    return "".join(lines[span[0] - 1 : span[1]])


def restore(text: str, hole: Hole) -> str:
    """``text`` with the hole's function put back as shipped; nothing else changed."""
    try:
        span = function_span(text, hole.function)
    except SyntaxError as error:
        raise ResetError(
            say("reset_unparsable", file=hole.file, line=error.lineno or 0)
        ) from error
    if span is None:
        raise ResetError(
            say("reset_no_function", file=hole.file, function=hole.function)
        )
    lines = text.splitlines(keepends=True)
    return "".join([*lines[: span[0] - 1], hole.starter, *lines[span[1] :]])
