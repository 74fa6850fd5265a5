"""Running exercises' tests against a copy of the package, and reading the result.

Progress is never stored: an exercise is solved when its tests pass against the
package the student edits, so the tool runs them and looks. pytest runs in a
subprocess (one process can import only one ``minigun``) and writes a JUnit XML report,
read back with :mod:`xml.etree.ElementTree`.

The student's runner asks about every exercise at once (which is the first unsolved,
how many are solved), so :func:`run_exercises` runs every exercise folder in one pytest
process and splits the report by folder: one interpreter start and one import of the
package instead of one per exercise, which keeps ``make exercise`` to a few seconds.
The teacher's check runs one exercise against many copies, so :func:`run_tests` runs one
folder against the copy that ``MINIGUN_EXERCISE_WORK`` names.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from .catalogue import Exercise
from .layout import Layout
from .messages import say

WORK_ENV = "MINIGUN_EXERCISE_WORK"
GUARD_TEST = "test_minigun_is_the_work_copy"
TEST_TIMEOUT = 10  # seconds for one test: student code may loop forever
RUN_TIMEOUT = 120  # seconds for the whole pytest process
COLLECTION_FAILURE = "collection failure"  # pytest's message for a module that broke
TIMED_OUT = -1
ONE_PLUGIN = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""An exercise's pytest loads the one plugin it uses, pytest-timeout, by name
(``-p pytest_timeout``), not every plugin installed beside it (the teacher's xdist,
anyio...): those change nothing an exercise checks, and loading them was two thirds
of the start-up of each of the many runs a check, a kit check or a grading makes."""

# pytest's exit codes (pytest.ExitCode), named for the messages that explain them.
EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_INTERRUPTED = 2
EXIT_INTERNAL_ERROR = 3
EXIT_USAGE_ERROR = 4
EXIT_NO_TESTS = 5
# What each exit code means to a student: messages.py holds the sentences.
EXIT_MEANINGS = {
    EXIT_OK: "exit_0",
    EXIT_TESTS_FAILED: "exit_1",
    EXIT_INTERRUPTED: "exit_2",
    EXIT_INTERNAL_ERROR: "exit_3",
    EXIT_USAGE_ERROR: "exit_4",
    EXIT_NO_TESTS: "exit_5",
    TIMED_OUT: "exit_timed_out",
}


@dataclass(frozen=True)
class Failure:
    """One failed test: its name, pytest's one-line reason, and the short traceback."""

    test: str
    message: str
    details: str


@dataclass(frozen=True)
class Outcome:
    """What one pytest run said about one exercise."""

    exit_code: int
    passed: tuple[str, ...] = ()
    failures: tuple[Failure, ...] = ()
    skipped: tuple[str, ...] = ()
    output: str = ""

    @property
    def solved(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def checks_passed(self) -> tuple[str, ...]:
        """The tests that passed, the guard left out: it passes with the hole open."""
        return tuple(test for test in self.passed if test != GUARD_TEST)

    @property
    def checks(self) -> int:
        """How many tests check the exercise's code (every test but the guard)."""
        return len(self.checks_passed) + len(self.failures)

    @property
    def meaning(self) -> str:
        key = EXIT_MEANINGS.get(self.exit_code, "exit_other")
        return say(key, code=self.exit_code, seconds=RUN_TIMEOUT)


def run_tests(
    layout: Layout, exercise: Exercise, work: Path, read_only: bool = False
) -> Outcome:
    """Runs the exercise's tests with ``work/minigun`` as the package under test.

    ``read_only`` (for grading) also keeps Python from writing bytecode into the
    copy, so the run leaves every file under ``work`` as it found it.
    """
    environment = {**os.environ, WORK_ENV: str(work)}
    if read_only:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="minigun-exercise-") as scratch:
        report = Path(scratch) / "report.xml"
        command = pytest_command(layout.folder(exercise), report=report)
        finished = run_pytest(command, layout.root, environment)
        if finished is None:
            return Outcome(TIMED_OUT)
        return read_report(report, finished.returncode, finished.stdout)


