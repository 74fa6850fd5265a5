"""``make grade``: every exercise's tests against the package in place, for the teacher.

A student's progress is what their ``minigun/`` makes of the tests, so grading is the
runner's survey written down: ``_build/grade/report.json`` (one entry per exercise)
and ``_build/grade/junit.xml`` (one test suite per exercise, one test case per test:
the shape classroom autograders and CI test tabs read).

Grading changes nothing under ``exercises/``: the tests run with bytecode writing off
and pytest's cache disabled.
"""

import datetime
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from .book import Book
from .catalogue import Exercise, load_catalogue
from .layout import Layout
from .messages import say
from .results import Outcome, run_tests

SOLVED, FAILING, NOT_STARTED, BROKEN = "solved", "failing", "not started", "error"
REPORT_FOLDER = Path("_build") / "grade"
# The report's status values stay English (a program reads them); the screen's do not.
STATUS_MESSAGES = {
    SOLVED: "solved",
    FAILING: "failing_short",
    NOT_STARTED: "not_started",
    BROKEN: "error",
}


@dataclass(frozen=True)
class Grade:
    """One exercise's line in the report."""

    id: str
    number: int
    title: str
    chapter: str
    chapter_number: int | None
    status: str
    passed: int
    total: int
    first_failure: str | None
    tests: tuple[tuple[str, str | None], ...]  # (test, failure message or None)


def grade(layout: Layout, out: TextIO) -> int:
    """Writes the two reports and prints one line per exercise; always 0."""
    exercises = load_catalogue(layout.catalogue)
    book = Book(layout.book)
    grades = [grade_one(layout, book, exercise) for exercise in exercises]
    folder = layout.root / REPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(report_json(grades), encoding="utf-8")
    (folder / "junit.xml").write_text(junit_xml(grades), encoding="utf-8")
    for entry in grades:
        score = f"{entry.passed}/{entry.total}"
        status = say(STATUS_MESSAGES[entry.status])
        out.write(f"{entry.number:2d} {entry.id:<20} {status:<12} {score}\n")
    solved = sum(1 for entry in grades if entry.status == SOLVED)
    total = len(grades)
    out.write(say("grade_summary", solved=solved, total=total, folder=REPORT_FOLDER))
    out.write("\n")
    return 0


def grade_one(layout: Layout, book: Book, exercise: Exercise) -> Grade:
    outcome = run_tests(layout, exercise, layout.root, read_only=True)
    status = SOLVED if outcome.solved else FAILING
    if not outcome.failures and not outcome.solved:
        status = BROKEN
    tests = test_results(outcome)
    failures = [message for _, message in tests if message is not None]
    return Grade(
        id=exercise.id,
        number=exercise.number,
        title=exercise.title,
        chapter=exercise.chapter,
        chapter_number=book.number(exercise.chapter),
        status=status,
        passed=len(tests) - len(failures),
        total=len(tests),
        first_failure=failures[0] if failures else None,
        tests=tuple(tests),
    )


def test_results(outcome: Outcome) -> list[tuple[str, str | None]]:
    """Every test in the order pytest ran it, with its failure message if it failed."""
    results: list[tuple[str, str | None]] = [(name, None) for name in outcome.passed]
    results += [(failure.test, failure.message) for failure in outcome.failures]
    if not results:  # the tests did not even run: one failure that says why
        results = [("collection", f"the tests did not run: {outcome.meaning}")]
    return results


def report_json(grades: list[Grade]) -> str:
    entries = []
    for entry in grades:
        fields = asdict(entry)
        fields["tests"] = [
            {"name": name, "passed": message is None, "message": message}
            for name, message in entry.tests
        ]
        entries.append(fields)
    report = {
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "solved": sum(1 for entry in grades if entry.status == SOLVED),
        "total": len(grades),
        "exercises": entries,
    }
    return json.dumps(report, indent=2) + "\n"


def junit_xml(grades: list[Grade]) -> str:
    """JUnit XML: a suite per exercise, a case per test, ``<failure>`` when failed."""
    failures = sum(entry.total - entry.passed for entry in grades)
    root = ElementTree.Element(
        "testsuites",
        name="minigun exercises",
        tests=str(sum(entry.total for entry in grades)),
        failures=str(failures),
    )
    for entry in grades:
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=f"{entry.number:02d}-{entry.id}",
            tests=str(entry.total),
            failures=str(entry.total - entry.passed),
        )
        for name, message in entry.tests:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"exercises.{entry.id}", name=name
            )
            if message is not None:
                failure = ElementTree.SubElement(case, "failure", message=message)
                failure.text = message
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
