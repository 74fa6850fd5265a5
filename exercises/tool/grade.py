"""``make grade SUBMISSIONS=DIR``: a class graded with the instructor's own tests.

DIR holds one folder per student, each a clone of the student kit (as a GitHub
Classroom roster clones them). Of a submission only ``minigun/`` is taken, and only
its regular ``.py`` files: no symbolic link (it could point at the teacher's own
reference), no ``.pyc`` (it could hold other code than its source). The copy is put
in a scratch folder shaped like a kit, around the instructor's copy of every
exercise's conftest, tests (hidden ones included, ``exercises/NN-id/hidden/``) and
fakes, so nothing in the student's own ``exercises/`` (an edited test, a conftest hook
that turns failures into passes) reaches the result.

Each exercise runs in its own pytest process (a crash or a hang costs that exercise
only), with a timeout per test and per run, bytecode writing off, in parallel. The
submission folder is only read. An exercise earns its catalogue points when every
test passes, nothing is skipped and a test besides the guard ran: a guard-only pass
counts as nothing. :mod:`.gradebook` writes the results; :mod:`.similarity` compares
the answers.
"""

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree

from .catalogue import CatalogueError, Exercise, find_exercise, load_catalogue
from .gradebook import write_gradebook
from .layout import Layout
from .results import GUARD_TEST, ONE_PLUGIN, WORK_ENV
from .similarity import compare_class, write_similarity

GRADE_FOLDER = Path("_build") / "grade"
PACKAGE = "minigun"  # the folder of a submission that is graded, and nothing else
NO_PACKAGE = f"no {PACKAGE}/ package in the submission"
HINTS_FILE = "hints-shown.txt"  # the runner writes the highest hint number shown
CONFTEST = "conftest.py"
FAKES = "fakes.py"
# What an exercise folder holds that a test run must not see: the teacher's wrong
# answer, the task statements, a student's work copy or hint counter.
NOT_FOR_TESTS = shutil.ignore_patterns(
    "work", "wrong.txt", "README*", HINTS_FILE, ".last-hint", "__pycache__", "*.pyc"
)
TEACHERS_ONLY_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH")
PYTEST_INI = "[pytest]\n# minigun grading: this folder is the whole test session.\n"
TEST_TIMEOUT = 20  # seconds for one test
RUN_TIMEOUT = 120  # seconds for one exercise's pytest process
SUSPECT_IMPORT = re.compile(r"^\s*(import|from)\s+(_?pytest|pluggy|conftest)\b", re.M)
FAILURE_LINE = 200  # characters of a failure kept in the gradebook
PYTEST_EXITS = {  # pytest's exit codes that leave no failed test to quote
    2: "pytest was interrupted (an error while collecting the tests)",
    3: "pytest failed inside (an internal error)",
    4: "pytest refused the run (a usage error)",
    5: "pytest found no test",
}

SOLVED = "solved"
OPEN = "open"  # every failure is the exercise's own NotImplementedError: not tried
FAILING = "failing"
ERROR = "error"  # the tests could not run, or only the guard did
TIMED_OUT = "timed out"


@dataclass(frozen=True)
class Limits:
    """How long a test, and one exercise's whole run, may take."""

    test: int = TEST_TIMEOUT
    run: int = RUN_TIMEOUT


@dataclass(frozen=True)
class Submission:
    """One student's folder: its name is the student's, ``commit`` its git HEAD."""

    student: str
    folder: Path
    commit: str


@dataclass(frozen=True)
class CaseResult:
    """One test of one run; ``message`` is None when it passed."""

    name: str
    hidden: bool
    message: str | None = None
    details: str = ""
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return self.message is None and not self.skipped


@dataclass(frozen=True)
class ExerciseGrade:
    """What one exercise's tests made of one submission."""

    exercise: Exercise
    status: str
    points: int
    tests: tuple[CaseResult, ...]
    hints: int
    first_failure: str
    seconds: float

    @property
    def passed(self) -> int:
        return sum(1 for case in self.tests if case.passed)


@dataclass(frozen=True)
class StudentGrade:
    """A submission's grades, one per exercise, and what the teacher should know."""

    submission: Submission
    grades: tuple[ExerciseGrade, ...]
    notes: tuple[str, ...]

    @property
    def points(self) -> int:
        return sum(grade.points for grade in self.grades)

    @property
    def possible(self) -> int:
        return sum(grade.exercise.points for grade in self.grades)


def find_submissions(folder: Path) -> list[Submission]:
    """Every sub-folder of ``folder`` but hidden ones, by name: one per student."""
    return [
        Submission(path.name, path, git_commit(path))
        for path in sorted(folder.iterdir())
        if path.is_dir() and not path.name.startswith(".")
    ]


