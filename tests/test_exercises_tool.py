"""The exercise tool, proved on a tiny fixture project in a temporary folder.

The fixture has the real layout (``minigun/``, ``exercises/``, ``book/``) with a
two-function package, so every command runs for real: copies are cut, pytest runs in
a subprocess, the check reads its reports. The real exercise set is proved by
``make check-exercises``, not here.
"""

import ast
import io
import os
import re
import shutil
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from exercises.tool import commands, messages
from exercises.tool.__main__ import main
from exercises.tool.book import Book
from exercises.tool.catalogue import CatalogueError, find_exercise, load_catalogue
from exercises.tool.check import CONFTEST_TEMPLATE, check, static_problems
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
    (tmp_path / "minigun").mkdir()
    (tmp_path / "minigun" / "__init__.py").write_text('"""Fixture."""\n')
    (tmp_path / "minigun" / "calc.py").write_text(CALC)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.md").write_text(INDEX)
    (tmp_path / "book" / "intro.md").write_text("# Introduction\n")
    (tmp_path / "book" / "calc.md").write_text("# Calculating\n")
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    (exercises / "catalogue.toml").write_text(CATALOGUE)
    for folder, name, text, wrong in [
        ("01-add", "test_add.py", ADD_TESTS, "return a - b\n"),
        ("02-bump", "test_bump.py", BUMP_TESTS, "self.count = 1\n"),
    ]:
        (exercises / folder).mkdir()
        (exercises / folder / name).write_text(text)
        (exercises / folder / "wrong.txt").write_text(wrong)
        (exercises / folder / "README.md").write_text(f"# {folder}\n")
        shutil.copy(CONFTEST_TEMPLATE, exercises / folder / "conftest.py")
    return Layout(tmp_path)


def run_check(layout: Layout) -> tuple[int, str]:
    out = io.StringIO()
    status = check(layout, out, jobs=2)
    return status, out.getvalue()


