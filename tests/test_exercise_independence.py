"""The independence check, proved on a fixture project of two exercises.

In the student kit every hole is open at once, so exercise X's tests must pass with
only X's hole filled. The fixture's second exercise calls the first's function; its
tests pass or fail that check depending on whether they stand in for it.
"""

import io
import shutil
from pathlib import Path

from exercises.tool.check import CONFTEST_TEMPLATE
from exercises.tool.independence import independence_problems, report
from exercises.tool.layout import Layout

CALC = '''\
"""A fixture package: twice() is built on add()."""


def add(a, b):
    # exercise: add
    total = a + b
    # end-exercise: add
    return total


def twice(a):
    # exercise: twice
    doubled = add(a, a)
    # end-exercise: twice
    return doubled
'''

GUARD = """\
from pathlib import Path

import minigun
from minigun import calc


def test_minigun_is_the_work_copy(work_copy):
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), f"loaded {where}"
"""

ADD_TESTS = (
    GUARD
    + """

def test_add():
    assert calc.add(2, 3) == 5
"""
)

TWICE_THROUGH_ADD = (
    GUARD
    + """

def test_twice():
    assert calc.twice(4) == 8
"""
)

TWICE_WITH_A_FAKE_ADD = (
    GUARD
    + """

def test_twice(monkeypatch):
    monkeypatch.setattr(calc, "add", lambda a, b: a + b)
    assert calc.twice(4) == 8
"""
)

CATALOGUE = """\
[[exercise]]
id = "add"
title = "adding"
chapter = "calc"
region = "add"
file = "minigun/calc.py"
tests = "test_add.py"
points = 1
hints = ["Python has an operator for it."]

[[exercise]]
id = "twice"
title = "doubling"
chapter = "calc"
region = "twice"
file = "minigun/calc.py"
tests = "test_twice.py"
points = 1
hints = ["A number and itself."]
"""


def fixture_project(root: Path, twice_tests: str) -> Layout:
    (root / "minigun").mkdir()
    (root / "minigun" / "__init__.py").write_text('"""Fixture."""\n')
    (root / "minigun" / "calc.py").write_text(CALC)
    (root / "book").mkdir()
    (root / "book" / "index.md").write_text("# Book\n\n```{toctree}\ncalc\n```\n")
    (root / "book" / "calc.md").write_text("# Calculating\n")
    exercises = root / "exercises"
    exercises.mkdir()
    (exercises / "catalogue.toml").write_text(CATALOGUE)
    for folder, name, text in [
        ("01-add", "test_add.py", ADD_TESTS),
        ("02-twice", "test_twice.py", twice_tests),
    ]:
        (exercises / folder).mkdir()
        (exercises / folder / name).write_text(text)
        shutil.copy(CONFTEST_TEMPLATE, exercises / folder / "conftest.py")
    return Layout(root)


def test_tests_that_go_through_another_hole_are_named(tmp_path: Path):
    layout = fixture_project(tmp_path, TWICE_THROUGH_ADD)
    out = io.StringIO()
    assert report(layout, [], out) == 1
    assert out.getvalue().splitlines() == [
        "ok   01-add: -",
        "FAIL 02-twice: add",
        "  - 02-twice: fails with only its hole filled (add): ['test_twice']",
    ]


def test_the_problems_are_what_the_kit_check_reports(tmp_path: Path):
    layout = fixture_project(tmp_path, TWICE_THROUGH_ADD)
    assert independence_problems(layout) == [
        "02-twice: fails with only its hole filled (add): ['test_twice']"
    ]


def test_tests_that_fake_the_other_hole_stand_alone(tmp_path: Path):
    layout = fixture_project(tmp_path, TWICE_WITH_A_FAKE_ADD)
    out = io.StringIO()
    assert report(layout, ["twice"], out) == 0, out.getvalue()
    assert out.getvalue().splitlines() == ["ok   02-twice: -"]
