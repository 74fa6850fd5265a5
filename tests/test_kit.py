"""The student kit's builder, its leak search and its check, on small fixtures.

The builder runs for real (``build_kit``, as ``make student-kit`` calls it) on the
fixture project of ``test_exercises_tool.py`` and, once, on this repository with tiny
stand-ins for the two built editions; the leak search runs on a fixture package whose
region has one line of each kind. ``make check-kit`` proves the real kit with the real
book in CI.
"""

import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from test_exercises_tool import (  # noqa: F401 (fixtures: project, english)
    ANSWERS,
    english,
    fake_books,
    project,
    solve,
)

from exercises.tool import kitcheck
from exercises.tool.book import Book
from exercises.tool.catalogue import load_catalogue
from exercises.tool.chapters import Chapters
from exercises.tool.commands import TEXT_WIDTH
from exercises.tool.holes import load_holes, restore
from exercises.tool.kit import RUNNER_MODULES, build_kit
from exercises.tool.layout import Layout
from exercises.tool.leaks import find_leaks, reference_lines
from exercises.tool.wrap import display_width

ROOT = Path(__file__).resolve().parents[1]
CHINESE_CALC_CATALOG = 'msgid "Calculating"\nmsgstr "计算"\n'


@pytest.fixture
def teacher(project: Layout) -> Layout:  # noqa: F811 (the fixture, imported)
    """The fixture project with what must not reach the kit, and a Chinese title."""
    add = project.exercises / "01-add"
    (add / "hidden").mkdir()
    (add / "hidden" / "test_add_hidden.py").write_text("def test_x():\n    pass\n")
    (add / "__pycache__").mkdir()
    (add / "__pycache__" / "test_add.cpython-311.pyc").write_bytes(b"\0")
    (project.package / "__pycache__").mkdir()
    (project.package / "__pycache__" / "calc.cpython-311.pyc").write_bytes(b"\0")
    catalogs = project.book / "locale" / "zh_CN" / "LC_MESSAGES"
    catalogs.mkdir(parents=True)
    (catalogs / "calc.po").write_text(CHINESE_CALC_CATALOG, encoding="utf-8")
    return project


def build(teacher: Layout, tmp_path: Path) -> Layout:
    template = tmp_path / "template"
    (template / "tests").mkdir(parents=True)
    (template / "README.md").write_text("# The fixture kit\n")
    (template / "tests" / "test_server.py").write_text("def test_server():\n    pass\n")
    (template / ".github").mkdir()
    (template / ".github" / "classroom.json").write_text("{}\n")
    build_kit(teacher, tmp_path / "kit", fake_books(tmp_path / "books"), template)
    return Layout(tmp_path / "kit")


@pytest.fixture
def kit(teacher: Layout, tmp_path: Path) -> Layout:
    return build(teacher, tmp_path)


def files_of(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def test_the_kit_is_laid_out_as_the_contract_says(kit: Layout):
    files = files_of(kit.root)
    tool = {f"exercises/tool/{name}" for name in RUNNER_MODULES}
    expected = {
        "README.md",
        "tests/test_server.py",
        ".github/classroom.json",
        "minigun/__init__.py",
        "minigun/calc.py",
        "examples/__init__.py",
        "examples/hello.py",
        "examples/tiny_prefork.py",
        "exercises/catalogue.toml",
        "exercises/fakes.py",
        "exercises/chapters.json",
        "exercises/holes.json",
        *tool,
        "exercises/01-add/README.md",
        "exercises/01-add/conftest.py",
        "exercises/01-add/test_add.py",
        "exercises/02-bump/README.md",
        "exercises/02-bump/conftest.py",
        "exercises/02-bump/test_bump.py",
        *(f"book/{lang}/{page}" for lang in ("en", "zh_CN") for page in FAKE_PAGES),
    }
    assert files == expected, (
        f"missing {sorted(expected - files)}, unexpected {sorted(files - expected)}"
    )


FAKE_PAGES = ("index.html", "intro.html", "calc.html")


def test_every_hole_is_cut_and_no_marker_is_left(kit: Layout):
    calc = (kit.package / "calc.py").read_text()
    assert 'raise NotImplementedError("exercise add: see chapter 2,' in calc, calc
    assert 'raise NotImplementedError("exercise bump: see chapter 2,' in calc, calc
    assert "total = a + b" not in calc and "getattr" not in calc, calc
    assert "# exercise:" not in calc and "# end-exercise:" not in calc, calc


def test_the_kit_is_one_fresh_commit(kit: Layout):
    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments],
            cwd=kit.root,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    assert git("rev-list", "--count", "HEAD").strip() == "1"
    assert git("status", "--porcelain", "--ignored") == "", "all of it is committed"
    assert git("log", "--format=%an %s").strip() == (
        "minigun kit The minigun student kit"
    )


