"""The exercise tool, proved on a tiny fixture project in a temporary folder.

The fixture has the instructor's layout (``minigun/`` with region markers,
``exercises/``, ``book/``) with a two-function package: the teacher's check runs on it
as it is. The student's commands run where a student meets them, in a kit built from
that fixture by the real kit builder (with two tiny stand-in pages for the built
book): the holes are cut, pytest runs in a subprocess, the runner reads its report.
The real exercise set is proved by ``make check-exercises`` and ``make check-kit``, not
here.
"""

import ast
import io
import itertools
import re
import shutil
import string
import subprocess
import threading
import time
from pathlib import Path

import pytest

from exercises.tool import commands, messages, results
from exercises.tool.__main__ import main
from exercises.tool.book import Book
from exercises.tool.catalogue import CatalogueError, find_exercise, load_catalogue
from exercises.tool.check import CONFTEST_TEMPLATE, check, static_problems
from exercises.tool.kit import build_kit
from exercises.tool.layout import Layout
from exercises.tool.regions import (
    cut,
    enclosing_function,
    scan_package,
    strip_markers,
)

CALC = '''\
"""A fixture package for the exercise tool's tests."""


def add(a, b):
    """Adds two numbers."""
    # exercise: add
    total = a + b
    return total
    # end-exercise: add


class Counter:
    def bump(self):
        if True:
            # exercise: bump
            self.count = getattr(self, "count", 0) + 1
            # end-exercise: bump
        return self.count
'''

GUARD = """\
from pathlib import Path

import minigun


def test_minigun_is_the_work_copy(work_copy):
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), f"loaded {where}"
"""

ADD_TESTS = (
    GUARD
    + """

def test_add():
    from minigun.calc import add

    assert add(2, 3) == 5, f"add(2, 3) returned {add(2, 3)}, expected 5"
"""
)

BUMP_TESTS = (
    GUARD
    + """

def test_bump_counts():
    from minigun.calc import Counter

    counter = Counter()
    counter.bump()
    assert counter.bump() == 2, "bump() twice: expected 2"
"""
)

CATALOGUE = """\
[[exercise]]
id = "add"
title = "adding two numbers"
chapter = "calc"
region = "add"
file = "minigun/calc.py"
tests = "test_add.py"
points = 2
hints = ["Python has an operator for it.", "Return the sum."]

[[exercise]]
id = "bump"
title = "counting"
chapter = "calc"
region = "bump"
file = "minigun/calc.py"
tests = "test_bump.py"
points = 1
hints = ["Start from zero."]
"""

INDEX = """\
# The fixture book

```{toctree}
:maxdepth: 1

intro
calc
```
"""


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner speaks the locale's language: these tests expect English."""
    for variable in messages.LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def project(tmp_path: Path) -> Layout:
    """A consistent fixture project: two exercises that fail as cut, pass as written."""
    root = tmp_path / "teacher"
    (root / "minigun").mkdir(parents=True)
    (root / "minigun" / "__init__.py").write_text('"""Fixture."""\n')
    (root / "minigun" / "calc.py").write_text(CALC)
    (root / "book").mkdir()
    (root / "book" / "index.md").write_text(INDEX)
    (root / "book" / "intro.md").write_text("# Introduction\n")
    (root / "book" / "calc.md").write_text("# Calculating\n")
    (root / "examples").mkdir()
    (root / "examples" / "__init__.py").write_text("")
    (root / "examples" / "hello.py").write_text('"""The app `make run` serves."""\n')
    (root / "examples" / "tiny_prefork.py").write_text('"""The smallest server."""\n')
    exercises = root / "exercises"
    exercises.mkdir()
    (exercises / "catalogue.toml").write_text(CATALOGUE)
    (exercises / "fakes.py").write_text('"""Shared fakes."""\n')
    for folder, name, text, wrong in [
        ("01-add", "test_add.py", ADD_TESTS, "return a - b\n"),
        ("02-bump", "test_bump.py", BUMP_TESTS, "self.count = 1\n"),
    ]:
        (exercises / folder).mkdir()
        (exercises / folder / name).write_text(text)
        (exercises / folder / "wrong.txt").write_text(wrong)
        (exercises / folder / "README.md").write_text(f"# {folder}\n")
        shutil.copy(CONFTEST_TEMPLATE, exercises / folder / "conftest.py")
    return Layout(root)


