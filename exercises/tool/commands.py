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
import re
import shutil
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from .book import Book
from .catalogue import Exercise, find_exercise, load_catalogue
from .layout import Layout
from .messages import is_chinese, say
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
# An ASCII word, spaces, or one character; closing punctuation stays with what it ends.
UNBREAKABLE = re.compile(r"(?:[\x21-\x7e]+|\s+|.)[，。：；）！？、”]*")
ENGLISH_TASK, CHINESE_TASK = "README.md", "README.zh_CN.md"
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
        out.write(say("all_solved", total=len(exercises)) + "\n")
        return None
    if named is None:
        out.write(just_solved_line(layout, exercises, outcomes, exercise))
    if ensure_work_copy(layout, exercise) or exercise.number not in outcomes:
        outcomes[exercise.number] = run_tests(layout, exercise, layout.work(exercise))
    out.write(describe(layout, exercise, len(exercises), outcomes[exercise.number]))
    if outcomes[exercise.number].solved:
        out.write(next_line(layout, exercises, outcomes, exercise))
    out.write(progress_bar(len(exercises), outcomes))
    return exercise


def just_solved_line(
    layout: Layout,
    exercises: list[Exercise],
    outcomes: dict[int, Outcome],
    shown: Exercise,
) -> str:
    """The success line for the exercise just before the one shown, if it passes."""
    before = [e for e in exercises if e.number < shown.number]
    if not before or not outcomes.get(before[-1].number, Outcome(1)).solved:
        return ""
    done = before[-1]
    return passed_line(layout, done, outcomes[done.number]) + "\n\n"


def next_line(
    layout: Layout,
    exercises: list[Exercise],
    outcomes: dict[int, Outcome],
    solved: Exercise,
) -> str:
    """After a solved exercise: which one comes next."""
    later = [e for e in exercises if e.number > solved.number]
    upcoming = first_unsolved(later, outcomes)
    if upcoming is None:
        return say("nothing_next") + "\n\n"
    title = title_of(layout, upcoming)
    return say("next", number=upcoming.number, title=title, id=upcoming.id) + "\n\n"


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
    chapter = (
        say("chapter_number", number=number)
        if number
        else f"book/{exercise.chapter}.md"
    )
    place = edit_place(layout, exercise)
    title = title_of(layout, exercise)
    lines = [
        say(
            "heading", number=exercise.number, total=total, title=title, chapter=chapter
        ),
        say("task", path=layout.relative(task_file(layout, exercise))),
        say("read", reference=chapter_reference(book, exercise.chapter)),
        say(
            "edit",
            path=layout.relative(place.path),
            line=place.line,
            function=place.function,
        ),
        "",
    ]
    if outcome.solved:
        lines += solved_lines(layout, exercise, outcome)
    else:
        lines += failure_lines(outcome)
        lines += ["", hint_text(exercise, 1)]
        lines += [say("next_hint", id=exercise.id)]
    return "\n".join(lines) + "\n\n"


def title_of(layout: Layout, exercise: Exercise) -> str:
    """The exercise's title in the student's language.

    The Chinese title is the heading of the Chinese task (``# 练习 3：加载应用``), so
    the catalogue keeps one title and the task file the translation of it.
    """
    if not is_chinese():
        return exercise.title
    heading = first_heading(task_file(layout, exercise))
    return heading.partition("：")[2].strip() or exercise.title


def task_file(layout: Layout, exercise: Exercise) -> Path:
    """``README.zh_CN.md`` for a Chinese student, when it exists; else ``README.md``."""
    chinese = layout.folder(exercise) / CHINESE_TASK
    if is_chinese() and chinese.is_file():
        return chinese
    return layout.folder(exercise) / ENGLISH_TASK