def git_commit(folder: Path) -> str:
    """``git rev-parse HEAD`` of a clone; blank for a folder without its own .git.

    A folder without ``.git`` is asked nothing: git would answer for a repository
    around it (the teacher's), which is not the student's commit.
    """
    if not (folder / ".git").exists():
        return ""
    command = ["git", "-c", "safe.directory=*", "-C", str(folder), "rev-parse", "HEAD"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def copy_student_package(source: Path, dest: Path) -> list[str]:
    """Copies the regular ``.py`` files of ``source`` into ``dest``; notes the links."""
    skipped = []
    for folder, subfolders, files in os.walk(source):
        here = Path(folder)
        for name in [*subfolders, *files]:
            if (here / name).is_symlink():
                skipped.append(f"{(here / name).relative_to(source.parent)}")
        subfolders[:] = [
            name
            for name in subfolders
            if not (here / name).is_symlink() and name != "__pycache__"
        ]
        target = dest / here.relative_to(source)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            path = here / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                shutil.copyfile(path, target / name)
    return [f"symbolic link {name} ignored" for name in skipped]


def prepare(
    layout: Layout, submission: Submission, exercises: list[Exercise], root: Path
) -> list[str]:
    """The scratch kit: the student's package, the instructor's tests around it."""
    root.mkdir(parents=True)
    (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    tests = root / "exercises"
    tests.mkdir()
    shutil.copyfile(layout.exercises / FAKES, tests / FAKES)
    for exercise in exercises:
        destination = tests / exercise.folder_name
        shutil.copytree(layout.folder(exercise), destination, ignore=NOT_FOR_TESTS)
    package = submission.folder / PACKAGE
    if not package.is_dir() or package.is_symlink():
        return [NO_PACKAGE]
    notes = copy_student_package(package, root / PACKAGE)
    return notes + suspicious_imports(root / PACKAGE)


def suspicious_imports(package: Path) -> list[str]:
    """Modules of the student's package that import pytest: code that may rig a run."""
    return [
        f"{path.relative_to(package.parent)} imports pytest or a conftest: read it"
        for path in sorted(package.rglob("*.py"))
        if SUSPECT_IMPORT.search(path.read_text(encoding="utf-8", errors="replace"))
    ]


def edited_test_files(
    layout: Layout, submission: Submission, exercises: list[Exercise]
) -> list[str]:
    """The student's copies of the conftest and tests that differ from the teacher's.

    They were not used; the note tells the teacher someone tried, or broke a file.
    """
    notes = []
    for exercise in exercises:
        for name in (CONFTEST, exercise.tests):
            theirs = submission.folder / "exercises" / exercise.folder_name / name
            ours = layout.folder(exercise) / name
            if theirs.is_file() and theirs.read_bytes() != ours.read_bytes():
                notes.append(
                    f"exercises/{exercise.folder_name}/{name} edited (ignored)"
                )
    return notes


def hints_shown(submission: Submission, exercise: Exercise) -> int:
    """The highest hint number the runner showed, from the file it keeps; 0 if none."""
    path = submission.folder / "exercises" / exercise.folder_name / HINTS_FILE
    if path.is_symlink() or not path.is_file():  # a link to /dev/zero would never end
        return 0
    try:
        number = int(path.read_text(encoding="utf-8", errors="replace").strip())
    except (OSError, ValueError):
        return 0
    return max(0, min(number, len(exercise.hints)))


def run_exercise(root: Path, exercise: Exercise, limits: Limits) -> tuple[int, str]:
    """Runs one exercise's tests in ``root``; the exit code (-1: timed out) and output.

    pytest runs in a session of its own, so a timeout kills the whole process group:
    the workers a student's arbiter forked go with it. Its output goes to a file, so
    a grandchild that keeps a pipe open cannot keep the grader waiting.
    """
    name = exercise.folder_name
    log = root / ".runs" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    environment = {**os.environ, WORK_ENV: str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    environment.update(ONE_PLUGIN)
    for variable in TEACHERS_ONLY_ENVIRONMENT:  # the teacher's pytest habits stay home
        environment.pop(variable, None)
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            pytest_command(root, exercise, limits),
            cwd=root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            exit_code = process.wait(timeout=limits.run)
        except subprocess.TimeoutExpired:
            exit_code = -1
        finally:
            kill_group(process.pid)
            process.wait()
    return exit_code, log.read_text(encoding="utf-8", errors="replace")


def pytest_command(root: Path, exercise: Exercise, limits: Limits) -> list[str]:
    """pytest on one exercise folder, configured by the scratch's own pytest.ini."""
    name = exercise.folder_name
    return [
        sys.executable,
        "-m",
        "pytest",
        str(root / "exercises" / name),
        "-c",
        str(root / "pytest.ini"),
        "--rootdir",
        str(root),
        "-q",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_timeout",
        f"--timeout={limits.test}",
        f"--junitxml={root / '.runs' / f'{name}.xml'}",
        f"--basetemp={root / '.runs' / f'{name}.tmp'}",
    ]


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def read_cases(report: Path) -> list[CaseResult]:
    """The test cases of a JUnit report, hidden ones marked by their folder."""
    if not report.is_file():
        return []
    cases = []
    for case in ElementTree.parse(report).iter("testcase"):
        classname = case.get("classname", "")
        hidden = ".hidden." in f".{classname}."
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        name = case.get("name", "?")
        if problem is not None:
            message = problem.get("message", "") or "failed"
            cases.append(CaseResult(name, hidden, message, problem.text or ""))
        elif case.find("skipped") is not None:
            cases.append(CaseResult(name, hidden, None, "", skipped=True))
        else:
            cases.append(CaseResult(name, hidden))
    return cases


def judge(
    exercise: Exercise, exit_code: int, cases: list[CaseResult], output: str
) -> tuple[str, str]:
    """The status of one run and its first failure, in one line."""
    failures = [case for case in cases if case.message is not None]
    if exit_code == -1:
        return TIMED_OUT, "the tests did not finish in time (a loop that never ends?)"
    if failures:
        return judge_failures(exercise, exit_code, failures)
    if exit_code != 0:
        meaning = PYTEST_EXITS.get(exit_code, f"pytest exited with {exit_code}")
        last = output.strip().splitlines()[-1:] or [""]
        return ERROR, one_line(f"{meaning}: {last[0]}")
    skipped = [case.name for case in cases if case.skipped]
    if skipped:
        return FAILING, f"{skipped[0]}: skipped; a graded test may not be skipped"
    if not any(case.passed and case.name != GUARD_TEST for case in cases):
        return ERROR, "only the guard test ran: nothing of the exercise was tested"
    return SOLVED, ""


def judge_failures(
    exercise: Exercise, exit_code: int, failures: list[CaseResult]
) -> tuple[str, str]:
    """Open when every failure is the exercise's own starter ``raise``, else failing."""
    first = f"{failures[0].name}: {summary(failures[0])}"
    raise_of_this_exercise = f"exercise {exercise.id}:"
    if all(raise_of_this_exercise in (case.message or "") for case in failures):
        return OPEN, first
    return (FAILING if exit_code == 1 else ERROR), first


def summary(case: CaseResult) -> str:
    """A failure in one line: pytest's message, or the error line of the traceback."""
    errors = [
        line[1:].strip() for line in case.details.splitlines() if line.startswith("E ")
    ]
    generic = case.message in ("", "failed", "collection failure") or (
        case.message or ""
    ).startswith("failed on setup")
    return one_line(errors[-1] if generic and errors else case.message or "")


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= FAILURE_LINE else text[: FAILURE_LINE - 3] + "..."


def grade_exercise(
    root: Path, submission: Submission, exercise: Exercise, limits: Limits
) -> ExerciseGrade:
    """Runs one exercise against one prepared submission and grades the run."""
    started = time.monotonic()
    exit_code, output = run_exercise(root, exercise, limits)
    cases = read_cases(root / ".runs" / f"{exercise.folder_name}.xml")
    status, first_failure = judge(exercise, exit_code, cases, output)
    if not cases:
        cases = [CaseResult("collection", False, first_failure or "no test ran")]
    return ExerciseGrade(
        exercise=exercise,
        status=status,
        points=exercise.points if status == SOLVED else 0,
        tests=tuple(cases),
        hints=hints_shown(submission, exercise),
        first_failure=first_failure,
        seconds=round(time.monotonic() - started, 1),
    )


def not_run(submission: Submission, exercise: Exercise, why: str) -> ExerciseGrade:
    """The grade of an exercise whose tests could not even start."""
    case = CaseResult("collection", False, why)
    hints = hints_shown(submission, exercise)
    return ExerciseGrade(exercise, ERROR, 0, (case,), hints, why, 0.0)


@dataclass(frozen=True)
class Options:
    """What the command line chose: which exercises, how many runs at once, limits."""

    exercises: list[Exercise]
    jobs: int
    limits: Limits
    threshold: float
    output: Path


def grade_class(
    layout: Layout, submissions: list[Submission], options: Options, out: TextIO
) -> list[StudentGrade]:
    """Grades every submission; prints one line per student as they finish."""
    with tempfile.TemporaryDirectory(prefix="minigun-grade-") as scratch:
        roots = [Path(scratch) / f"{n:03d}" for n in range(len(submissions))]
        notes = [
            prepare(layout, submission, options.exercises, root)
            + edited_test_files(layout, submission, options.exercises)
            for submission, root in zip(submissions, roots, strict=True)
        ]
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            futures = [
                schedule(pool, submission, root, note, options)
                for submission, root, note in zip(
                    submissions, roots, notes, strict=True
                )
            ]
            students = list(collect(submissions, futures, notes, out))
        packages = [root / PACKAGE for root in roots]
        similar = compare_class(
            layout, options.exercises, submissions, packages, options.threshold
        )
    write_gradebook(options.output, options.exercises, students)
    write_similarity(options.output, similar, options.threshold)
    return students


def schedule(
    pool: ThreadPoolExecutor,
    submission: Submission,
    root: Path,
    notes: list[str],
    options: Options,
) -> list[Future[ExerciseGrade]]:
    """One future per exercise; none to run when the submission has no package."""
    if not (root / PACKAGE).is_dir():
        done: list[Future[ExerciseGrade]] = []
        for exercise in options.exercises:
            future: Future[ExerciseGrade] = Future()
            future.set_result(not_run(submission, exercise, NO_PACKAGE))
            done.append(future)
        return done
    return [
        pool.submit(grade_exercise, root, submission, exercise, options.limits)
        for exercise in options.exercises
    ]


def collect(
    submissions: list[Submission],
    futures: list[list[Future[ExerciseGrade]]],
    notes: list[list[str]],
    out: TextIO,
) -> Iterator[StudentGrade]:
    """Each student's grade, in roster order, printed as soon as it is complete."""
    for submission, pending, note in zip(submissions, futures, notes, strict=True):
        student = StudentGrade(
            submission, tuple(f.result() for f in pending), tuple(note)
        )
        solved = sum(1 for grade in student.grades if grade.status == SOLVED)
        commit = submission.commit[:10] or "(no git)"
        out.write(
            f"{submission.student:<24} {commit:<10} {student.points:>3}/"
            f"{student.possible:<3} {solved}/{len(student.grades)} solved"
            f"{'  ' + '; '.join(note) if note else ''}\n"
        )
        out.flush()
        yield student


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m exercises.tool.grade",
        description="Grade a folder of student kits with the instructor's tests.",
    )
    parser.add_argument("submissions", type=Path, help="one student kit per folder")
    parser.add_argument("--exercises", help="ids or numbers, comma-separated (all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--test-timeout", type=int, default=TEST_TIMEOUT)
    parser.add_argument("--run-timeout", type=int, default=RUN_TIMEOUT)
    parser.add_argument("--threshold", type=float, default=0.9, help="similarity")
    parser.add_argument("--output", type=Path, help=f"folder (default {GRADE_FOLDER})")
    return parser.parse_args(argv)


def options_from(layout: Layout, arguments: argparse.Namespace) -> Options:
    catalogue = load_catalogue(layout.catalogue)
    chosen = catalogue
    if arguments.exercises:
        keys = [key.strip() for key in arguments.exercises.split(",") if key.strip()]
        wanted = {find_exercise(catalogue, key).id for key in keys}
        chosen = [exercise for exercise in catalogue if exercise.id in wanted]
    return Options(
        exercises=chosen,
        jobs=max(1, arguments.jobs),
        limits=Limits(arguments.test_timeout, arguments.run_timeout),
        threshold=arguments.threshold,
        output=arguments.output or layout.root / GRADE_FOLDER,
    )


def main(
    argv: list[str], layout: Layout | None = None, out: TextIO = sys.stdout
) -> int:
    """Grades the class; 0 when the gradebook is written, 2 for a usage error."""
    arguments = parse_arguments(argv)
    layout = layout or Layout(Path(__file__).resolve().parents[2])
    try:
        options = options_from(layout, arguments)
    except CatalogueError as error:
        print(error, file=sys.stderr)
        return 2
    if not arguments.submissions.is_dir():
        print(
            f"{arguments.submissions}: no such folder of submissions", file=sys.stderr
        )
        return 2
    if (arguments.submissions / PACKAGE).is_dir():
        print(
            f"{arguments.submissions} is one kit: give the folder that holds the kits",
            file=sys.stderr,
        )
        return 2
    submissions = find_submissions(arguments.submissions)
    if not submissions:
        print(f"{arguments.submissions}: no submission folder in it", file=sys.stderr)
        return 2
    students = grade_class(layout, submissions, options, out)
    out.write(
        f"{plural(len(students), 'submission')} graded on "
        f"{plural(len(options.exercises), 'exercise')}: "
        f"{options.output}/gradebook.csv, gradebook.json, junit/, similarity.md\n"
    )
    return 0


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