def run_exercises(
    layout: Layout, exercises: Sequence[Exercise], work: Path | None = None
) -> dict[int, Outcome]:
    """Every exercise's outcome from one pytest run over their folders.

    The package under test is ``work/minigun`` if ``work`` is given, else the one at
    the root (the student's). A folder whose tests cannot be imported fails alone: the
    run goes on with the others.
    """
    environment = dict(os.environ)
    environment.pop(WORK_ENV, None)
    if work is not None:
        environment[WORK_ENV] = str(work)
    with tempfile.TemporaryDirectory(prefix="minigun-exercises-") as scratch:
        report = Path(scratch) / "report.xml"
        folders = [str(layout.folder(exercise)) for exercise in exercises]
        command = [
            *pytest_command(*folders, report=report),
            "--continue-on-collection-errors",
            "-o",
            "junit_family=xunit1",  # each test case names its file, hence its folder
            f"--rootdir={layout.root}",
        ]
        finished = run_pytest(command, layout.root, environment)
        if finished is None:
            return {exercise.number: Outcome(TIMED_OUT) for exercise in exercises}
        cases = read_cases(report)
    by_folder: dict[str, list[Case]] = {}
    for case in cases:
        by_folder.setdefault(Path(case.file).parent.name, []).append(case)
    return {
        exercise.number: outcome_of(
            by_folder.get(exercise.folder_name, []),
            finished.returncode,
            finished.stdout,
        )
        for exercise in exercises
    }


def run_pytest(
    command: list[str], cwd: Path, environment: dict[str, str]
) -> subprocess.CompletedProcess[str] | None:
    """Runs pytest; None if it did not finish within :data:`RUN_TIMEOUT`."""
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env={**environment, **ONE_PLUGIN},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None


def pytest_command(*folders: str | Path, report: Path) -> list[str]:
    """pytest on some folders: short tracebacks, a JUnit report, no cache to share."""
    return [
        sys.executable,
        "-m",
        "pytest",
        *map(str, folders),
        "-q",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",
        f"--timeout={TEST_TIMEOUT}",
        f"--junitxml={report}",
    ]


@dataclass(frozen=True)
class Case:
    """One test case of a report: where it is, and how it ended."""

    file: str
    name: str
    result: str  # "passed", "failed", "skipped" or "broken" (it could not be collected)
    failure: Failure | None = None


def read_cases(report: Path) -> list[Case]:
    """The report's test cases, in the order pytest ran them."""
    if not report.is_file():
        return []
    cases = []
    for element in ElementTree.parse(report).iter("testcase"):
        name, file = element.get("name", "?"), element.get("file", "")
        problem = element.find("failure")
        if problem is None:
            problem = element.find("error")
        if problem is not None:
            message = problem.get("message", "")
            result = "broken" if message == COLLECTION_FAILURE else "failed"
            failure = Failure(name, message, problem.text or "")
            cases.append(Case(file, name, result, failure))
        elif element.find("skipped") is not None:
            cases.append(Case(file, name, "skipped"))
        else:
            cases.append(Case(file, name, "passed"))
    return cases


def read_report(report: Path, exit_code: int, output: str) -> Outcome:
    """The outcome of a run over one folder, with pytest's own exit status."""
    if not report.is_file():
        return Outcome(exit_code, output=output)
    outcome = outcome_of(read_cases(report), exit_code, output)
    return Outcome(exit_code, outcome.passed, outcome.failures, outcome.skipped, output)


def outcome_of(cases: list[Case], run_exit_code: int, output: str) -> Outcome:
    """One exercise's outcome from its cases, with the exit status pytest would have
    given a run over its folder alone."""
    failures = tuple(case.failure for case in cases if case.failure is not None)
    if any(case.result == "broken" for case in cases):
        exit_code = EXIT_INTERRUPTED
    elif failures:
        exit_code = EXIT_TESTS_FAILED
    elif cases:
        exit_code = EXIT_OK
    elif run_exit_code in (EXIT_OK, EXIT_TESTS_FAILED):
        exit_code = EXIT_NO_TESTS
    else:
        exit_code = run_exit_code  # the whole run stopped early: say why
    return Outcome(
        exit_code,
        passed=tuple(case.name for case in cases if case.result == "passed"),
        failures=failures,
        skipped=tuple(case.name for case in cases if case.result == "skipped"),
        output=output,
    )