# The built student edition, as far as the runner reads it: each chapter's page, and
# the section of each exercise (the id Sphinx makes from its heading).
FAKE_PAGES = {
    "index.html": "<h1>The fixture book</h1>",
    "intro.html": "<h1>Introduction</h1>",
    "calc.html": '<section id="exercise-1-adding-two-numbers"></section>'
    '<section id="exercise-2-counting"></section>',
}


def fake_books(folder: Path) -> dict[str, Path]:
    """Tiny stand-ins for the two built student editions."""
    books = {}
    for language in ("en", "zh_CN"):
        books[language] = folder / language
        books[language].mkdir(parents=True)
        for name, body in FAKE_PAGES.items():
            (books[language] / name).write_text(f"<html>{body}</html>")
    return books


@pytest.fixture
def kit(project: Layout, tmp_path: Path) -> Layout:
    """The student kit built from the fixture project, as `make student-kit` does."""
    template = tmp_path / "template"
    template.mkdir()
    (template / "README.md").write_text("# The fixture kit\n")
    build_kit(project, tmp_path / "kit", fake_books(tmp_path / "books"), template)
    return Layout(tmp_path / "kit")


def run_check(layout: Layout) -> tuple[int, str]:
    out = io.StringIO()
    status = check(layout, out, jobs=2)
    return status, out.getvalue()


def run_command(command, layout: Layout, key: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = command(layout, key, out)
    return status, out.getvalue()


ANSWERS = {
    "add": "return a + b",
    "bump": 'self.count = getattr(self, "count", 0) + 1',
}


def solve(layout: Layout, exercise_id: str, answer: str | None = None) -> None:
    """Writes the student's answer where the kit's package raises, in place."""
    path = layout.package / "calc.py"
    lines = path.read_text().splitlines(keepends=True)
    solved = [
        line.split("raise")[0] + (answer or ANSWERS[exercise_id]) + "\n"
        if f"exercise {exercise_id}:" in line
        else line
        for line in lines
    ]
    path.write_text("".join(solved))


def hints_file(layout: Layout, exercise_id: str) -> Path:
    exercise = find_exercise(load_catalogue(layout.catalogue), exercise_id)
    return layout.hints_shown(exercise)


# Cutting and stripping


def test_cut_replaces_the_region_with_a_raise_at_its_indent():
    starter = cut(CALC, "bump", "exercise bump: see chapter 2, counting")
    message = "exercise bump: see chapter 2, counting"
    expected = f'            raise NotImplementedError("{message}")'
    assert expected in starter.splitlines(), f"cut(bump) gave:\n{starter}"
    assert "getattr" not in starter, "the region's code must be gone from the starter"
    assert "total = a + b" in starter, "the other region's code must stay"
    assert "# exercise:" not in starter, "every marker must be stripped"
    assert "# end-exercise:" not in starter, "every marker must be stripped"
    ast.parse(starter)


def test_strip_markers_keeps_every_line_of_code():
    reference = strip_markers(CALC)
    code = [line for line in CALC.splitlines() if "exercise:" not in line]
    assert reference.splitlines() == code, f"strip_markers gave:\n{reference}"


def test_scan_finds_each_region_and_the_function_holding_it(project: Layout):
    scan = scan_package(project.package)
    assert scan.problems == [], f"a well-formed package gave {scan.problems}"
    found = {}
    for region in scan.regions:
        tree = ast.parse(region.path.read_text())
        found[region.name] = enclosing_function(tree, region)
    assert found == {"add": "add", "bump": "Counter.bump"}, f"scan found {found}"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f():\n    # exercise: x\n    pass\n", "never ends"),
        ("# exercise: x\ny = 1\n# end-exercise: x\n", "not inside a function"),
        (
            "def f():\n    g(\n        # exercise: x\n        1,\n"
            "        # end-exercise: x\n    )\n",
            "cuts the statement",
        ),
        (
            "def f():\n    # exercise: x\n    y = 1\n        # end-exercise: x\n",
            "differ in indent",
        ),
        (
            "def f():\n    # exercise: x\n    # exercise: y\n    pass\n"
            "    # end-exercise: y\n    # end-exercise: x\n",
            "opens inside one",
        ),
        (
            "def f():\n    # exercise: x\n    # end-exercise: x\n    pass\n",
            "holds no statement",
        ),
        ("def f(:\n    # exercise: x\n    pass\n    # end-exercise: x\n", "parse"),
    ],
)
def test_scan_reports_badly_shaped_markers(tmp_path: Path, source: str, problem: str):
    (tmp_path / "module.py").write_text(source)
    problems = scan_package(tmp_path).problems
    assert any(problem in found for found in problems), (
        f"scanning {source!r}: expected a problem saying {problem!r}, got {problems}"
    )


