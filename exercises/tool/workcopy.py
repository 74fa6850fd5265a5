"""Work copies: the package copied with one region cut out, and where to edit it.

A student's work copy is ``exercises/NN-id/work/minigun/``: the whole reference
package with this exercise's region replaced by ``raise NotImplementedError(...)`` and
every other marker removed. It is git-ignored and disposable: ``reset`` deletes and
regenerates it.

The work folder also holds ``.last-hint``, the number of the last hint shown. It is the
only state the tool keeps, and it can be lost at no cost: a missing or unreadable file
means "hint 1 was shown", which is what ``make exercise`` shows anyway.
"""

import ast
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .book import Book
from .catalogue import Exercise
from .layout import Layout
from .regions import (
    cut,
    enclosing_function,
    functions,
    replace_region,
    scan_package,
    strip_markers,
)

HINT_FILE = ".last-hint"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def copy_package(layout: Layout, dest: Path, rewrite: Callable[[str], str]) -> None:
    """Copies the package into ``dest``, each module's text passed through ``rewrite``.

    The copy is built beside ``dest`` and renamed into place, so an interrupted copy
    never leaves a half-written package that looks like a real one.
    """
    building = dest.with_name(dest.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    target = building / layout.package_name
    shutil.copytree(layout.package, target, ignore=IGNORED)
    for path in target.rglob("*.py"):
        path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    building.rename(dest)


def write_starter(layout: Layout, exercise: Exercise, dest: Path) -> None:
    """The starter: this exercise's region cut, the others' code intact."""

    message = starter_message(layout, exercise)

    def rewrite(text: str) -> str:
        return cut(text, exercise.region, message)

    copy_package(layout, dest, rewrite)


def starter_message(layout: Layout, exercise: Exercise) -> str:
    """The starter's message, naming the chapter by its number in the book."""
    return exercise.starter_message(Book(layout.book).number(exercise.chapter))


def write_wrong_answer(
    layout: Layout, exercise: Exercise, answer: str, dest: Path
) -> None:
    """A copy whose region holds ``answer``, a mistake the tests must catch."""

    def rewrite(text: str) -> str:
        return replace_region(text, exercise.region, answer)

    copy_package(layout, dest, rewrite)


def write_reference(layout: Layout, dest: Path) -> None:
    """The reference copy: every region intact, every marker removed."""
    copy_package(layout, dest, strip_markers)


def ensure_work_copy(layout: Layout, exercise: Exercise) -> bool:
    """Generates the student's work copy on first use; says whether it did."""
    if (layout.work(exercise) / layout.package_name).is_dir():
        return False
    write_starter(layout, exercise, layout.work(exercise))
    return True


def reset_work_copy(layout: Layout, exercise: Exercise) -> None:
    """Throws the student's copy away and writes a fresh starter (hints start over)."""
    write_starter(layout, exercise, layout.work(exercise))


def next_hint(layout: Layout, exercise: Exercise) -> int:
    """The number (from 1) of the hint to show next, cycling; remembers it."""
    counter = layout.work(exercise) / HINT_FILE
    try:
        last = int(counter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        last = 1
    number = last % len(exercise.hints) + 1
    counter.write_text(f"{number}\n", encoding="utf-8")
    return number


@dataclass(frozen=True)
class EditPlace:
    """Where the student edits: a file in the work copy, a line, the function's name."""

    path: Path
    line: int
    function: str


def edit_place(layout: Layout, exercise: Exercise) -> EditPlace:
    """Finds the starter's ``raise`` in the work copy, or else the function's ``def``.

    The ``raise`` is gone once the student starts writing, so the function (named after
    the reference, where the markers are) is the place that stays findable.
    """
    work_file = layout.work(exercise) / exercise.file
    function = region_function(layout, exercise)
    text = work_file.read_text(encoding="utf-8")
    marker = f"exercise {exercise.id}:"
    for number, line in enumerate(text.splitlines(), 1):
        if "raise NotImplementedError" in line and marker in line:
            return EditPlace(work_file, number, function)
    return EditPlace(work_file, def_line(text, function), function)


def region_function(layout: Layout, exercise: Exercise) -> str:
    """The qualified name of the reference function holding the exercise's region."""
    for region in scan_package(layout.package).named(exercise.region):
        tree = ast.parse(region.path.read_text(encoding="utf-8"))
        return enclosing_function(tree, region) or "?"
    return "?"


def def_line(text: str, qualname: str) -> int:
    """The line of ``def`` for ``qualname`` in ``text``; line 1 if it has gone."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 1
    lines = [node.lineno for name, node in functions(tree) if name == qualname]
    return lines[0] if lines else 1
