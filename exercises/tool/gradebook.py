"""The gradebook of ``make grade``: a CSV for a spreadsheet, a JSON, JUnit per student.

``gradebook.csv`` has one row per student: the folder name, the commit graded, the
points per exercise and the total, then the hints each exercise's runner showed, then
each exercise's first failure. ``gradebook.json`` holds the same and every test's
result. ``junit/<student>.xml`` is one ``<testsuite>`` per exercise, one
``<testcase>`` per test, the shape CI test tabs and LMS importers read.
"""

import csv
import datetime
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from .catalogue import Exercise

if TYPE_CHECKING:  # grade imports this module: only the type checker needs the names
    from .grade import ExerciseGrade, StudentGrade


def write_gradebook(
    folder: Path, exercises: list[Exercise], students: list["StudentGrade"]
) -> None:
    """Writes the CSV, the JSON and a fresh ``junit/`` folder (no stale student)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "gradebook.csv").open("w", encoding="utf-8", newline="") as file:
        rows = csv_rows(exercises, students)
        csv.writer(file).writerows([[spreadsheet_safe(c) for c in r] for r in rows])
    (folder / "gradebook.json").write_text(
        json.dumps(gradebook_json(exercises, students), indent=2, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    junit = folder / "junit"
    shutil.rmtree(junit, ignore_errors=True)
    junit.mkdir()
    for student in students:
        path = junit / f"{student.submission.student}.xml"
        path.write_text(junit_xml(student), encoding="utf-8")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: a failure message may start with ``=``."""
    return f"'{cell}" if cell[:1] in ("=", "+", "-", "@") else cell


def csv_rows(
    exercises: list[Exercise], students: list["StudentGrade"]
) -> list[list[str]]:
    """The header, then one row per student; columns grouped by what they hold."""
    names = [exercise.folder_name for exercise in exercises]
    header = [
        "student",
        "commit",
        "points",
        "out of",
        *names,
        *(f"hints {name}" for name in names),
        *(f"first failure {name}" for name in names),
        "notes",
    ]
    rows = [header]
    for student in students:
        grades = student.grades
        rows.append(
            [
                student.submission.student,
                student.submission.commit,
                str(student.points),
                str(student.possible),
                *(str(grade.points) for grade in grades),
                *(str(grade.hints) for grade in grades),
                *(grade.first_failure for grade in grades),
                "; ".join(student.notes),
            ]
        )
    return rows


def gradebook_json(
    exercises: list[Exercise], students: list["StudentGrade"]
) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {
        "generated": now,
        "exercises": [
            {
                "number": exercise.number,
                "id": exercise.id,
                "title": exercise.title,
                "points": exercise.points,
            }
            for exercise in exercises
        ],
        "out_of": sum(exercise.points for exercise in exercises),
        "students": [student_json(student) for student in students],
    }


def student_json(student: "StudentGrade") -> dict[str, Any]:
    return {
        "student": student.submission.student,
        "commit": student.submission.commit,
        "points": student.points,
        "out_of": student.possible,
        "notes": list(student.notes),
        "exercises": [exercise_json(grade) for grade in student.grades],
    }


def exercise_json(grade: "ExerciseGrade") -> dict[str, Any]:
    return {
        "id": grade.exercise.id,
        "status": grade.status,
        "points": grade.points,
        "out_of": grade.exercise.points,
        "passed": grade.passed,
        "tests": len(grade.tests),
        "hints": grade.hints,
        "first_failure": grade.first_failure,
        "seconds": grade.seconds,
        "results": [
            {
                "name": case.name,
                "hidden": case.hidden,
                "passed": case.passed,
                "skipped": case.skipped,
                "message": case.message,
            }
            for case in grade.tests
        ],
    }


def junit_xml(student: "StudentGrade") -> str:
    """One student's JUnit XML: a suite per exercise, a case per test."""
    grades = student.grades
    root = ElementTree.Element(
        "testsuites",
        name=student.submission.student,
        tests=str(sum(len(grade.tests) for grade in grades)),
        failures=str(sum(len(grade.tests) - grade.passed for grade in grades)),
    )
    for grade in grades:
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=grade.exercise.folder_name,
            tests=str(len(grade.tests)),
            failures=str(len(grade.tests) - grade.passed),
            time=str(grade.seconds),
        )
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (
            ("commit", student.submission.commit),
            ("status", grade.status),
            ("points", f"{grade.points}/{grade.exercise.points}"),
            ("hints", str(grade.hints)),
        ):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        for case in grade.tests:
            where = "hidden" if case.hidden else "tests"
            element = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"{grade.exercise.folder_name}.{where}",
                name=case.name,
            )
            if case.skipped:
                ElementTree.SubElement(element, "skipped")
            elif case.message is not None:
                failure = ElementTree.SubElement(
                    element, "failure", message=case.message
                )
                failure.text = case.details or case.message
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