# The catalogue and the book


def test_catalogue_names_the_entry_with_a_missing_field(tmp_path: Path):
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE.replace('tests = "test_bump.py"\n', ""))
    with pytest.raises(CatalogueError, match=r"entry 2 \(bump\): missing \['tests'\]"):
        load_catalogue(path)


def test_an_exercise_is_found_by_id_number_or_folder(project: Layout):
    exercises = load_catalogue(project.catalogue)
    for key in ("bump", "2", "02-bump"):
        assert find_exercise(exercises, key).id == "bump", f"looked up {key!r}"
    with pytest.raises(CatalogueError, match="known: add, bump"):
        find_exercise(exercises, "nope")


def test_chapters_are_numbered_by_the_table_of_contents(project: Layout):
    book = Book(project.book)
    assert book.number("calc") == 2, f"toctree is {book.chapters}"
    assert book.number("07-arbiter") == 7, "a numbered stem numbers itself"
    assert book.number("missing") is None
    assert book.title("calc") == "Calculating"


# The teacher's check


def test_check_passes_a_consistent_project(project: Layout):
    status, report = run_check(project)
    assert status == 0, f"check of the fixture failed:\n{report}"
    assert "ok   01-add" in report
    assert "ok   02-bump" in report


def test_check_catches_a_test_that_passes_without_the_region(project: Layout):
    weak = GUARD + "\n\ndef test_nothing():\n    assert True\n"
    (project.exercises / "02-bump" / "test_bump.py").write_text(weak)
    status, report = run_check(project)
    assert status == 1, f"a test that cannot fail went unnoticed:\n{report}"
    assert "['test_nothing'] pass without the region" in report, report


def test_check_catches_tests_that_let_a_plausible_wrong_answer_pass(project: Layout):
    (project.exercises / "01-add" / "wrong.txt").write_text("return b + a\n")
    status, report = run_check(project)
    assert status == 1, f"a wrong answer the tests miss went unnoticed:\n{report}"
    assert "01-add wrong answer (wrong.txt): all tests passed" in report, report


def test_check_wants_a_wrong_answer_for_every_exercise(project: Layout):
    (project.exercises / "02-bump" / "wrong.txt").unlink()
    status, report = run_check(project)
    assert status == 1, report
    assert "exercises/02-bump/wrong.txt is missing or empty" in report, report


def test_check_catches_a_test_that_fails_for_another_reason(project: Layout):
    wrong = BUMP_TESTS.replace("from minigun.calc import Counter", "Counter = None")
    (project.exercises / "02-bump" / "test_bump.py").write_text(wrong)
    status, report = run_check(project)
    assert status == 1, report
    assert "fail, but not with the starter's raise" in report, report
    assert "02-bump reference: some tests failed" in report, report


