"""The student's commands: ``exercise``, ``hint``, ``watch``, ``reset``, ``list``,
``holes``.

Each takes the project's :class:`Layout`, the exercise asked for (an id, a number, or
None for "the first unsolved one") and the stream to write to, and returns an exit
status. They run in the student kit, where the student fills the holes of ``minigun/``
in place, one package for every exercise. No progress file exists: the first unsolved
exercise is found by running every exercise's tests (one pytest run, see
:func:`~.results.run_exercises`), so nothing can get out of step with the code.
"""

import datetime
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .catalogue import CatalogueError, Exercise, find_exercise, load_catalogue
from .chapters import Chapters
from .hints import hints_shown, record_hint
from .holes import ResetError, edit_place, load_holes, open_holes, restore
from .layout import BACKUPS, Layout
from .messages import is_chinese, say
from .results import (
    EXIT_INTERRUPTED,
    EXIT_TESTS_FAILED,
    Failure,
    Outcome,
    run_exercises,
)
from .wrap import display_width, fill, pad

PROGRESS_WIDTH = 30
TEXT_WIDTH = 88
ENGLISH_TASK, CHINESE_TASK = "README.md", "README.zh_CN.md"
TRACEBACK_LINES = 14
# The hole's error as a traceback shows it (catalogue.Exercise.starter_message).
HOLE_ERROR = re.compile(
    r"NotImplementedError: (?P<message>exercise (?P<id>[\w-]+): .*)$"
)
CLEAR_SCREEN = "\x1b[2J\x1b[H"


