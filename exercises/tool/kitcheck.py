"""``make check-kit``: the student kit, built in a temporary folder, proved from
outside.

CI runs it. It builds the kit exactly as ``make student-kit`` does, then proves:

0. its shape: one commit and nothing uncommitted, no bytecode, no wrong answer, no
   hidden test, no teacher's module in the runner, every hole cut once and no
   region marker left;
a. no reference line (:mod:`.leaks`) in any file of it, built pages included;
b. as shipped, each exercise fails: its guard test passes and every other test fails
   with that exercise's own ``NotImplementedError`` (not another hole's);
c. each hole filled alone with the reference (every other hole still cut), that
   exercise's tests pass;
d. every hole filled, the kit's own commands work: ``make test`` passes, ``make
   exercise`` says everything is solved, and ``make run`` serves a 200 on 127.0.0.1.

The kit's commands run with this repository's Python (``make -o .venv/.installed
PY=...``): a fresh virtual environment per check would cost minutes and prove pip, not
the kit. Every server is started in its own process group and stopped by that id.
"""

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from .catalogue import Exercise, load_catalogue
from .holes import load_holes, open_holes
from .kit import RUNNER_MODULES, KitError, build_kit, parse_books
from .layout import Layout
from .leaks import find_leaks, reference_lines
from .regions import ANY_MARKER
from .results import (
    EXIT_OK,
    EXIT_TESTS_FAILED,
    GUARD_TEST,
    Outcome,
    run_exercises,
    run_tests,
)
from .workcopy import write_one_hole_filled, write_reference

TEACHER_FILES = ("wrong.txt", "hidden")
STAMP = ".venv/.installed"  # the kit Makefile's "installed" stamp, never remade here
COMMAND_TIMEOUT = 300  # seconds for the kit's whole `make test`
SERVE_TIMEOUT = 30  # seconds for `make run` to answer
STOP_TIMEOUT = 15
HTTP_OK = 200
SHOWN_LEAKS = 40  # a broken build can leak hundreds of lines: show the first ones


def check_kit(
    layout: Layout, books: dict[str, Path], out: TextIO, jobs: int | None = None
) -> int:
    """Builds the kit in a temporary folder and runs every proof; 1 if any fails."""
    exercises = load_catalogue(layout.catalogue)
    with tempfile.TemporaryDirectory(prefix="minigun-kit-") as scratch:
        kit = Layout(Path(scratch) / "student-kit", layout.package_name)
        build_kit(layout, kit.root, books)
        sections = [
            ("shape", lambda: shape_problems(kit, exercises)),
            ("a. no reference line", lambda: leak_problems(layout, kit)),
            (
                "b. each exercise fails as shipped",
                lambda: shipped_problems(kit, exercises),
            ),
            (
                "c. each hole filled alone passes",
                lambda: one_hole_problems(layout, kit, exercises, Path(scratch), jobs),
            ),
            (
                "d. every hole filled: test, exercise, run",
                lambda: filled_problems(layout, kit, Path(scratch)),
            ),
        ]
        failed = 0
        for title, run in sections:
            started = time.monotonic()
            problems = run()
            seconds = time.monotonic() - started
            out.write(f"{'FAIL' if problems else 'ok  '} {title} ({seconds:.0f} s)\n")
            out.writelines(f"  - {problem}\n" for problem in problems)
            out.flush()
            failed += bool(problems)
    verdict = f"{failed} of {len(sections)} failed" if failed else "all proved"
    out.write(f"student kit: {verdict}\n")
    return 1 if failed else 0


def shape_problems(kit: Layout, exercises: list[Exercise]) -> list[str]:
    """One commit and a clean tree; nothing of the teacher's; every hole cut, once."""
    return [
        *repository_problems(kit),
        *file_problems(kit),
        *package_problems(kit, exercises),
    ]


def repository_problems(kit: Layout) -> list[str]:
    problems = []
    commits = git(kit.root, "rev-list", "--count", "HEAD").strip()
    if commits != "1":
        problems.append(f"the kit's repository has {commits} commits, expected 1")
    if git(kit.root, "status", "--porcelain", "--ignored").strip():
        problems.append("the kit's tree differs from its one commit")
    return problems


def file_problems(kit: Layout) -> list[str]:
    """No bytecode, no wrong answer or hidden test, and the runner's modules only."""
    problems = []
    for path in sorted(kit.root.rglob("*")):
        relative = path.relative_to(kit.root)
        if relative.parts[0] == ".git":
            continue
        if path.name == "__pycache__" or path.suffix == ".pyc":
            problems.append(f"{relative}: bytecode in the kit")
        if path.name in TEACHER_FILES:
            problems.append(f"{relative}: the teacher's, in the kit")
    tool = {path.name for path in (kit.exercises / "tool").iterdir()}
    if tool != set(RUNNER_MODULES):
        problems.append(f"exercises/tool holds {sorted(tool)}, expected the runner")
    return problems


