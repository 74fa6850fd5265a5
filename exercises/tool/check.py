"""The teacher's check: every exercise fails as shipped and passes with the reference.

``make check-exercises`` runs it, and CI runs that. It reports every problem it finds:

1. the catalogue reads; ids and regions are unique; titles and hints are not empty;
2. every region in the package is well formed, appears exactly once, in the file the
   catalogue names, and every region is listed;
3. every exercise has its folder (task statement, conftest, tests) and no folder is
   left over; every chapter named exists in the book, in book order;
4. against the starter, pytest exits 1 (not 2, a collection error, nor 5, no tests),
   the guard test passes and every other test fails with this exercise's
   ``NotImplementedError``;
5. against the reference copy, pytest exits 0 with nothing skipped;
6. against the exercise's plausible wrong answer (``wrong.txt`` in its folder: the
   statements a student might write instead, put in the region's place), pytest
   exits 1: at least one test catches the mistake, with an assertion of its own
   rather than the starter's ``NotImplementedError``.

The copies live in a temporary folder: the check never touches the package in place.
"""

import os
import re
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from .book import Book
from .catalogue import CatalogueError, Exercise, find_exercise, load_catalogue
from .layout import README, Layout
from .regions import Scan, scan_package
from .results import EXIT_OK, EXIT_TESTS_FAILED, GUARD_TEST, Outcome, run_tests
from .workcopy import write_reference, write_starter, write_wrong_answer

CONFTEST = "conftest.py"
WRONG_ANSWER = "wrong.txt"
TEMPLATE_NAME = "exercises/tool/exercise_conftest.py"
CONFTEST_TEMPLATE = Path(__file__).with_name("exercise_conftest.py")
EXERCISE_FOLDER = re.compile(r"^\d{2}-")
OUTPUT_LINES = 12


def check(
    layout: Layout, out: TextIO, jobs: int | None = None, only: str | None = None
) -> int:
    """Runs every check, prints one line per exercise and each problem; 1 if any.

    ``only`` (an id or number) runs the tests of that one exercise, for the teacher
    writing it; the static checks still cover the whole set.
    """
    try:
        exercises = load_catalogue(layout.catalogue)
    except CatalogueError as error:
        out.write(f"FAIL {error}\n")
        return 1
    scan = scan_package(layout.package)
    problems = static_problems(layout, exercises, scan)
    runnable = [e for e in exercises if len(scan.named(e.region)) == 1]
    if only:
        runnable = [e for e in runnable if e == find_exercise(exercises, only)]
    verdicts = run_all(layout, runnable, jobs or os.cpu_count() or 2)
    for exercise, found in zip(runnable, verdicts, strict=True):
        out.write(f"{'FAIL' if found else 'ok  '} {exercise.folder_name}\n")
        problems += found
    for problem in problems:
        out.write(f"  - {problem}\n")
    verdict = f"{len(problems)} problem(s)" if problems else "all consistent"
    out.write(f"{len(exercises)} exercises checked: {verdict}\n")
    return 1 if problems else 0


def run_all(layout: Layout, exercises: list[Exercise], jobs: int) -> list[list[str]]:
    """Runs each exercise's tests against its starter and the reference, in parallel."""
    with tempfile.TemporaryDirectory(prefix="minigun-check-") as scratch:
        reference = Path(scratch) / "reference"
        write_reference(layout, reference)

        def verdict(exercise: Exercise) -> list[str]:
            starter = Path(scratch) / exercise.folder_name
            write_starter(layout, exercise, starter)
            problems = starter_problems(exercise, run_tests(layout, exercise, starter))
            outcome = run_tests(layout, exercise, reference)
            problems += reference_problems(exercise, outcome)
            return problems + wrong_answer_problems(layout, exercise, Path(scratch))

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(verdict, exercises))


def starter_problems(exercise: Exercise, outcome: Outcome) -> list[str]:
    """The starter must fail every test but the guard, each for the right reason."""
    where = f"{exercise.folder_name} starter"
    if outcome.exit_code not in (EXIT_OK, EXIT_TESTS_FAILED):
        return [f"{where}: {outcome.meaning}; expected some tests to fail"]
    problems = common_problems(where, outcome)
    passing = [test for test in outcome.passed if test != GUARD_TEST]
    if passing:
        problems.append(f"{where}: {passing} pass without the region: they miss it")
    expected = f"exercise {exercise.id}:"
    wrong = [
        failure.test
        for failure in outcome.failures
        if "NotImplementedError" not in failure.message
        or expected not in failure.message
    ]
    if wrong:
        problems.append(f"{where}: {wrong} fail, but not with the starter's raise")
    return problems


def reference_problems(exercise: Exercise, outcome: Outcome) -> list[str]:
    """The reference must pass the guard and at least one real test."""
    where = f"{exercise.folder_name} reference"
    if outcome.exit_code != EXIT_OK:
        first = outcome.failures[0] if outcome.failures else None
        detail = f" ({first.test}: {first.message})" if first else ""
        tail = outcome.output.strip().splitlines()[-OUTPUT_LINES:]
        lines = [f"{where}: {outcome.meaning}{detail}; expected every test to pass"]
        return lines + ([] if first else tail)
    problems = common_problems(where, outcome)
    if len(outcome.passed) < 2:  # the guard and at least one test of the region
        problems.append(f"{where}: no test besides the guard")
    return problems


