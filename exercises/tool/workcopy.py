"""Copies of the package that the teacher's side writes: one or every hole cut, the
reference, a wrong answer.

The student never gets a copy: they fill the holes of the kit's own ``minigun/`` in
place. These copies are for the teacher's tools, in temporary folders: the check runs
each exercise's tests against its starter (that exercise's region cut, the others'
code intact), the reference and the plausible wrong answer; the kit builder writes the
kit's package with every region cut at once (:func:`write_kit_package`), and the kit's
check fills one hole at a time (:func:`write_one_hole_filled`).
"""

import ast
import shutil
from collections.abc import Callable
from pathlib import Path

from .book import Book
from .catalogue import Exercise, load_catalogue
from .layout import Layout
from .regions import (
    Scan,
    cut,
    cut_regions,
    enclosing_function,
    replace_region,
    strip_markers,
)

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


def starter_messages(layout: Layout) -> dict[str, str]:
    """Every region's starter message, by region name."""
    return {
        exercise.region: starter_message(layout, exercise)
        for exercise in load_catalogue(layout.catalogue)
    }


def write_kit_package(layout: Layout, dest: Path) -> None:
    """The kit's package: every exercise's region cut at once, every marker gone."""
    messages = starter_messages(layout)
    copy_package(layout, dest, lambda text: cut_regions(text, messages))


def write_one_hole_filled(layout: Layout, exercise: Exercise, dest: Path) -> None:
    """The kit's package with only ``exercise``'s hole filled, with the reference."""
    messages = starter_messages(layout)
    del messages[exercise.region]
    copy_package(layout, dest, lambda text: cut_regions(text, messages))


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


def region_function(scan: Scan, exercise: Exercise) -> str:
    """The qualified name of the reference function holding the exercise's region,
    in ``scan``, the reference package scanned once for every exercise (a scan
    parses and checks every module: once per exercise, it was most of a kit's
    build time)."""
    for region in scan.named(exercise.region):
        tree = ast.parse(region.path.read_text(encoding="utf-8"))
        return enclosing_function(tree, region) or "?"
    return "?"