def test_the_chapter_table_names_each_built_page(kit: Layout):
    data = json.loads(kit.chapters.read_text())
    assert data["chapters"]["calc"] == {
        "number": 2,
        "title": {"en": "Calculating", "zh_CN": "计算"},
        "page": {"en": "book/en/calc.html", "zh_CN": "book/zh_CN/calc.html"},
    }, data
    assert data["exercises"]["bump"] == {
        "en": "book/en/calc.html#exercise-2-counting",
        "zh_CN": "book/zh_CN/calc.html#exercise-2-counting",
    }, data
    chapters = Chapters.load(kit.chapters)
    assert chapters.number("calc") == 2 and chapters.title("calc") == "Calculating"


def test_reset_puts_back_exactly_the_function_as_shipped(kit: Layout):
    holes = load_holes(kit.holes)
    assert (holes["bump"].file, holes["bump"].function) == (
        "minigun/calc.py",
        "Counter.bump",
    )
    shipped = (kit.package / "calc.py").read_text()
    solve(kit, "add")
    solve(kit, "bump")
    solved = (kit.package / "calc.py").read_text()
    restored = restore(solved, holes["bump"])
    assert ANSWERS["add"] in restored, "resetting bump must keep add's answer"
    assert restored.split("class Counter")[1] == shipped.split("class Counter")[1]


# The leak search

LEAKY = '''\
"""A package whose region has one line of each kind."""

seen = []


def record(items):
    # exercise: record
    for item in sorted(items, key=str):
        seen.append(item)
    return True
    # end-exercise: record


def again(item):
    seen.append(item)  # outside every region: generic
'''
REFERENCE = "for item in sorted(items, key=str):"


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    package = tmp_path / "package"
    package.mkdir()
    (package / "module.py").write_text(LEAKY)
    return package


def test_a_reference_line_is_neither_generic_code_nor_keywords(leaky: Path):
    found = [reference.text for reference in reference_lines(leaky)]
    assert found == [REFERENCE], f"expected only the telling line, got {found}"


def test_a_reference_line_is_found_however_a_file_shows_it(leaky: Path, tmp_path):
    kit = tmp_path / "kit"
    (kit / "book" / "_static").mkdir(parents=True)
    (kit / ".git").mkdir()
    highlighted = (
        '<span class="k">for</span> <span class="n">item</span> <span class="ow">in'
        '</span> <span class="nb">sorted</span><span class="p">(</span>items, '
        'key<span class="o">=</span>str):'
    )
    (kit / "book" / "page.html").write_text(f"<pre>{highlighted}</pre>")
    (kit / "task.md").write_text(
        "Write:\n\n    for  item in sorted(items,\tkey=str):\n"
    )
    body = zlib.compress(f"{REFERENCE} py:function 1 x.html -\n".encode())
    (kit / "book" / "objects.inv").write_bytes(b"# 1\n# 2\n# 3\n# 4\n" + body)
    (kit / "book" / "_static" / "logo.png").write_bytes(
        b"\x89PNG\xff\xfe" + REFERENCE.encode()
    )
    (kit / ".git" / "packed").write_text(REFERENCE)
    (kit / "clean.md").write_text("seen.append(item)\nreturn True\n")
    leaks = find_leaks(kit, reference_lines(leaky))
    where = sorted(str(leak.path.relative_to(kit)) for leak in leaks)
    assert where == ["book/objects.inv", "book/page.html", "task.md"], where


# The kit's check, proof by proof, on the fixture kit


def test_the_fixture_kit_passes_shape_b_and_c(teacher: Layout, kit: Layout, tmp_path):
    exercises = load_catalogue(kit.catalogue)
    assert kitcheck.shape_problems(kit, exercises) == []
    assert kitcheck.shipped_problems(kit, exercises) == []
    assert kitcheck.one_hole_problems(teacher, kit, exercises, tmp_path, 2) == []


def test_the_check_names_an_exercise_that_needs_another_hole(
    teacher: Layout, kit: Layout, tmp_path
):
    needy = kit.folder(load_catalogue(kit.catalogue)[0]) / "test_add.py"
    needy.write_text(
        needy.read_text()
        + "\n\ndef test_add_after_a_bump():\n"
        + "    from minigun.calc import Counter, add\n\n"
        + "    assert add(Counter().bump(), 1) == 2\n"
    )
    exercises = load_catalogue(kit.catalogue)
    shipped = kitcheck.shipped_problems(kit, exercises)
    assert (
        len(shipped) == 1
        and "01-add: 1 test(s) fail but not with its own" in shipped[0]
    )
    alone = kitcheck.one_hole_problems(teacher, kit, exercises, tmp_path, 2)
    assert len(alone) == 1 and alone[0].startswith("01-add: some tests failed"), alone
    assert "exercise bump:" in alone[0], alone


def test_the_check_names_a_planted_reference_line_and_stray_files(
    teacher: Layout, kit: Layout
):
    (kit.root / "README.md").write_text("Hint: `total = a + b`\n")
    (kit.exercises / "01-add" / "wrong.txt").write_text("return a - b\n")
    leaks = kitcheck.leak_problems(teacher, kit)
    assert leaks == ["README.md:1: 'total = a + b' (add)"], leaks
    shape = kitcheck.shape_problems(kit, load_catalogue(kit.catalogue))
    assert "exercises/01-add/wrong.txt: the teacher's, in the kit" in shape, shape
    assert "the kit's tree differs from its one commit" in shape, shape