def run_command(command, layout: Layout, key: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = command(layout, key, out)
    return status, out.getvalue()


def solve(layout: Layout, exercise_id: str) -> None:
    """Writes the student's answer where the starter raises."""
    exercise = find_exercise(load_catalogue(layout.catalogue), exercise_id)
    work_file = layout.work(exercise) / exercise.file
    lines = work_file.read_text().splitlines(keepends=True)
    answers = {
        "add": "return a + b",
        "bump": 'self.count = getattr(self, "count", 0) + 1',
    }
    solved = [
        line.split("raise")[0] + answers[exercise_id] + "\n"
        if f"exercise {exercise_id}:" in line
        else line
        for line in lines
    ]
    work_file.write_text("".join(solved))


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


# The student's commands


def test_exercise_shows_the_first_unsolved_with_its_failure_and_a_hint(project: Layout):
    status, shown = run_command(commands.show_exercise, project)
    assert status == 0, shown
    lines = shown.splitlines()
    assert lines[0] == "Exercise 1/2: adding two numbers (chapter 2)", shown
    assert "  edit  exercises/01-add/work/minigun/calc.py:6, in add" in lines, shown
    assert "FAILED test_add (1 of 2 fail)" in lines, shown
    assert (
        "NotImplementedError: exercise add: see chapter 2, adding two numbers" in shown
    )
    assert "Hint 1/2: Python has an operator for it." in lines, shown
    assert lines[-1] == "Progress [------------------------------] 0/2 solved", shown


def test_progress_comes_from_running_the_work_copies(project: Layout):
    run_command(commands.show_exercise, project)
    solve(project, "add")
    _, shown = run_command(commands.show_exercise, project)
    assert "\nExercise 2/2: counting (chapter 2)\n" in shown, shown
    assert shown.splitlines()[-1].endswith("] 1/2 solved"), shown
    solve(project, "bump")
    _, shown = run_command(commands.show_exercise, project)
    assert shown == "All 2 exercises are solved. Well done!\n", shown


def test_hints_cycle_and_survive_a_corrupt_counter(project: Layout):
    shown = [run_command(commands.show_hint, project, "add")[1] for _ in range(3)]
    numbers = [text.splitlines()[1].split(":")[0] for text in shown]
    assert numbers == ["Hint 2/2", "Hint 1/2", "Hint 2/2"], shown
    exercise = find_exercise(load_catalogue(project.catalogue), "add")
    (project.work(exercise) / ".last-hint").write_text("garbage")
    _, text = run_command(commands.show_hint, project, "add")
    assert "Hint 2/2: Return the sum." in text, text


def test_solution_opens_only_once_the_exercise_passes(project: Layout):
    status, text = run_command(commands.show_solution, project, "add")
    assert status == 1, text
    assert "not solved yet" in text, text
    solve(project, "add")
    status, text = run_command(commands.show_solution, project, "add")
    assert status == 0, text
    assert '-    raise NotImplementedError("exercise add: see chapter 2' in text, text
    assert "+    total = a + b" in text, text
    assert "Your file against the reference:" in text, text


def reset_answering(project: Layout, key: str, answer: str | None) -> tuple[int, str]:
    out = io.StringIO()
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        if answer is None:
            raise EOFError
        return answer

    status = commands.reset(project, key, out, ask)
    assert len(questions) == 1, f"reset asked {questions}; expected one question"
    return status, out.getvalue()


def test_reset_asks_then_keeps_a_backup_and_brings_back_the_starter(project: Layout):
    run_command(commands.show_exercise, project)
    solve(project, "add")
    exercise = find_exercise(load_catalogue(project.catalogue), "add")
    work_file = project.work(exercise) / exercise.file
    solved = work_file.read_text()
    status, text = reset_answering(project, "1", "y")
    assert status == 0, text
    work = work_file.read_text()
    assert "raise NotImplementedError" in work, f"after reset the work file is:\n{work}"
    (backup,) = (project.folder(exercise) / "backups").iterdir()
    assert (backup / exercise.file).read_text() == solved, "the backup lost the work"
    assert f"Your work is saved in {project.relative(backup)}" in text, text
    assert run_command(commands.reset, project)[0] == 2, "reset without EX must refuse"


@pytest.mark.parametrize("answer", ["", "n", None])
def test_reset_changes_nothing_unless_the_student_says_yes(
    project: Layout, answer: str | None
):
    run_command(commands.show_exercise, project)
    solve(project, "add")
    exercise = find_exercise(load_catalogue(project.catalogue), "add")
    before = (project.work(exercise) / exercise.file).read_text()
    status, text = reset_answering(project, "add", answer)
    expected = 1 if answer is None else 0  # 1: nobody could be asked
    assert status == expected and "Nothing was changed." in text, (status, text)
    assert (project.work(exercise) / exercise.file).read_text() == before
    assert not (project.folder(exercise) / "backups").exists()


def test_without_a_terminal_reset_refuses(project: Layout):
    run_command(commands.show_exercise, project)
    status, text = run_command(commands.reset, project, "add")
    assert status == 1 and "Nothing was changed." in text, text


def test_list_shows_every_exercise_with_chapter_and_status(project: Layout):
    run_command(commands.show_exercise, project)
    solve(project, "add")
    status, text = run_command(commands.list_exercises, project)
    assert status == 0, text
    lines = text.splitlines()
    assert lines[0].split() == ["1", "add", "ch.", "2", "calc", "solved"], lines
    assert lines[1].split() == ["2", "bump", "ch.", "2", "calc", "not", "started"]
    assert lines[2].endswith("] 1/2 solved"), lines


def test_a_solved_exercise_says_so_then_names_the_next(project: Layout):
    run_command(commands.show_exercise, project)
    solve(project, "add")
    _, shown = run_command(commands.show_exercise, project, "add")
    assert "PASSED exercise 1 (adding two numbers): all 2 tests pass." in shown, shown
    assert "Next: exercise 2, counting (`make exercise EX=bump`)" in shown, shown
    _, shown = run_command(commands.show_exercise, project)
    assert shown.startswith("PASSED exercise 1 (adding two numbers)"), shown
    assert "Exercise 2/2: counting" in shown, shown


def test_watch_runs_the_tests_again_after_a_save(project: Layout):
    out = io.StringIO()
    watching_ended = threading.Event()

    def keep_saving_while_watched() -> None:
        """Saves an answer every 0.3 s once watch waits, however slow the machine."""
        while "Watching for saves" not in out.getvalue():
            if watching_ended.wait(0.05):
                return
        while not watching_ended.is_set():
            solve(project, "add")
            watching_ended.wait(0.3)

    saver = threading.Thread(target=keep_saving_while_watched, daemon=True)
    saver.start()
    try:
        commands.watch(project, "add", out, poll_seconds=0.05, rounds=2)
    finally:
        watching_ended.set()
        saver.join(timeout=5)
    text = out.getvalue()
    assert "FAILED test_add" in text, f"the first round shows the starter:\n{text}"
    assert "PASSED exercise 1 (adding two numbers): all 2 tests pass." in text, (
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


def test_the_command_line_names_the_known_exercises_for_an_unknown_one(capsys):
    status = main(["exercise", "no-such-exercise"])
    error = capsys.readouterr().err
    assert status == 2, f"exit status {status} for an unknown exercise, expected 2"
    assert "no exercise 'no-such-exercise'; known: accept-in-child," in error, error


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
def chinese(project: Layout, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """The fixture project with Chinese hints, tasks and a chapter catalog, and a
    Chinese locale."""
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
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    return project


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
    assert "  任务  exercises/01-add/README.zh_CN.md" in lines, shown
    assert "  阅读  book/calc.md，《计算》" in lines, shown
    assert "  修改  exercises/01-add/work/minigun/calc.py:6，在 add 中" in lines, shown
    assert "未通过 test_add（2 个测试中有 1 个失败）" in lines, shown
    assert "提示 1/2：Python 有一个运算符可以做这件事。" in lines, shown
    assert lines[-1] == "进度 [------------------------------] 已完成 0/2", shown
    assert_no_english_sentence(shown)


def test_a_chinese_student_gets_chinese_hints_and_list(chinese: Layout):
    _, hint = run_command(commands.show_hint, chinese, "add")
    assert hint.splitlines() == ["练习 1：两数相加", "提示 2/2：返回它们的和。"], hint
    run_command(commands.show_exercise, chinese)
    solve(chinese, "add")
    _, listed = run_command(commands.list_exercises, chinese)
    rows = listed.splitlines()
    assert rows[0].split() == ["1", "add", "第", "2", "章", "calc", "已完成"], listed
    assert rows[1].split() == ["2", "bump", "第", "2", "章", "calc", "未开始"], listed
    assert_no_english_sentence(hint + listed)


def test_english_stays_when_the_translation_is_missing(project: Layout, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    _, shown = run_command(commands.show_exercise, project)
    assert "  任务  exercises/01-add/README.md" in shown, shown
    assert "提示 1/2：Python has an operator for it." in shown, shown
    assert shown.splitlines()[0] == "练习 1/2：adding two numbers（第 2 章）", shown


def test_a_chinese_hint_wraps_by_terminal_columns():
    text = "提示 1/3：" + "在某些系统上，accept 得到的 socket 会继承非阻塞模式。" * 4
    for line in commands.fill(text, 88, indent="  ").splitlines():
        assert commands.display_width(line) <= 88, line
        assert not line.lstrip().startswith(("，", "。")), line


def test_the_real_catalogue_has_every_hint_in_chinese():
    for exercise in load_catalogue(Path("exercises/catalogue.toml")):
        assert len(exercise.hints_zh_CN) == len(exercise.hints), exercise.id
        assert all(CJK.search(hint) for hint in exercise.hints_zh_CN), exercise.id


def test_the_real_runner_lists_in_chinese_under_a_chinese_locale():
    env = {**os.environ, "LANG": "zh_CN.UTF-8"}
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        env.pop(variable, None)
    listed = subprocess.run(
        [sys.executable, "-m", "exercises.tool", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    assert "第 1 章 prefork" in listed, listed
    assert listed.splitlines()[-1].startswith("进度 ["), listed
    assert_no_english_sentence(listed)


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