def test_check_catches_a_collection_error(project: Layout):
    (project.exercises / "01-add" / "test_add.py").write_text("def broken(:\n")
    status, report = run_check(project)
    assert status == 1, report
    assert "01-add starter: interrupted, usually by an error while collecting" in report


def static_report(layout: Layout) -> str:
    """The problems the check finds without running a test."""
    exercises = load_catalogue(layout.catalogue)
    return "\n".join(static_problems(layout, exercises, scan_package(layout.package)))


def test_check_catches_unlisted_regions_and_stray_folders(project: Layout):
    catalogue = CATALOGUE.split("\n\n[[exercise]]", maxsplit=1)[0] + "\n"
    project.catalogue.write_text(catalogue)
    report = static_report(project)
    assert "region bump (minigun/calc.py:15) is not in the catalogue" in report, report
    assert "exercises/02-bump is not in the catalogue" in report, report


def test_check_catches_a_missing_chapter_and_empty_hints(project: Layout):
    broken = CATALOGUE.replace('chapter = "calc"', 'chapter = "nowhere"', 1)
    broken = broken.replace('hints = ["Start from zero."]', "hints = []")
    project.catalogue.write_text(broken)
    report = static_report(project)
    assert "add: chapter book/nowhere.md is missing" in report, report
    assert "bump needs hints" in report, report


def test_check_catches_a_region_in_the_wrong_file_and_a_stale_conftest(
    project: Layout,
):
    project.catalogue.write_text(CATALOGUE.replace("minigun/calc.py", "minigun/x.py"))
    (project.exercises / "01-add" / "conftest.py").write_text('"""Old."""\n')
    report = static_report(project)
    assert "region add is in minigun/calc.py:6, but the catalogue says" in report
    assert "exercises/01-add/conftest.py differs from" in report, report


# The student's commands, in the kit


def test_exercise_shows_the_first_unsolved_with_its_failure_and_a_hint(kit: Layout):
    status, shown = run_command(commands.show_exercise, kit)
    assert status == 0, shown
    lines = shown.splitlines()
    assert lines[0] == "Exercise 1/2: adding two numbers (chapter 2)", shown
    assert lines[1] == "  read  book/en/calc.html, 'Calculating'", shown
    assert lines[2] == (
        "  task  exercises/01-add/README.md, "
        "or book/en/calc.html#exercise-1-adding-two-numbers"
    ), shown
    assert lines[3] == "  edit  minigun/calc.py:6, in add", shown
    assert "FAILED test_add (1 of 1 fail)" in lines, "the guard is no test of add"
    assert (
        "NotImplementedError: exercise add: see chapter 2, adding two numbers" in shown
    )
    assert "Hint 1/2: Python has an operator for it." in lines, shown
    assert lines[-1] == "Progress [------------------------------] 0/2 solved", shown
    assert hints_file(kit, "add").read_text() == "1\n", "hint 1 was shown: recorded"


def test_the_edit_line_follows_the_function_once_the_raise_is_gone(kit: Layout):
    solve(kit, "bump", answer="pass  # not yet")
    _, shown = run_command(commands.show_exercise, kit, "bump")
    assert "  edit  minigun/calc.py:10, in Counter.bump" in shown.splitlines(), shown


def test_one_pytest_run_answers_for_every_exercise(kit: Layout, monkeypatch):
    """``make exercise`` starts pytest once, however many exercises there are."""
    started: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(command, *args, **kwargs):
        started.append(command)
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(results.subprocess, "run", counting_run)
    solve(kit, "add")
    run_command(commands.show_exercise, kit)
    assert len(started) == 1, f"pytest started {len(started)} times: {started}"
    assert "exercises/01-add" in " ".join(started[0]), started[0]
    assert "exercises/02-bump" in " ".join(started[0]), started[0]