def show_exercise(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make exercise [EX=...]``: the exercise, where to edit, what fails, a hint."""
    present(layout, key, out)
    return 0


def present(layout: Layout, key: str | None, out: TextIO) -> Exercise | None:
    """Shows one exercise (the first unsolved one unless ``key`` names one)."""
    require_kit(layout)
    exercises = load_catalogue(layout.catalogue)
    named = find_exercise(exercises, key) if key else None
    outcomes = survey(layout, exercises)
    exercise = named or first_unsolved(exercises, outcomes)
    if exercise is None:
        out.write(say("all_solved", total=len(exercises)) + "\n")
        return None
    if named is None:
        out.write(just_solved_line(layout, exercises, outcomes, exercise))
    outcome = outcomes[exercise.number]
    out.write(describe(layout, exercise, len(exercises), outcome))
    if outcome.solved:
        out.write(next_line(layout, exercises, outcomes, exercise))
    out.write(progress_bar(len(exercises), outcomes))
    return exercise


def require_kit(layout: Layout) -> None:
    """The student's commands need the kit's tables; the instructor's repository,
    whose package is the reference, has none, and every exercise there would pass."""
    for table in (layout.chapters, layout.holes):
        if not table.is_file():
            raise CatalogueError(say("not_a_kit", path=layout.relative(table)))


def survey(layout: Layout, exercises: list[Exercise]) -> dict[int, Outcome]:
    """Every exercise's outcome against the package the student edits."""
    return run_exercises(layout, exercises)


def just_solved_line(
    layout: Layout,
    exercises: list[Exercise],
    outcomes: dict[int, Outcome],
    shown: Exercise,
) -> str:
    """The success line for the exercise just before the one shown, if it passes."""
    before = [e for e in exercises if e.number < shown.number]
    if not before or not outcomes[before[-1].number].solved:
        return ""
    done = before[-1]
    return passed_line(layout, done, outcomes[done.number]) + "\n\n"


def next_line(
    layout: Layout,
    exercises: list[Exercise],
    outcomes: dict[int, Outcome],
    solved: Exercise,
) -> str:
    """After a solved exercise: the first unsolved one, before or after it."""
    upcoming = first_unsolved([e for e in exercises if e != solved], outcomes)
    if upcoming is None:
        return say("nothing_next") + "\n\n"
    title = title_of(layout, upcoming)
    return say("next", number=upcoming.number, title=title, id=upcoming.id) + "\n\n"


def first_unsolved(
    exercises: list[Exercise], outcomes: dict[int, Outcome]
) -> Exercise | None:
    """The first exercise, in book order, whose tests do not all pass."""
    return next((e for e in exercises if not outcomes[e.number].solved), None)


def describe(layout: Layout, exercise: Exercise, total: int, outcome: Outcome) -> str:
    """The heading, the places to read and edit, then the verdict and a hint."""
    chapters = Chapters.load(layout.chapters)
    number = chapters.number(exercise.chapter)
    chapter = say("chapter_number", number=number) if number else exercise.chapter
    place = edit_place(layout, exercise, load_holes(layout.holes)[exercise.id])
    title = title_of(layout, exercise)
    lines = [
        say(
            "heading", number=exercise.number, total=total, title=title, chapter=chapter
        ),
        say(
            "read",
            page=chapters.page(exercise.chapter),
            title=chapters.title(exercise.chapter),
        ),
        say(
            "task",
            path=layout.relative(task_file(layout, exercise)),
            page=chapters.exercise_page(exercise.id),
        ),
        say(
            "edit",
            path=layout.relative(place.path),
            line=place.line,
            function=place.function,
        ),
        "",
    ]
    if outcome.solved:
        lines.append(passed_line(layout, exercise, outcome))
    else:
        shown = max(hints_shown(layout, exercise), 1)
        record_hint(layout, exercise, shown)
        lines += [
            hole_in_language(line, layout, chapters) for line in failure_lines(outcome)
        ]
        lines += ["", hint_text(exercise, shown)]
        if shown < len(exercise.hints):
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


def passed_line(layout: Layout, exercise: Exercise, outcome: Outcome) -> str:
    title = title_of(layout, exercise)
    passed = len(outcome.checks_passed)
    return say("passed", number=exercise.number, title=title, passed=passed)


def failure_lines(outcome: Outcome) -> list[str]:
    """The first failing test with its short traceback (its last lines), or why none."""
    if not outcome.failures:
        tail = outcome.output.strip().splitlines()[-TRACEBACK_LINES:]
        return [say("did_not_run", meaning=outcome.meaning), *tail]
    first: Failure = outcome.failures[0]
    if outcome.exit_code == EXIT_INTERRUPTED:
        lines = [say("could_not_start", meaning=outcome.meaning)]
    else:
        failing = len(outcome.failures)
        lines = [say("failed", test=first.test, failing=failing, count=outcome.checks)]
    traceback = first.details.strip().splitlines()[-TRACEBACK_LINES:]
    return lines + [f"  {line}" for line in traceback]


def hole_in_language(line: str, layout: Layout, chapters: Chapters) -> str:
    """A traceback line with a hole's ``NotImplementedError``, in the student's
    language.

    The message is written into the kit's source when the kit is built, in English
    (one package serves both languages); the runner says it again in Chinese.
    """
    found = HOLE_ERROR.search(line)
    if found is None or not is_chinese():
        return line
    try:
        exercise = find_exercise(load_catalogue(layout.catalogue), found["id"])
    except CatalogueError:
        return line
    message = say(
        "hole_error",
        id=exercise.id,
        title=title_of(layout, exercise),
        chapter=chapter_name(chapters, exercise.chapter),
    )
    return line[: found.start("message")] + message


def progress_bar(total: int, outcomes: dict[int, Outcome]) -> str:
    solved = sum(1 for outcome in outcomes.values() if outcome.solved)
    filled = PROGRESS_WIDTH * solved // max(total, 1)
    bar = "#" * filled + "-" * (PROGRESS_WIDTH - filled)
    return say("progress", bar=bar, solved=solved, total=total) + "\n"


def show_hint(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make hint [EX=...]``: one more hint each time; then every hint, again."""
    require_kit(layout)
    exercises = load_catalogue(layout.catalogue)
    exercise: Exercise | None = (
        find_exercise(exercises, key)
        if key
        else first_unsolved(exercises, survey(layout, exercises))
    )
    if exercise is None:
        out.write(say("no_hint_needed") + "\n")
        return 0
    title = title_of(layout, exercise)
    out.write(say("hint_heading", number=exercise.number, title=title) + "\n")
    shown, total = hints_shown(layout, exercise), len(exercise.hints)
    if shown < total:
        record_hint(layout, exercise, shown + 1)
        out.write(hint_text(exercise, shown + 1) + "\n")
        return 0
    out.write(say("every_hint_shown") + "\n")
    for number in range(1, total + 1):
        out.write(hint_text(exercise, number) + "\n")
    return 0


def hint_text(exercise: Exercise, number: int) -> str:
    """``Hint 2/3: ...``, wrapped to the terminal's usual width."""
    hints = hints_of(exercise)
    text = say("hint", number=number, total=len(hints), text=hints[number - 1])
    return fill(text, TEXT_WIDTH, indent="  ")


YES = ("y", "yes")
NOT_ASKED = 1  # the exit status when reset could not ask and was not told --yes


def reset(
    layout: Layout,
    key: str | None,
    out: TextIO,
    ask: Callable[[str], str] | None = None,
) -> int:
    """``make reset EX=...``: puts the exercise's function back as the kit shipped it.

    Only that function changes: the rest of the file and every other exercise stay as
    the student left them, and the student's version is kept in
    ``exercises/NN-id/backups/<date-time>/`` first. ``ask`` shows a question and
    returns the answer (``input`` when the tool runs in a terminal). Without a terminal
    to ask in, nothing changes unless the student said so in advance
    (``make reset EX=... YES=1``), and the status is 1.
    """
    if not key:
        out.write(say("reset_which") + "\n")
        return 2
    exercise = find_exercise(load_catalogue(layout.catalogue), key)
    hole = load_holes(layout.holes)[exercise.id]
    path = layout.root / hole.file
    text = path.read_text(encoding="utf-8")
    try:
        restored = restore(text, hole)
    except ResetError as error:
        out.write(f"{error}\n{say('nothing_changed')}\n")
        return 1
    if restored == text:
        out.write(say("reset_already", number=exercise.number, id=exercise.id) + "\n")
        return 0
    backup = backup_folder(layout, exercise) / hole.file
    question = say(
        "reset_question",
        function=hole.function,
        path=hole.file,
        backup=layout.relative(backup),
    )
    answer = ask_once(ask, question)
    if answer not in YES:
        out.write(say("nothing_changed") + "\n")
        return 0 if answer is not None else NOT_ASKED
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_text(text, encoding="utf-8")
    path.write_text(restored, encoding="utf-8")
    out.write(say("work_saved", backup=layout.relative(backup)) + "\n")
    out.write(
        say(
            "fresh_starter",
            number=exercise.number,
            id=exercise.id,
            function=hole.function,
            path=hole.file,
        )
        + "\n"
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
    require_kit(layout)
    exercises = load_catalogue(layout.catalogue)
    outcomes = survey(layout, exercises)
    chapters = Chapters.load(layout.chapters)
    still_open = open_holes(layout.package)
    names = [chapter_name(chapters, exercise.chapter) for exercise in exercises]
    column = max(display_width(name) for name in names)
    for exercise, name in zip(exercises, names, strict=True):
        status = status_text(outcomes[exercise.number], exercise.id in still_open)
        row = f"{exercise.number:2d}  {exercise.id:<19} {pad(name, column)}  {status}"
        out.write(row + "\n")
    out.write(progress_bar(len(exercises), outcomes))
    return 0


def chapter_name(chapters: Chapters, stem: str) -> str:
    """``ch. 11 Graceful timeout`` (``第 11 章 优雅超时``): number and title as the
    student's edition of the book has them; the file's stem while neither is known."""
    number, title = chapters.number(stem), chapters.title(stem)
    if number is None:
        return title or stem
    return say("chapter_short", number=number, chapter=title or stem)


def status_text(outcome: Outcome, hole_open: bool) -> str:
    """Solved; not started (its ``raise`` is still there); or how far it got.

    The guard test, which passes while the hole is still open, is not counted.
    """
    if outcome.solved:
        return say("solved")
    if hole_open:
        return say("not_started")
    if outcome.exit_code != EXIT_TESTS_FAILED:
        return say("not_running", meaning=outcome.meaning)
    return say("failing", passed=len(outcome.checks_passed), count=outcome.checks)


def show_open_holes(layout: Layout, key: str | None, out: TextIO) -> int:
    """``make run`` asks first: which holes are still open (1 if any is)."""
    exercises = load_catalogue(layout.catalogue)
    still_open = open_holes(layout.package)
    if not still_open:
        out.write(say("no_holes_open") + "\n")
        return 0
    out.write(say("holes_open", count=len(still_open)) + "\n")
    for exercise in exercises:
        place = still_open.get(exercise.id)
        if place is not None:
            where = f"{layout.relative(place.path)}:{place.line}"
            out.write(
                say("open_hole", number=exercise.number, id=exercise.id, place=where)
                + "\n"
            )
    return 1


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
            wait_for_change(layout.package, poll_seconds)
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
