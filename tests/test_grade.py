"""``make grade SUBMISSIONS=DIR``, proved on a small class built from the real package.

Each submission is a kit-shaped folder (``minigun/`` and ``exercises/``) made from the
reference with regions cut or rewritten through :mod:`exercises.tool.regions`: a
student who solved everything (a git clone), one who cheats with a conftest hook,
one with no package, one whose code does not parse, one whose import never returns,
one whose answer skips the tests, and two who share an answer of their own. The
grader runs for real (pytest in subprocesses) on two exercises, one with hidden tests.
"""

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from exercises.tool import grade
from exercises.tool.catalogue import find_exercise, load_catalogue
from exercises.tool.grade import GUARD_TEST, SOLVED, CaseResult, judge
from exercises.tool.layout import Layout
from exercises.tool.regions import replace_region, strip_markers
from exercises.tool.similarity import REFERENCE
from exercises.tool.workcopy import copy_package

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = Layout(ROOT)
CATALOGUE = load_catalogue(LAYOUT.catalogue)
REQUEST_LINE = find_exercise(CATALOGUE, "request-line")
TRUSTED_PROXY = find_exercise(CATALOGUE, "trusted-proxy")
GRADED = [REQUEST_LINE, TRUSTED_PROXY]

CHEATING_CONFTEST = """\
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""

# An answer of their own to exercise 24: a loop, not the reference's any(...).
OWN_ANSWER = """\
if "*" in allowed:
    return True
try:
    {address} = ipaddress.ip_address(host)
except ValueError:
    return False
for {entry} in allowed:
    if {address} in ipaddress.ip_network({entry}, strict=False):
        return True
return False
"""
SKIPPING_ANSWER = 'import pytest\npytest.skip("nothing to see")\n'


def kit(folder: Path, rewrite: Callable[[str], str] = strip_markers) -> Path:
    """A student's kit: the package through ``rewrite``, the exercises as shipped."""
    copy_package(LAYOUT, folder, rewrite)
    exercises = folder / "exercises"
    exercises.mkdir()
    (exercises / "fakes.py").write_bytes((LAYOUT.exercises / "fakes.py").read_bytes())
    for exercise in GRADED:
        target = exercises / exercise.folder_name
        target.mkdir()
        for name in ("conftest.py", exercise.tests):
            (target / name).write_bytes((LAYOUT.folder(exercise) / name).read_bytes())
    return folder


def answer(region: str, text: str) -> Callable[[str], str]:
    return lambda source: replace_region(source, region, text)