def test_progress_comes_from_running_the_tests_in_place(kit: Layout):
    solve(kit, "add")
    _, shown = run_command(commands.show_exercise, kit)
    assert shown.startswith("PASSED exercise 1 (adding two numbers): all 1 tests pass.")
    assert "\nExercise 2/2: counting (chapter 2)\n" in shown, shown
    assert shown.splitlines()[-1].endswith("] 1/2 solved"), shown
    solve(kit, "bump")
    _, shown = run_command(commands.show_exercise, kit)
    assert shown == "All 2 exercises are solved. Well done!\n", shown


def test_an_exercise_needs_only_its_own_hole_and_nothing_left_means_nothing_left(
    kit: Layout,
):
    solve(kit, "bump")
    _, shown = run_command(commands.show_exercise, kit, "bump")
    assert "PASSED exercise 2 (counting): all 1 tests pass." in shown, shown
    assert "Next: exercise 1, adding two numbers (`make exercise EX=add`)" in shown, (
        f"exercise 1 is still open, so something is left:\n{shown}"
    )
    assert "nothing left" not in shown, shown


def test_list_counts_no_guard_and_tells_untouched_from_failing(kit: Layout):
    solve(kit, "add", answer="return a - b")
    _, text = run_command(commands.list_exercises, kit)
    lines = text.splitlines()
    assert lines[0].endswith(" ch. 2 Calculating  failing (0 of 1 pass)"), lines
    assert lines[1].split() == [
        "2",
        "bump",
        "ch.",
        "2",
        "Calculating",
        "not",
        "started",
    ]
    calc = kit.package / "calc.py"
    calc.write_text(calc.read_text().replace("return a - b", "return a + b"))
    _, text = run_command(commands.list_exercises, kit)
    assert text.splitlines()[0].split()[-1] == "solved", text
    assert text.splitlines()[2].endswith("] 1/2 solved"), text


def test_a_package_that_does_not_import_is_no_failing_exercise(kit: Layout):
    solve(kit, "add")
    (kit.package / "__init__.py").write_text('"""Half written."""\nimport (\n')
    _, text = run_command(commands.list_exercises, kit)
    first = text.splitlines()[0]
    assert first.endswith(
        "not running (interrupted, usually by an error while collecting the tests)"
    ), text
    _, shown = run_command(commands.show_exercise, kit)
    assert "ERROR: the tests could not start" in shown, shown
    assert "SyntaxError" in shown, shown


def test_hints_come_one_more_each_time_then_all_again(kit: Layout):
    run_command(commands.show_exercise, kit)
    _, text = run_command(commands.show_hint, kit, "add")
    assert text.splitlines() == [
        "Exercise 1: adding two numbers",
        "Hint 2/2: Return the sum.",
    ], text
    assert hints_file(kit, "add").read_text() == "2\n"
    _, text = run_command(commands.show_exercise, kit)
    assert "Hint 2/2: Return the sum." in text, "exercise shows the latest hint"
    _, text = run_command(commands.show_hint, kit, "add")
    assert "Every hint has been shown" in text, text
    assert "Hint 1/2: Python has an operator for it." in text, text
    assert "Hint 2/2: Return the sum." in text, text
    assert hints_file(kit, "add").read_text() == "2\n", "the count never goes past 2"


def test_an_unreadable_hint_count_costs_nothing(kit: Layout):
    hints_file(kit, "add").write_text("garbage")
    _, text = run_command(commands.show_hint, kit, "add")
    assert "Hint 1/2: Python has an operator for it." in text, text
    assert hints_file(kit, "add").read_text() == "1\n"


def reset_answering(kit: Layout, key: str, answer: str | None) -> tuple[int, str]:
    out = io.StringIO()
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        if answer is None:
            raise EOFError
        return answer

    status = commands.reset(kit, key, out, ask)
    assert len(questions) == 1, f"reset asked {questions}; expected one question"
    return status, out.getvalue()