# The real kit, without the real book (make check-kit builds that one)


@pytest.fixture(scope="module")
def real_kit(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """This repository's kit, with a one-line page for every chapter of the book."""
    folder = tmp_path_factory.mktemp("real-kit")
    layout = Layout(ROOT)
    books = {}
    for language in ("en", "zh_CN"):
        books[language] = folder / "books" / language
        books[language].mkdir(parents=True)
        for stem in Book(layout.book).chapters:
            (books[language] / f"{stem}.html").write_text(f"<h1>{stem}</h1>")
    build_kit(layout, folder / "kit", books)
    return Layout(folder / "kit")


def test_the_real_kit_has_its_shape(real_kit: Layout):
    problems = kitcheck.shape_problems(real_kit, load_catalogue(real_kit.catalogue))
    assert problems == [], problems
    for name in ("README.md", "README.zh_CN.md", "Makefile", "pyproject.toml"):
        assert (real_kit.root / name).is_file(), f"the kit has no {name}"


def chinese_locale() -> dict[str, str]:
    """This process's environment with a Chinese locale, and nothing that would
    outrank LANG for gettext."""
    env = {**os.environ, "LANG": "zh_CN.UTF-8"}
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        env.pop(variable, None)
    return env


def test_the_real_kits_runner_lists_in_chinese(real_kit: Layout):
    listed = subprocess.run(
        [sys.executable, "-m", "exercises.tool", "list"],
        cwd=real_kit.root,
        capture_output=True,
        text=True,
        env=chinese_locale(),
        timeout=120,
        check=True,
    ).stdout
    rows = listed.splitlines()
    assert len(rows) == len(load_catalogue(real_kit.catalogue)) + 1, listed
    assert rows[0].split()[-1] == "未开始", listed
    assert "第 1 章《" in rows[0] and "prefork" not in rows[0].split("》")[0], listed
    assert rows[-1].startswith("进度 ["), listed


def run_in_chinese(kit: Layout, *arguments: str) -> str:
    """What the kit's runner prints (stdout and stderr) under a Chinese locale."""
    done = subprocess.run(
        [sys.executable, "-m", "exercises.tool", *arguments],
        cwd=kit.root,
        capture_output=True,
        text=True,
        env=chinese_locale(),
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr


# Two English words in a row, once code is taken out: prose the runner left in English.
ENGLISH_PROSE = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;]+[A-Za-z]{2,}\b)+")
CODE = re.compile(
    r"`[^`]*`"  # a command or a name in backticks
    r"|'[^']*'"  # a repr: the exercise asked for
    r"|\S*[\w)\]]*[-_./:()=<>\[\]\d]\S*"  # a path, a call, an identifier, a number
)


def english_prose(output: str) -> list[str]:
    """The lines holding English prose, traceback source lines left out (code)."""
    found = []
    in_traceback = False
    for line in output.splitlines():
        if line.startswith("未通过"):
            in_traceback = True
        elif not line.strip():
            in_traceback = False
        elif in_traceback and not line.lstrip().startswith("E "):
            continue  # a traceback's own lines are the test's code
        if ENGLISH_PROSE.search(CODE.sub(" ", line)):
            found.append(line)
    return found


def test_the_real_kits_runner_says_everything_in_chinese(real_kit: Layout):
    """Every command a student runs, under LANG=zh_CN.UTF-8: no English sentence
    outside code, the hole's message in Chinese, hints broken between words."""
    outputs = {
        "exercise": run_in_chinese(real_kit, "exercise"),
        "hint": run_in_chinese(real_kit, "hint", "8"),
        "list": run_in_chinese(real_kit, "list"),
        "holes": run_in_chinese(real_kit, "holes"),
        "reset": run_in_chinese(real_kit, "reset", "graceful-stop"),
        "unknown": run_in_chinese(real_kit, "exercise", "nope"),
    }
    for command, output in outputs.items():
        assert output.strip(), f"{command} printed nothing"
        assert english_prose(output) == [], f"{command}:\n{output}"
    hole = next(line for line in outputs["exercise"].splitlines() if "E   " in line)
    assert "练习 accept-in-child" in hole and "第 1 章《" in hole, hole
    for line in outputs["hint"].splitlines()[1:]:
        assert display_width(line) <= TEXT_WIDTH, line


def test_english_prose_is_found_outside_code():
    assert english_prose("E   NotImplementedError: exercise add: see chapter 1") != []
    assert english_prose("未开始  第 1 章《The pre-fork model》") != []
    assert english_prose("修改  minigun/arbiter.py:12，在 Arbiter.run 中") == []
    assert english_prose("（`make hint EX=accept-in-child` 查看下一条提示）") == []