def git(folder: Path, *args: str) -> str:
    environment = {
        **os.environ,
        **{
            f"GIT_{who}_{what}": "test@example.org"
            for who in ("AUTHOR", "COMMITTER")
            for what in ("NAME", "EMAIL")
        },
    }
    done = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SUBMISSIONS folder: one kit per student."""
    folder = tmp_path_factory.mktemp("submissions")
    alice = kit(folder / "alice")  # every hole filled with the reference
    (alice / "exercises" / REQUEST_LINE.folder_name / "hints-shown.txt").write_text(
        "2\n"
    )
    git(alice, "init", "-q")
    git(alice, "add", ".")
    git(alice, "commit", "-q", "-m", "my kit")

    still_open = 'raise NotImplementedError("exercise request-line: see the book")\n'
    bob = kit(folder / "bob", answer("request-line", still_open))
    # The hook added to the kit's own conftest, which the tests still need.
    conftest = bob / "exercises" / REQUEST_LINE.folder_name / "conftest.py"
    conftest.write_text(conftest.read_text() + "\n\n" + CHEATING_CONFTEST)

    (folder / "carol").mkdir()  # cloned nothing but a README
    (folder / "carol" / "README.md").write_text("I will do it tomorrow.\n")

    dave = kit(folder / "dave")
    proxy = dave / "minigun" / "http" / "proxy.py"
    proxy.write_text(proxy.read_text() + "\ndef broken(:\n")

    hang = kit(folder / "hanging")
    proxy = hang / "minigun" / "http" / "proxy.py"
    proxy.write_text(
        "import time\nwhile True:\n    time.sleep(0.05)\n" + proxy.read_text()
    )

    kit(folder / "gina", answer("trusted-proxy", SKIPPING_ANSWER))
    erin = OWN_ANSWER.format(address="ip", entry="net")
    kit(folder / "erin", answer("trusted-proxy", erin))
    frank = OWN_ANSWER.format(address="peer", entry="network").replace(
        "return False\nfor", "return False  # not an address\nfor"
    )
    kit(folder / "frank", answer("trusted-proxy", frank))
    (folder / ".hidden-folder").mkdir()  # not a student
    return folder


def snapshot(folder: Path) -> dict[Path, tuple[bytes, int]]:
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def graded(classroom: Path, tmp_path_factory: pytest.TempPathFactory):
    """Runs the grader once on the class; the submissions must come back untouched."""
    before = snapshot(classroom)
    output = tmp_path_factory.mktemp("grade")
    out = io.StringIO()
    arguments = [str(classroom), "--exercises", "12,trusted-proxy", "--jobs", "2"]
    arguments += ["--test-timeout", "5", "--run-timeout", "20"]
    status = grade.main([*arguments, "--output", str(output)], LAYOUT, out)
    assert status == 0, out.getvalue()
    assert snapshot(classroom) == before, "grading changed a submission"
    return output, out.getvalue()


@pytest.fixture(scope="module")
def rows(graded) -> dict[str, dict[str, str]]:
    output, _ = graded
    with (output / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def book(graded) -> dict[str, dict]:
    output, _ = graded
    data = json.loads((output / "gradebook.json").read_text(encoding="utf-8"))
    assert [e["id"] for e in data["exercises"]] == ["request-line", "trusted-proxy"]
    assert data["out_of"] == REQUEST_LINE.points + TRUSTED_PROXY.points
    return {
        student["student"]: {e["id"]: e for e in student["exercises"]} | student
        for student in data["students"]
    }


pytestmark = pytest.mark.timeout(300)


def test_every_student_folder_gets_a_row_and_hidden_folders_none(rows, graded):
    expected = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hanging"]
    assert sorted(rows) == expected, rows.keys()
    assert all(name in graded[1] for name in expected), graded[1]


def test_a_full_solution_earns_every_point_with_its_commit_and_hints(
    rows, book, classroom
):
    alice = rows["alice"]
    total = REQUEST_LINE.points + TRUSTED_PROXY.points
    assert (alice["points"], alice["out of"]) == (str(total), str(total)), alice
    assert alice["commit"] == git(classroom / "alice", "rev-parse", "HEAD"), alice
    assert alice["hints 12-request-line"] == "2", alice
    assert alice["hints 24-trusted-proxy"] == "0", alice
    assert alice["first failure 12-request-line"] == "", alice
    results = book["alice"]["request-line"]["results"]
    hidden = [r["name"] for r in results if r["hidden"]]
    assert hidden and all(r["passed"] for r in results), results
    assert rows["bob"]["commit"] == "", "a folder without .git has no commit"


def test_a_conftest_hook_in_the_submission_changes_nothing(rows, book, classroom):
    bob = rows["bob"]
    assert bob["12-request-line"] == "0", bob
    first = bob["first failure 12-request-line"]
    assert "NotImplementedError: exercise request-line" in first, first
    assert book["bob"]["request-line"]["status"] == "open", book["bob"]
    assert "exercises/12-request-line/conftest.py edited (ignored)" in bob["notes"], bob
    # The hook is real: run in bob's own folder, it turns every failure into a pass.
    folder = classroom / "bob" / "exercises" / REQUEST_LINE.folder_name
    environment = {**os.environ, "MINIGUN_EXERCISE_WORK": str(classroom / "bob")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    own = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert own.returncode == 0, f"the cheat did not work on its own:\n{own.stdout}"


def test_broken_submissions_score_zero_and_say_why(rows, book):
    carol = rows["carol"]
    assert carol["points"] == "0", carol
    assert "no minigun/ package" in carol["first failure 24-trusted-proxy"], carol
    dave = book["dave"]
    assert dave["points"] == 0, dave
    assert dave["trusted-proxy"]["status"] == "error", dave
    assert "SyntaxError" in dave["trusted-proxy"]["first_failure"], dave
    hanging = book["hanging"]
    assert [hanging[e.id]["status"] for e in GRADED] == ["timed out"] * 2, hanging


def test_a_skipped_test_earns_nothing_and_pytest_in_the_package_is_noted(book):
    gina = book["gina"]
    assert gina["trusted-proxy"]["status"] == "failing", gina
    assert "skipped" in gina["trusted-proxy"]["first_failure"], gina
    assert any("minigun/http/proxy.py imports pytest" in n for n in gina["notes"]), gina


def test_junit_has_a_suite_per_exercise_and_a_case_per_test(graded, book):
    output, _ = graded
    assert sorted(p.name for p in (output / "junit").iterdir()) == [
        f"{student}.xml" for student in sorted(book)
    ]
    alice = ElementTree.parse(output / "junit" / "alice.xml").getroot()
    suites = {suite.get("name"): suite for suite in alice.iter("testsuite")}
    assert sorted(suites) == ["12-request-line", "24-trusted-proxy"], suites
    cases = suites["12-request-line"].findall("testcase")
    assert len(cases) == len(book["alice"]["request-line"]["results"]), cases
    assert any(c.get("classname") == "12-request-line.hidden" for c in cases)
    assert all(c.find("failure") is None for c in cases)
    bob = ElementTree.parse(output / "junit" / "bob.xml").getroot()
    failed = [c for c in bob.iter("testcase") if c.find("failure") is not None]
    assert failed and all(
        "request-line" in c.find("failure").get("message") for c in failed
    )


def test_the_similarity_report_flags_the_pair_and_the_reference(graded, book):
    assert book["erin"]["trusted-proxy"]["status"] == SOLVED, book["erin"]
    assert book["frank"]["trusted-proxy"]["status"] == SOLVED, book["frank"]
    output, _ = graded
    with (output / "similarity.csv").open(encoding="utf-8", newline="") as file:
        flagged = list(csv.DictReader(file))
    pairs = {
        (row["exercise"], row["student"], row["other"]): float(row["similarity"])
        for row in flagged
    }
    assert pairs[("trusted-proxy", "erin", "frank")] == 1.0, pairs
    assert ("trusted-proxy", "erin", REFERENCE) not in pairs, "erin wrote her own"
    assert ("trusted-proxy", "alice", REFERENCE) in pairs, pairs
    assert ("request-line", "alice", REFERENCE) in pairs, pairs
    assert ("trusted-proxy", "erin", "gina") not in pairs, "gina skips, erin answers"
    report = (output / "similarity.md").read_text(encoding="utf-8")
    assert "| erin, frank | 1: trusted-proxy |" in report, report


def test_a_guard_only_pass_counts_as_nothing():
    guard_only = [CaseResult(GUARD_TEST, hidden=False)]
    status, why = judge(TRUSTED_PROXY, 0, guard_only, "1 passed")
    assert status == "error" and "only the guard" in why, (status, why)
    status, _ = judge(TRUSTED_PROXY, 0, [*guard_only, CaseResult("test_x", False)], "")
    assert status == SOLVED


def test_a_missing_folder_or_a_single_kit_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert grade.main([str(tmp_path / "nowhere")], LAYOUT, io.StringIO()) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "kit" / "minigun").mkdir(parents=True)
    assert grade.main([str(tmp_path / "kit")], LAYOUT, io.StringIO()) == 2
    assert "is one kit" in capsys.readouterr().err