def test_reset_puts_back_one_function_and_keeps_the_students_version(kit: Layout):
    shipped = (kit.package / "calc.py").read_text()
    solve(kit, "add")
    solve(kit, "bump")
    solved = (kit.package / "calc.py").read_text()
    status, text = reset_answering(kit, "1", "y")
    assert status == 0, text
    now = (kit.package / "calc.py").read_text()
    assert now.split("class Counter")[0] == shipped.split("class Counter")[0], now
    assert ANSWERS["bump"] in now, "resetting add must keep the answer to bump"
    exercise = find_exercise(load_catalogue(kit.catalogue), "add")
    (backup,) = (kit.folder(exercise) / "backups").iterdir()
    assert (backup / "minigun" / "calc.py").read_text() == solved, "the backup lost it"
    assert f"Your work is saved in {kit.relative(backup)}" in text, text
    assert "add in minigun/calc.py is back as shipped" in text, text
    assert run_command(commands.reset, kit)[0] == 2, "reset without EX must refuse"


@pytest.mark.parametrize("answer", ["", "n", None])
def test_reset_changes_nothing_unless_the_student_says_yes(
    kit: Layout, answer: str | None
):
    solve(kit, "add")
    before = (kit.package / "calc.py").read_text()
    status, text = reset_answering(kit, "add", answer)
    expected = 1 if answer is None else 0  # 1: nobody could be asked
    assert status == expected and "Nothing was changed." in text, (status, text)
    assert (kit.package / "calc.py").read_text() == before
    assert not (kit.exercises / "01-add" / "backups").exists()


def test_reset_says_why_it_cannot_and_when_there_is_nothing_to_do(kit: Layout):
    status, text = run_command(commands.reset, kit, "add")
    assert status == 0 and "already as shipped" in text, text
    (kit.package / "calc.py").write_text("def add(a, b):\n    return (\n")
    status, text = run_command(commands.reset, kit, "add")
    assert status == 1, text
    assert "minigun/calc.py does not parse (line 2)" in text, text
    assert "Nothing was changed." in text, text


def test_without_a_terminal_reset_refuses(kit: Layout):
    solve(kit, "add")
    status, text = run_command(commands.reset, kit, "add")
    assert status == 1 and "Nothing was changed." in text, text


def test_holes_lists_the_open_exercises_until_none_is_left(kit: Layout):
    status, text = run_command(commands.show_open_holes, kit)
    assert status == 1, text
    assert "2 exercise(s) still open" in text, text
    assert "  exercise 2 (bump): minigun/calc.py:12" in text.splitlines(), text
    solve(kit, "add")
    solve(kit, "bump")
    assert run_command(commands.show_open_holes, kit) == (0, "Every hole is filled.\n")


@pytest.mark.parametrize(
    "command",
    [commands.show_exercise, commands.show_hint, commands.list_exercises],
)
def test_the_instructors_repository_is_not_a_kit(project: Layout, command):
    with pytest.raises(CatalogueError, match="run in the student kit"):
        run_command(command, project)


def test_watch_runs_the_tests_again_after_a_save(kit: Layout):
    out = io.StringIO()
    watching_ended = threading.Event()

    def keep_saving_while_watched() -> None:
        """Saves an answer every 0.3 s once watch waits, however slow the machine."""
        while "Watching for saves" not in out.getvalue():
            if watching_ended.wait(0.05):
                return
        while not watching_ended.is_set():
            solve(kit, "add")
            (kit.package / "calc.py").touch()
            watching_ended.wait(0.3)

    saver = threading.Thread(target=keep_saving_while_watched, daemon=True)
    saver.start()
    try:
        commands.watch(kit, "add", out, poll_seconds=0.05, rounds=2)
    finally:
        watching_ended.set()
        saver.join(timeout=5)
    text = out.getvalue()
    assert "FAILED test_add" in text, f"the first round shows the hole:\n{text}"
    assert "PASSED exercise 1 (adding two numbers): all 1 tests pass." in text, (
        f"the save was not picked up:\n{text}"
    )
    assert "a file changed, running the tests again" in text, (
        f"not a terminal: watch should say why it prints again:\n{text}"
    )
    assert commands.CLEAR_SCREEN not in text, "a log got the clear-screen sequence"


