"""Running one exercise's tests against one copy of the package, and reading the result.

Progress is never stored: an exercise is solved when its tests pass against the
student's work copy, so the tool runs them and looks. pytest runs in a subprocess (a
fresh interpreter per copy, since one process can import only one ``minigun``) and
writes a JUnit XML report, which is read back with :mod:`xml.etree.ElementTree`.
"""

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from .catalogue import Exercise
from .layout import Layout
from .messages import say

WORK_ENV = "MINIGUN_EXERCISE_WORK"
GUARD_TEST = "test_minigun_is_the_work_copy"
TEST_TIMEOUT = 20  # seconds for one test: student code may loop forever
RUN_TIMEOUT = 120  # seconds for the whole pytest process
TIMED_OUT = -1

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
    with tempfile.TemporaryDirectory(prefix="minigun-exercise-") as scratch:
        report = Path(scratch) / "report.xml"
        command = pytest_command(layout.folder(exercise), report)
        environment = {**os.environ, WORK_ENV: str(work)}
        if read_only:
            environment["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            finished = subprocess.run(
                command,
                cwd=layout.root,
                env=environment,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Outcome(TIMED_OUT)
        return read_report(report, finished.returncode, finished.stdout)


def pytest_command(folder: Path, report: Path) -> list[str]:
    """pytest on one folder: short tracebacks, a JUnit report, no cache to share."""
    return [
        sys.executable,
        "-m",
        "pytest",
        str(folder),
        "-q",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        f"--timeout={TEST_TIMEOUT}",
        f"--junitxml={report}",
    ]


def read_report(report: Path, exit_code: int, output: str) -> Outcome:
    """The outcome: passed, failed and skipped tests in the order pytest ran them."""
    if not report.is_file():
        return Outcome(exit_code, output=output)
    passed: list[str] = []
    skipped: list[str] = []
    failures: list[Failure] = []
    for case in ElementTree.parse(report).iter("testcase"):
        name = case.get("name", "?")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            message = problem.get("message", "")
            failures.append(Failure(name, message, problem.text or ""))
        elif case.find("skipped") is not None:
            skipped.append(name)
        else:
            passed.append(name)
    return Outcome(exit_code, tuple(passed), tuple(failures), tuple(skipped), output)