def wrong_answer_problems(
    layout: Layout, exercise: Exercise, scratch: Path
) -> list[str]:
    """The tests must fail against the plausible wrong answer, and say why."""
    answer_file = layout.folder(exercise) / WRONG_ANSWER
    if not answer_file.is_file():
        return []  # reported by folder_problems
    where = f"{exercise.folder_name} wrong answer ({WRONG_ANSWER})"
    copy = scratch / f"{exercise.folder_name}-wrong"
    answer = answer_file.read_text(encoding="utf-8")
    write_wrong_answer(layout, exercise, answer, copy)
    outcome = run_tests(layout, exercise, copy)
    if outcome.exit_code != EXIT_TESTS_FAILED:
        return [f"{where}: {outcome.meaning}; expected a test to catch the mistake"]
    caught = [f for f in outcome.failures if "NotImplementedError" not in f.message]
    if not caught or GUARD_TEST not in outcome.passed:
        return [f"{where}: no test fails with an assertion of its own"]
    return []


def common_problems(where: str, outcome: Outcome) -> list[str]:
    problems = []
    if GUARD_TEST not in outcome.passed:
        problems.append(f"{where}: the guard test {GUARD_TEST} did not pass")
    if outcome.skipped:
        problems.append(f"{where}: {list(outcome.skipped)} skipped; nothing may hide")
    return problems


def static_problems(layout: Layout, exercises: list[Exercise], scan: Scan) -> list[str]:
    """Everything that can be checked without running a test."""
    return [
        *catalogue_problems(exercises),
        *scan.problems,
        *region_problems(layout, exercises, scan),
        *folder_problems(layout, exercises),
        *book_problems(layout, exercises),
    ]


def catalogue_problems(exercises: list[Exercise]) -> list[str]:
    problems = []
    for field in ("id", "region"):
        counts = Counter(getattr(exercise, field) for exercise in exercises)
        repeated = sorted(name for name, count in counts.items() if count > 1)
        if repeated:
            problems.append(f"catalogue: {field}s listed twice: {repeated}")
    for exercise in exercises:
        if not exercise.title.strip():
            problems.append(f"catalogue: {exercise.id} has no title")
        if not exercise.hints or not all(hint.strip() for hint in exercise.hints):
            problems.append(f"catalogue: {exercise.id} needs hints, none of them empty")
    return problems


def region_problems(layout: Layout, exercises: list[Exercise], scan: Scan) -> list[str]:
    """Each listed region is found once, where listed; each region is listed."""
    problems = []
    for exercise in exercises:
        found = scan.named(exercise.region)
        places = [f"{layout.relative(r.path)}:{r.begin}" for r in found]
        if len(found) != 1:
            problems.append(
                f"region {exercise.region}: found {len(found)} times {places}, "
                f"expected once in {exercise.file}"
            )
        elif found[0].path != layout.root / exercise.file:
            problems.append(
                f"region {exercise.region} is in {places[0]}, "
                f"but the catalogue says {exercise.file}"
            )
    listed = {exercise.region for exercise in exercises}
    problems += [
        f"region {region.name} ({layout.relative(region.path)}:{region.begin}) "
        "is not in the catalogue"
        for region in scan.regions
        if region.name not in listed
    ]
    return problems


def folder_problems(layout: Layout, exercises: list[Exercise]) -> list[str]:
    """Each exercise's folder holds its files and the standard conftest; no strays."""
    problems = []
    template = CONFTEST_TEMPLATE.read_text(encoding="utf-8")
    for exercise in exercises:
        folder = layout.folder(exercise)
        for name in (README, CONFTEST, exercise.tests, WRONG_ANSWER):
            path = folder / name
            if not path.is_file() or not path.read_text(encoding="utf-8").strip():
                problems.append(f"{layout.relative(path)} is missing or empty")
            elif name == CONFTEST and path.read_text(encoding="utf-8") != template:
                problems.append(f"{layout.relative(path)} differs from {TEMPLATE_NAME}")
    expected = {exercise.folder_name for exercise in exercises}
    present = {
        path.name
        for path in layout.exercises.iterdir()
        if path.is_dir() and EXERCISE_FOLDER.match(path.name)
    }
    problems += [
        f"exercises/{name} is not in the catalogue" for name in present - expected
    ]
    return problems


def book_problems(layout: Layout, exercises: list[Exercise]) -> list[str]:
    """Every chapter named is a chapter of the book, and exercises keep book order."""
    book = Book(layout.book)
    problems = [
        f"{exercise.id}: chapter book/{exercise.chapter}.md is missing from the book"
        for exercise in exercises
        if not book.has(exercise.chapter) or book.number(exercise.chapter) is None
    ]
    numbers = [book.number(exercise.chapter) or 0 for exercise in exercises]
    if numbers != sorted(numbers):
        problems.append(f"the catalogue is not in book order: chapters {numbers}")
    return problems