def test_wait_for_change_gives_up_at_its_timeout(tmp_path: Path):
    (tmp_path / "module.py").write_text("")
    started = time.monotonic()
    assert not commands.wait_for_change(tmp_path, poll_seconds=0.05, timeout=0.3)
    assert time.monotonic() - started < 5


def test_an_unknown_exercise_is_answered_with_the_known_ones(kit: Layout):
    with pytest.raises(CatalogueError, match=r"no exercise 'nope'; known: add, bump"):
        run_command(commands.show_exercise, kit, "nope")


def test_the_command_line_sends_the_instructor_to_the_kit(capsys):
    status = main(["exercise"])
    error = capsys.readouterr().err
    assert status == 2, f"exit status {status} in the instructor's repository"
    assert "exercises/chapters.json is missing" in error, error
    assert "`make student-kit`" in error, error


# The runner in Chinese

CHINESE_CATALOGUE_LINES = {
    'hints = ["Python has an operator for it.", "Return the sum."]\n': (
        'hints_zh_CN = ["Python 有一个运算符可以做这件事。", "返回它们的和。"]\n'
    ),
    'hints = ["Start from zero."]\n': 'hints_zh_CN = ["从零开始。"]\n',
}
CHINESE_CALC_CATALOG = """\
msgid "Calculating"
msgstr "计算"
"""


@pytest.fixture
def chinese(project: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """The kit of a fixture project with Chinese hints, tasks and a chapter catalog,
    and a Chinese locale."""
    text = project.catalogue.read_text()
    for english_line, chinese_line in CHINESE_CATALOGUE_LINES.items():
        text = text.replace(english_line, english_line + chinese_line)
    project.catalogue.write_text(text, encoding="utf-8")
    for folder, title in [("01-add", "两数相加"), ("02-bump", "计数")]:
        task = project.exercises / folder / "README.zh_CN.md"
        task.write_text(f"# 练习 {folder[1]}：{title}\n", encoding="utf-8")
    catalogs = project.book / "locale" / "zh_CN" / "LC_MESSAGES"
    catalogs.mkdir(parents=True)
    (catalogs / "calc.po").write_text(CHINESE_CALC_CATALOG, encoding="utf-8")
    template = tmp_path / "template"
    template.mkdir()
    build_kit(project, tmp_path / "kit", fake_books(tmp_path / "books"), template)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    return Layout(tmp_path / "kit")


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, messages.CHINESE),
        ({"LANG": "zh_TW.UTF-8"}, messages.CHINESE),
        ({"LANG": "C.UTF-8"}, messages.ENGLISH),
        ({}, messages.ENGLISH),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, messages.ENGLISH),
        ({"LANGUAGE": "zh_CN:en", "LC_ALL": "en_US.UTF-8"}, messages.CHINESE),
        ({"LANGUAGE": "", "LC_MESSAGES": "zh_CN.UTF-8"}, messages.CHINESE),
    ],
)
def test_the_language_is_read_as_gettext_reads_it(environment, expected):
    assert messages.language(environment) == expected, environment


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_every_message_has_an_english_and_a_chinese_sentence():
    for key, (english, chinese) in messages.MESSAGES.items():
        assert english.strip() and chinese.strip(), f"{key}: an empty sentence"
        assert WIDE.search(chinese), f"{key}: the Chinese {chinese!r} has no Chinese"
        assert placeholders(english) == placeholders(chinese), (
            f"{key}: the two sentences fill different fields"
        )


def test_a_chinese_student_sees_the_exercise_in_chinese(chinese: Layout):
    status, shown = run_command(commands.show_exercise, chinese)
    assert status == 0, shown
    lines = shown.splitlines()
    assert lines[0] == "练习 1/2：两数相加（第 2 章）", shown
    assert lines[1] == "  阅读  book/zh_CN/calc.html，《计算》", shown
    assert lines[2] == (
        "  任务  exercises/01-add/README.zh_CN.md，"
        "或 book/zh_CN/calc.html#exercise-1-adding-two-numbers"
    ), shown
    assert "  修改  minigun/calc.py:6，在 add 中" in lines, shown
    assert "未通过 test_add（1 个测试中有 1 个失败）" in lines, shown
    assert "提示 1/2：Python 有一个运算符可以做这件事。" in lines, shown
    assert lines[-1] == "进度 [------------------------------] 已完成 0/2", shown
    assert_no_english_sentence(shown)