def package_problems(kit: Layout, exercises: list[Exercise]) -> list[str]:
    """Every hole cut, no marker left, and no function holding two holes (reset
    puts back one function, so it must hold one hole)."""
    problems = []
    still_open = open_holes(kit.package)
    missing = [e.id for e in exercises if e.id not in still_open]
    if missing:
        problems.append(f"holes not cut in the kit's minigun/: {missing}")
    for path in sorted(kit.package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if any(ANY_MARKER.match(line) for line in text.splitlines()):
            problems.append(f"{kit.relative(path)}: a region marker is left")
    places = Counter(
        (hole.file, hole.function) for hole in load_holes(kit.holes).values()
    )
    problems += [
        f"{file}: {function} holds {count} holes; reset could not undo one alone"
        for (file, function), count in places.items()
        if count > 1
    ]
    return problems


def leak_problems(layout: Layout, kit: Layout) -> list[str]:
    """(a) Every reference line found anywhere in the kit."""
    references = reference_lines(layout.package)
    leaks = find_leaks(kit.root, references)
    problems = [leak.describe(kit.root) for leak in leaks[:SHOWN_LEAKS]]
    if len(leaks) > SHOWN_LEAKS:
        problems.append(f"... and {len(leaks) - SHOWN_LEAKS} more")
    return problems


def shipped_problems(kit: Layout, exercises: list[Exercise]) -> list[str]:
    """(b) As shipped, each exercise fails, each test with its own exercise's raise."""
    outcomes = run_exercises(kit, exercises)
    problems = []
    for exercise in exercises:
        outcome = outcomes[exercise.number]
        where = exercise.folder_name
        if outcome.exit_code != EXIT_TESTS_FAILED:
            problems.append(f"{where}: {outcome.meaning}; expected its tests to fail")
            continue
        if GUARD_TEST not in outcome.passed:
            problems.append(f"{where}: the guard test {GUARD_TEST} did not pass")
        if outcome.checks_passed:
            problems.append(
                f"{where}: {list(outcome.checks_passed)} pass with the hole"
            )
        own = f"exercise {exercise.id}:"
        others = [
            f"{failure.test} ({first_line(failure.message)})"
            for failure in outcome.failures
            if "NotImplementedError" not in failure.message
            or own not in failure.message
        ]
        if others:
            problems.append(
                f"{where}: {len(others)} test(s) fail but not with its own hole, "
                f"first {others[0]}"
            )
    return problems


def one_hole_problems(
    layout: Layout,
    kit: Layout,
    exercises: list[Exercise],
    scratch: Path,
    jobs: int | None,
) -> list[str]:
    """(c) Each exercise's tests pass with its hole alone filled with the reference."""

    def verdict(exercise: Exercise) -> list[str]:
        copy = scratch / f"one-hole-{exercise.folder_name}"
        write_one_hole_filled(layout, exercise, copy)
        return passing_problems(exercise.folder_name, run_tests(kit, exercise, copy))

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        return [problem for found in pool.map(verdict, exercises) for problem in found]


def passing_problems(where: str, outcome: Outcome) -> list[str]:
    if outcome.exit_code != EXIT_OK:
        first = outcome.failures[0] if outcome.failures else None
        detail = (
            f" ({len(outcome.failures)} failing, first {first.test}: "
            f"{first_line(first.message)})"
            if first
            else ""
        )
        return [f"{where}: {outcome.meaning}{detail}"]
    if outcome.skipped:
        return [f"{where}: {list(outcome.skipped)} skipped"]
    if not outcome.checks_passed:
        return [f"{where}: no test besides the guard"]
    return []


def filled_problems(layout: Layout, kit: Layout, scratch: Path) -> list[str]:
    """(d) The kit with the reference in every hole: its test, exercise and run."""
    filled = scratch / "filled"
    shutil.copytree(kit.root, filled, symlinks=True)
    write_reference(layout, scratch / "reference")
    shutil.rmtree(filled / layout.package_name)
    shutil.copytree(
        scratch / "reference" / layout.package_name, filled / layout.package_name
    )
    problems = []
    tested = make(filled, "test")
    if tested.returncode != 0:
        tail = tested.stdout.strip().splitlines()[-20:]
        problems.append("`make test` failed:\n    " + "\n    ".join(tail))
    shown = make(filled, "exercise")
    if "All " not in shown.stdout or shown.returncode != 0:
        problems.append(f"`make exercise` with every hole filled said:\n{shown.stdout}")
    problems += run_problems(filled)
    return problems


def make(folder: Path, target: str) -> subprocess.CompletedProcess[str]:
    """The kit's ``make TARGET``, with this Python instead of the kit's own venv."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", STAMP, target, f"PY={sys.executable}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        env={**os.environ, "LANG": "C.UTF-8", "LANGUAGE": "", "LC_ALL": ""},
    )


def run_problems(folder: Path) -> list[str]:
    """``make run`` on a free port of 127.0.0.1 must answer ``GET /`` with a 200."""
    port = free_port()
    with started(folder, port) as server:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(OSError):
                if get_status(port) == HTTP_OK:
                    return []
            time.sleep(0.2)
    output = server.stdout.read() if server.stdout else ""
    return [f"`make run` did not serve a 200 on 127.0.0.1:{port}:\n{output[-2000:]}"]


@contextlib.contextmanager
def started(folder: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """``make run`` in its own process group, stopped by that id on the way out."""
    server = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "-o",
            STAMP,
            "run",
            f"PY={sys.executable}",
            f"PORT={port}",
        ],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield server
    finally:
        stop_group(server)


def stop_group(process: subprocess.Popen[str]) -> None:
    """TERM to the process group (a graceful stop), KILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            continue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_status(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    finally:
        connection.close()


def git(folder: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def first_line(text: str) -> str:
    return text.strip().splitlines()[0][:160] if text.strip() else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m exercises.tool.kitcheck")
    parser.add_argument("--book", action="append", default=[], help="LANGUAGE=FOLDER")
    parser.add_argument("--jobs", type=int, help="parallel test runs for proof c")
    arguments = parser.parse_args(argv)
    layout = Layout(Path(__file__).resolve().parents[2])
    try:
        books = parse_books(arguments.book)
        return check_kit(layout, books, sys.stdout, arguments.jobs)
    except KitError as error:
        print(f"check-kit: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
