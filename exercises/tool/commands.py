"""The student's commands: ``exercise``, ``hint``, ``watch``, ``reset``, ``solution``,
``list``.

Each takes the project's :class:`Layout`, the exercise asked for (an id, a number, or
None for "the first unsolved one") and the stream to write to, and returns an exit
status. No progress file exists: the first unsolved exercise is found by running the
tests of every work copy, and an exercise without a work copy is simply not started.
"""

import datetime
import difflib
import os
import shutil
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from .book import Book
from .catalogue import Exercise, find_exercise, load_catalogue
from .layout import Layout
from .regions import cut, strip_markers
from .results import EXIT_INTERRUPTED, Failure, Outcome, run_tests
from .workcopy import (
    edit_place,
    ensure_work_copy,
    next_hint,
    reset_work_copy,
    starter_message,
)

PROGRESS_WIDTH = 30
TEXT_WIDTH = 88
TRACEBACK_LINES = 14
CLEAR_SCREEN = "\x1b[2J\x1b[H"


def show_exercise(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make exercise [EX=...]``: the exercise, where to edit, what fails, a hint."""
    present(layout, key, out)
    return 0


def present(layout: Layout, key: str | None, out: TextIO) -> Exercise | None:
    """Shows one exercise (the first unsolved one unless ``key`` names one)."""
    exercises = load_catalogue(layout.catalogue)
    named = find_exercise(exercises, key) if key else None
    outcomes = survey(layout, exercises)
    exercise = named or first_unsolved(exercises, outcomes)
    if exercise is None:
        out.write(f"All {len(exercises)} exercises are solved. Well done!\n")
        return None
    if named is None:
        out.write(just_solved_line(exercises, outcomes, exercise))
    if ensure_work_copy(layout, exercise) or exercise.number not in outcomes:
        outcomes[exercise.number] = run_tests(layout, exercise, layout.work(exercise))
    out.write(describe(layout, exercise, len(exercises), outcomes[exercise.number]))
    if outcomes[exercise.number].solved:
        out.write(next_line(exercises, outcomes, exercise))
    out.write(progress_bar(len(exercises), outcomes))
    return exercise


def just_solved_line(
    exercises: list[Exercise], outcomes: dict[int, Outcome], shown: Exercise
) -> str:
    """The success line for the exercise just before the one shown, if it passes."""
    before = [e for e in exercises if e.number < shown.number]
    if not before or not outcomes.get(before[-1].number, Outcome(1)).solved:
        return ""
    done = before[-1]
    passed = len(outcomes[done.number].passed)
    return f"PASSED exercise {done.number} ({done.title}): all {passed} tests pass.\n\n"


def next_line(
    exercises: list[Exercise], outcomes: dict[int, Outcome], solved: Exercise
) -> str:
    """After a solved exercise: which one comes next."""
    later = [e for e in exercises if e.number > solved.number]
    upcoming = first_unsolved(later, outcomes)
    if upcoming is None:
        return "Next: nothing left after this one.\n\n"
    return (
        f"Next: exercise {upcoming.number}, {upcoming.title} "
        f"(`make exercise EX={upcoming.id}`)\n\n"
    )


def survey(layout: Layout, exercises: list[Exercise]) -> dict[int, Outcome]:
    """Runs the tests of every exercise that has a work copy, a few at a time."""
    started = [e for e in exercises if (layout.work(e) / layout.package_name).is_dir()]

    def run(exercise: Exercise) -> Outcome:
        return run_tests(layout, exercise, layout.work(exercise))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        outcomes = list(pool.map(run, started))
    return {e.number: outcome for e, outcome in zip(started, outcomes, strict=True)}


def first_unsolved(
    exercises: list[Exercise], outcomes: dict[int, Outcome]
) -> Exercise | None:
    """The first exercise whose work copy is missing or fails its tests."""
    for exercise in exercises:
        outcome = outcomes.get(exercise.number)
        if outcome is None or not outcome.solved:
            return exercise
    return None


def describe(layout: Layout, exercise: Exercise, total: int, outcome: Outcome) -> str:
    """The heading, the places to read and edit, then the verdict and a hint."""
    book = Book(layout.book)
    number = book.number(exercise.chapter)
    chapter = f"chapter {number}" if number else f"book/{exercise.chapter}.md"
    place = edit_place(layout, exercise)
    lines = [
        f"Exercise {exercise.number}/{total}: {exercise.title} ({chapter})",
        f"  task  {layout.relative(layout.folder(exercise) / 'README.md')}",
        f"  read  {chapter_reference(book, exercise.chapter)}",
        f"  edit  {layout.relative(place.path)}:{place.line}, in {place.function}",
        "",
    ]
    if outcome.solved:
        lines += solved_lines(exercise, outcome)
    else:
        lines += failure_lines(outcome)
        lines += ["", hint_text(exercise, 1)]
        lines += [f"  (`make hint EX={exercise.id}` for the next one)"]
    return "\n".join(lines) + "\n\n"


def chapter_reference(book: Book, stem: str) -> str:
    title = book.title(stem)
    return f"book/{stem}.md" + (f", {title!r}" if title else "")


def solved_lines(exercise: Exercise, outcome: Outcome) -> list[str]:
    return [
        f"PASSED exercise {exercise.number} ({exercise.title}): "
        f"all {len(outcome.passed)} tests pass.",
        f"  `make solution EX={exercise.id}` compares your code with the reference.",
    ]


def failure_lines(outcome: Outcome) -> list[str]:
    """The first failing test with its short traceback (its last lines), or why none."""
    if not outcome.failures:
        tail = outcome.output.strip().splitlines()[-TRACEBACK_LINES:]
        return [f"The tests did not run: {outcome.meaning}.", *tail]
    first: Failure = outcome.failures[0]
    failing = len(outcome.failures)
    if outcome.exit_code == EXIT_INTERRUPTED:
        lines = [f"ERROR: the tests could not start ({outcome.meaning}):"]
    else:
        count = failing + len(outcome.passed)
        lines = [f"FAILED {first.test} ({failing} of {count} fail)"]
    traceback = first.details.strip().splitlines()[-TRACEBACK_LINES:]
    return lines + [f"  {line}" for line in traceback]


def progress_bar(total: int, outcomes: dict[int, Outcome]) -> str:
    solved = sum(1 for outcome in outcomes.values() if outcome.solved)
    filled = PROGRESS_WIDTH * solved // max(total, 1)
    bar = "#" * filled + "-" * (PROGRESS_WIDTH - filled)
    return f"Progress [{bar}] {solved}/{total} solved\n"


def show_hint(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make hint [EX=...]``: the next hint each time, cycling back to the first."""
    exercises = load_catalogue(layout.catalogue)
    if key:
        exercise = find_exercise(exercises, key)
    else:
        exercise = first_unsolved(exercises, survey(layout, exercises))
    if exercise is None:
        out.write("Every exercise is solved: no hint needed.\n")
        return 0
    ensure_work_copy(layout, exercise)
    number = next_hint(layout, exercise)
    out.write(f"Exercise {exercise.number}: {exercise.title}\n")
    out.write(hint_text(exercise, number) + "\n")
    return 0


def hint_text(exercise: Exercise, number: int) -> str:
    """``Hint 2/3: ...``, wrapped to the terminal's usual width."""
    text = f"Hint {number}/{len(exercise.hints)}: {exercise.hints[number - 1]}"
    return textwrap.fill(text, width=TEXT_WIDTH, subsequent_indent="  ")


BACKUPS = "backups"
YES = ("y", "yes")
NOT_ASKED = 1  # the exit status when reset could not ask and was not told --yes


def reset(
    layout: Layout,
    key: str | None,
    out: TextIO,
    ask: Callable[[str], str] | None = None,
) -> int:
    """``make reset EX=...``: a fresh starter, after asking; the old copy is kept.

    ``ask`` shows a question and returns the answer (``input`` when the tool runs
    in a terminal). Without a terminal to ask in, nothing is thrown away unless the
    student said so in advance (``make reset EX=... YES=1``), and the status is 1.
    """
    if not key:
        out.write("Say which exercise to reset: make reset EX=<id or number>\n")
        return 2
    exercise = find_exercise(load_catalogue(layout.catalogue), key)
    work = layout.work(exercise)
    if (work / layout.package_name).is_dir():
        backup = backup_folder(layout, exercise)
        question = (
            f"Throw away your work in {layout.relative(work)}? "
            f"A copy is kept in {layout.relative(backup)}. [y/N] "
        )
        answer = ask_once(ask, question)
        if answer not in YES:
            out.write("Nothing was changed.\n")
            return 0 if answer is not None else NOT_ASKED
        shutil.copytree(work, backup)
        out.write(f"Your work is saved in {layout.relative(backup)}\n")
    reset_work_copy(layout, exercise)
    fresh = layout.relative(work / layout.package_name)
    out.write(f"Exercise {exercise.number} ({exercise.id}): fresh starter in {fresh}\n")
    return 0


def backup_folder(layout: Layout, exercise: Exercise) -> Path:
    """``exercises/NN-id/backups/<date-time>/``: git-ignored, one per reset."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return layout.folder(exercise) / BACKUPS / stamp


def ask_once(ask: Callable[[str], str] | None, question: str) -> str | None:
    """The answer, lower case; None when there is nobody to ask."""
    if ask is None:
        return None
    try:
        return ask(question).strip().lower()
    except EOFError:
        return None


def list_exercises(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make list``: every exercise, its chapter and its status, from its tests."""
    exercises = load_catalogue(layout.catalogue)
    outcomes = survey(layout, exercises)
    book = Book(layout.book)
    for exercise in exercises:
        number = book.number(exercise.chapter)
        chapter = f"ch. {number} {exercise.chapter}" if number else exercise.chapter
        out.write(
            f"{exercise.number:2d}  {exercise.id:<19} {chapter:<22} "
            f"{status_text(outcomes.get(exercise.number))}\n"
        )
    out.write(progress_bar(len(exercises), outcomes))
    return 0


def status_text(outcome: Outcome | None) -> str:
    if outcome is None:
        return "not started"
    if outcome.solved:
        return "solved"
    passed, failed = len(outcome.passed), len(outcome.failures)
    if not failed:
        return f"not running ({outcome.meaning})"
    return f"failing ({passed} of {passed + failed} pass)"


def show_solution(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make solution EX=...``: the reference's diff, once the exercise passes."""
    if not key:
        out.write("Say which exercise: make solution EX=<id or number>\n")
        return 2
    exercise = find_exercise(load_catalogue(layout.catalogue), key)
    ensure_work_copy(layout, exercise)
    if not run_tests(layout, exercise, layout.work(exercise)).solved:
        out.write(
            f"Exercise {exercise.number} is not solved yet; the solution opens once "
            f"its tests pass. `make exercise EX={exercise.id}` shows what fails.\n"
        )
        return 1
    out.write(solution_diffs(layout, exercise))
    return 0


def solution_diffs(layout: Layout, exercise: Exercise) -> str:
    """The reference against the starter, then the student's file against both."""
    original = (layout.root / exercise.file).read_text(encoding="utf-8")
    starter = cut(original, exercise.region, starter_message(layout, exercise))
    reference = strip_markers(original)
    yours = (layout.work(exercise) / exercise.file).read_text(encoding="utf-8")
    parts = [f"The reference for {exercise.file}, as a change to the starter:\n"]
    parts += unified(starter, reference, "starter", "reference")
    if yours == reference:
        parts.append("\nYour file is the reference, line for line.\n")
    else:
        parts.append("\nYour file against the reference:\n")
        parts += unified(yours, reference, "yours", "reference")
    return "".join(parts)


def unified(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    )
    return [line if line.endswith("\n") else line + "\n" for line in lines]


def watch(
    layout: Layout,
    key: str | None,
    out: TextIO,
    poll_seconds: float = 0.5,
    rounds: int | None = None,
) -> int:
    """``make watch [EX=...]``: shows the exercise again after every save, until solved.

    Without ``EX`` it follows the student: once an exercise passes, the next save shows
    the next unsolved one. ``rounds`` bounds the loop for tests; Ctrl-C ends it.
    """
    shown = 0
    terminal = out.isatty()
    while rounds is None or shown < rounds:
        if terminal:
            out.write(CLEAR_SCREEN)
        elif shown:  # a log, not a screen: say why the output starts again
            now = datetime.datetime.now().strftime("%H:%M:%S")
            out.write(f"--- {now}: a file changed, running the tests again\n")
        exercise = present(layout, key, out)
        out.flush()
        shown += 1
        if exercise is None:
            return 0
        if rounds is None or shown < rounds:
            out.write("Watching for saves (Ctrl-C to stop)...\n")
            out.flush()
            wait_for_change(layout.folder(exercise), poll_seconds)
    return 0


def wait_for_change(
    folder: Path, poll_seconds: float, timeout: float | None = None
) -> bool:
    """Polls the modification times under ``folder`` until one changes (True)."""
    before = snapshot(folder)
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        time.sleep(poll_seconds)
        if snapshot(folder) != before:
            return True
    return False


def snapshot(folder: Path) -> dict[Path, int]:
    """Every Python file under ``folder`` with its modification time in nanoseconds.

    An editor may replace a file while it is being looked at; a file that vanished
    between listing and ``stat`` counts as changed at the next poll.
    """
    times = {}
    for path in folder.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        try:
            times[path] = path.stat().st_mtime_ns
        except FileNotFoundError:
            times[path] = -1
    return times