def test_a_chinese_student_gets_chinese_hints_and_list(chinese: Layout):
    run_command(commands.show_exercise, chinese)
    _, hint = run_command(commands.show_hint, chinese, "add")
    assert hint.splitlines() == ["练习 1：两数相加", "提示 2/2：返回它们的和。"], hint
    solve(chinese, "add")
    _, listed = run_command(commands.list_exercises, chinese)
    rows = listed.splitlines()
    assert rows[0].split() == ["1", "add", "第", "2", "章《计算》", "已完成"], listed
    assert rows[1].split() == ["2", "bump", "第", "2", "章《计算》", "未开始"], listed
    assert_no_english_sentence(hint + listed)


def test_english_stays_when_the_translation_is_missing(kit: Layout, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    _, shown = run_command(commands.show_exercise, kit)
    assert "  任务  exercises/01-add/README.md" in shown, shown
    assert "提示 1/2：Python has an operator for it." in shown, shown
    assert shown.splitlines()[0] == "练习 1/2：adding two numbers（第 2 章）", shown


def test_a_chinese_hint_wraps_by_terminal_columns():
    text = "提示 1/3：" + "在某些系统上，accept 得到的 socket 会继承非阻塞模式。" * 4
    for line in commands.fill(text, 88, indent="  ").splitlines():
        assert commands.display_width(line) <= 88, line
        assert not line.lstrip().startswith(("，", "。")), line


def test_a_chinese_line_breaks_between_words_never_inside_one():
    """The hint that broke as 阻/塞: every width from 20 to 60 columns."""
    text = (
        "提示 1/3：监听 socket 是非阻塞的，所以没抢到的那些调用 accept() 会立即抛出 "
        "BlockingIOError，而不是阻塞。主进程和工作进程在优雅关闭时各做各的事。"
    )
    whole = ("阻塞", "主进程", "工作进程", "优雅关闭", "BlockingIOError", "accept()")
    for width in range(20, 61):
        lines = commands.fill(text, width, indent="  ").splitlines()
        joined = "".join(line.strip() for line in lines)
        assert joined.replace(" ", "") == text.replace(" ", ""), lines
        for line in lines:
            assert commands.display_width(line) <= width, (width, line)
            assert not line.lstrip().startswith(("，", "。", "）")), (width, line)
        ends = [
            line.rstrip()[-1] + next_line.strip()[0]
            for line, next_line in itertools.pairwise(lines)
        ]
        for word in whole:
            for end in ends:
                assert end not in word, f"{width} columns: {word} broken: {lines}"


def test_the_real_catalogue_has_every_hint_in_chinese():
    for exercise in load_catalogue(Path("exercises/catalogue.toml")):
        assert len(exercise.hints_zh_CN) == len(exercise.hints), exercise.id
        assert all(CJK.search(hint) for hint in exercise.hints_zh_CN), exercise.id


CJK = re.compile(r"[\u4e00-\u9fff]")
WIDE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # with punctuation
CODE_OR_PATH = re.compile(r"`[^`]*`|\S*/\S*")
ENGLISH_WORDS = re.compile(r"\b(?:the|exercise|exercises|solved|hint|not|of|pass)\b")


def assert_no_english_sentence(text: str) -> None:
    """No English sentence around the code: test names and paths may stay."""
    for line in text.splitlines():
        if line.startswith(("  exercises/", "  E ", "      ", "  ^")):
            continue  # the traceback: pytest's, and English by design
        prose = CODE_OR_PATH.sub("", line.split("NotImplementedError")[0])
        words = ENGLISH_WORDS.findall(prose)
        assert not words, f"English in a Chinese run: {line!r}"