def first_heading(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    return next((line[2:].strip() for line in lines if line.startswith("# ")), "")


def hints_of(exercise: Exercise) -> tuple[str, ...]:
    """The hints in the student's language (English while no translation exists)."""
    if is_chinese() and exercise.hints_zh_CN:
        return exercise.hints_zh_CN
    return exercise.hints


def chapter_reference(book: Book, stem: str) -> str:
    title = book.title(stem)
    path = f"book/{stem}.md"
    return say("chapter_reference", path=path, title=title) if title else path


def passed_line(layout: Layout, exercise: Exercise, outcome: Outcome) -> str:
    title = title_of(layout, exercise)
    passed = len(outcome.passed)
    return say("passed", number=exercise.number, title=title, passed=passed)


def solved_lines(layout: Layout, exercise: Exercise, outcome: Outcome) -> list[str]:
    return [
        passed_line(layout, exercise, outcome),
        say("solution_offer", id=exercise.id),
    ]


def failure_lines(outcome: Outcome) -> list[str]:
    """The first failing test with its short traceback (its last lines), or why none."""
    if not outcome.failures:
        tail = outcome.output.strip().splitlines()[-TRACEBACK_LINES:]
        return [say("did_not_run", meaning=outcome.meaning), *tail]
    first: Failure = outcome.failures[0]
    failing = len(outcome.failures)
    if outcome.exit_code == EXIT_INTERRUPTED:
        lines = [say("could_not_start", meaning=outcome.meaning)]
    else:
        count = failing + len(outcome.passed)
        lines = [say("failed", test=first.test, failing=failing, count=count)]
    traceback = first.details.strip().splitlines()[-TRACEBACK_LINES:]
    return lines + [f"  {line}" for line in traceback]


def progress_bar(total: int, outcomes: dict[int, Outcome]) -> str:
    solved = sum(1 for outcome in outcomes.values() if outcome.solved)
    filled = PROGRESS_WIDTH * solved // max(total, 1)
    bar = "#" * filled + "-" * (PROGRESS_WIDTH - filled)
    return say("progress", bar=bar, solved=solved, total=total) + "\n"


def show_hint(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make hint [EX=...]``: the next hint each time, cycling back to the first."""
    exercises = load_catalogue(layout.catalogue)
    if key:
        exercise = find_exercise(exercises, key)
    else:
        exercise = first_unsolved(exercises, survey(layout, exercises))
    if exercise is None:
        out.write(say("no_hint_needed") + "\n")
        return 0
    ensure_work_copy(layout, exercise)
    number = next_hint(layout, exercise)
    title = title_of(layout, exercise)
    out.write(say("hint_heading", number=exercise.number, title=title) + "\n")
    out.write(hint_text(exercise, number) + "\n")
    return 0


def hint_text(exercise: Exercise, number: int) -> str:
    """``Hint 2/3: ...``, wrapped to the terminal's usual width."""
    hints = hints_of(exercise)
    text = say("hint", number=number, total=len(hints), text=hints[number - 1])
    return fill(text, TEXT_WIDTH, indent="  ")


def fill(text: str, width: int, indent: str) -> str:
    """Wraps ``text`` to ``width`` terminal columns, Chinese as well as English.

    :func:`textwrap.fill` breaks only at spaces and counts characters, but Chinese has
    no spaces and each of its characters takes two columns. So the text is cut into
    pieces that may not be split (a run of ASCII such as ``listener.accept()``, one
    wide character, or a space) and laid out greedily by their width.
    """
    lines, line, used = [], "", 0
    for piece in UNBREAKABLE.findall(text):
        size = display_width(piece)
        if line and used + size > width and not piece.isspace():
            lines.append(line.rstrip())
            line, used = indent, len(indent)
        if piece.isspace() and line.strip() == "":
            continue  # no space at the start of a continued line
        line, used = line + piece, used + size
    return "\n".join([*lines, line.rstrip()])


def display_width(text: str) -> int:
    """Terminal columns: two for a wide (East Asian) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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
        out.write(say("reset_which") + "\n")
        return 2
    exercise = find_exercise(load_catalogue(layout.catalogue), key)
    work = layout.work(exercise)
    if (work / layout.package_name).is_dir():
        backup = backup_folder(layout, exercise)
        question = say(
            "reset_question",
            work=layout.relative(work),
            backup=layout.relative(backup),
        )
        answer = ask_once(ask, question)
        if answer not in YES:
            out.write(say("nothing_changed") + "\n")
            return 0 if answer is not None else NOT_ASKED
        shutil.copytree(work, backup)
        out.write(say("work_saved", backup=layout.relative(backup)) + "\n")
    reset_work_copy(layout, exercise)
    fresh = layout.relative(work / layout.package_name)
    out.write(
        say("fresh_starter", number=exercise.number, id=exercise.id, path=fresh) + "\n"
    )
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
        chapter = (
            say("chapter_short", number=number, chapter=exercise.chapter)
            if number
            else exercise.chapter
        )
        out.write(
            f"{exercise.number:2d}  {exercise.id:<19} {chapter:<22} "
            f"{status_text(outcomes.get(exercise.number))}\n"
        )
    out.write(progress_bar(len(exercises), outcomes))
    return 0


def status_text(outcome: Outcome | None) -> str:
    if outcome is None:
        return say("not_started")
    if outcome.solved:
        return say("solved")
    passed, failed = len(outcome.passed), len(outcome.failures)
    if not failed:
        return say("not_running", meaning=outcome.meaning)
    return say("failing", passed=passed, count=passed + failed)


def show_solution(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make solution EX=...``: the reference's diff, once the exercise passes."""
    if not key:
        out.write(say("solution_which") + "\n")
        return 2
    exercise = find_exercise(load_catalogue(layout.catalogue), key)
    ensure_work_copy(layout, exercise)
    if not run_tests(layout, exercise, layout.work(exercise)).solved:
        out.write(say("solution_locked", number=exercise.number, id=exercise.id) + "\n")
        return 1
    out.write(solution_diffs(layout, exercise))
    return 0


def solution_diffs(layout: Layout, exercise: Exercise) -> str:
    """The reference against the starter, then the student's file against both."""
    original = (layout.root / exercise.file).read_text(encoding="utf-8")
    starter = cut(original, exercise.region, starter_message(layout, exercise))
    reference = strip_markers(original)
    yours = (layout.work(exercise) / exercise.file).read_text(encoding="utf-8")
    parts = [say("reference_diff", file=exercise.file) + "\n"]
    parts += unified(starter, reference, "starter", "reference")
    if yours == reference:
        parts.append("\n" + say("yours_is_reference") + "\n")
    else:
        parts.append("\n" + say("yours_against_reference") + "\n")
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
            out.write(say("file_changed", time=now) + "\n")
        exercise = present(layout, key, out)
        out.flush()
        shown += 1
        if exercise is None:
            return 0
        if rounds is None or shown < rounds:
            out.write(say("watching") + "\n")
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
