"""The three editions of the book: no answer reaches the student's.

Both classroom editions, in English and in Chinese, are built strictly (``-W -n``),
exactly as ``make html-student`` and ``make html-instructor`` build them, once per run
(the ``book_edition`` fixture of ``tests/conftest.py``). Then, for every exercise in
the catalogue, the reference region's distinctive lines (those that appear nowhere
else in the code or the book, so a hit can only be the answer) are searched for in
every file of the student edition: the pages, the search index, and whatever source
copies a builder might leave (``_sources``, ``_modules``). A single hit fails. The
same lines must all be found in the instructor edition, which proves the search
itself would have seen them.
"""

import html
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sphinx.search.en import SearchEnglish

from exercises.tool.catalogue import Exercise, load_catalogue
from exercises.tool.layout import Layout
from exercises.tool.regions import ANY_MARKER, scan_package
from exercises.tool.workcopy import starter_message

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = Layout(ROOT)
EXERCISES = load_catalogue(LAYOUT.catalogue)
BUILD_TIMEOUT = 240  # seconds for one strict build (tests/conftest.py builds them)
SHORTEST_DISTINCTIVE = 12  # characters: shorter lines (``else:``) prove nothing
TAG = re.compile(r"<[^>]+>")
LINE_NUMBER = re.compile(r'<span class="linenos">[^<]*</span>')
# Everything the book can include or quote: a line found in one of these outside the
# region is not distinctive. The instructor notes and wrong answers are left out:
# they appear only in the instructor edition, which is the point.
SEARCHED_SOURCES = ("minigun", "tests", "examples", "book", "pyproject.toml")
INSTRUCTOR_ONLY = ("book/instructor", "book/syllabus.md")
STORY_CHAPTERS = sorted({exercise.chapter for exercise in EXERCISES})


@pytest.fixture(scope="module")
def student(book_edition: Callable[[str], Path]) -> Path:
    """``make html-student``, built once per run (tests/conftest.py)."""
    return book_edition("html-student")


@pytest.fixture(scope="module")
def instructor(book_edition: Callable[[str], Path]) -> Path:
    return book_edition("html-instructor")


@pytest.fixture(scope="module")
def chinese_student(book_edition: Callable[[str], Path]) -> Path:
    """``make html-zh-student``: the same edition, with the Chinese catalogs."""
    return book_edition("html-zh-student")


@pytest.fixture(scope="module")
def chinese_instructor(book_edition: Callable[[str], Path]) -> Path:
    return book_edition("html-zh-instructor")


def visible_text(path: Path) -> str:
    """A built file as text: line numbers and tags removed (highlighting splits a
    line into spans, and a listing's numbers stand in front of each line)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return html.unescape(TAG.sub("", LINE_NUMBER.sub("", text)))


Fragment = tuple[str, ...]  # one line, or two consecutive lines, stripped


def fragments(lines: list[str]) -> set[Fragment]:
    """Every line, and every pair of consecutive non-empty lines, stripped."""
    kept = [line.strip() for line in lines if line.strip()]
    return {(line,) for line in kept} | set(itertools.pairwise(kept))


def built_files(folder: Path) -> list[Path]:
    """Every text file of a build: pages, scripts, the search index, sources."""
    suffixes = {".html", ".js", ".txt", ".md", ".py", ".json"}
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes]


def region_lines(exercise: Exercise) -> list[str]:
    (region,) = scan_package(LAYOUT.package).named(exercise.region)
    lines = region.path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[region.begin : region.end - 1]]


def lines_outside_regions() -> set[Fragment]:
    """Every fragment the book could show that is not inside an exercise region."""
    inside = {
        (region.path, number)
        for region in scan_package(LAYOUT.package).regions
        for number in range(region.begin, region.end + 1)
    }
    seen: set[Fragment] = set()
    for name in SEARCHED_SOURCES:
        top = ROOT / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            relative = str(path.relative_to(ROOT))
            if not path.is_file() or path.suffix not in {".py", ".md", ".toml"}:
                continue
            if relative.startswith(INSTRUCTOR_ONLY) or "/work/" in relative:
                continue
            text = path.read_text(encoding="utf-8").splitlines()
            outside = [
                line if (path, number) not in inside else ""
                for number, line in enumerate(text, 1)
            ]
            seen |= fragments(outside)
    return seen


OUTSIDE = lines_outside_regions()


def distinctive_lines(exercise: Exercise) -> list[Fragment]:
    """The region's lines found nowhere else; if there are none, its line pairs.

    A pair is what is left when every statement of a region also appears, alone,
    elsewhere (``self.alive = False``): the answer is then their sequence.
    """
    code = [
        line
        for line in region_lines(exercise)
        if not ANY_MARKER.match(line) and not line.startswith("#")
    ]
    singles = [
        (line,)
        for line in code
        if len(line) >= SHORTEST_DISTINCTIVE and (line,) not in OUTSIDE
    ]
    pairs = [pair for pair in itertools.pairwise(code) if pair not in OUTSIDE]
    return singles or pairs


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_every_region_has_lines_only_the_answer_has(exercise: Exercise) -> None:
    """Guard: with no distinctive line, the checks below would prove nothing."""
    assert distinctive_lines(exercise), (
        f"exercise {exercise.id}: every line of its region also appears elsewhere, "
        "so the edition checks cannot tell the answer from other code"
    )


def text_lines(path: Path) -> set[Fragment]:
    """The fragments of a built file's text, as a listing shows them."""
    return fragments(visible_text(path).splitlines())


def reference_lines_in(build: Path) -> list[str]:
    """Every distinctive reference line found in any file of ``build``."""
    texts = {path: text_lines(path) for path in built_files(build)}
    assert any(p.name == "searchindex.js" for p in texts), "no search index was built"
    return [
        f"{exercise.id}: {line!r} in {path.relative_to(build)}"
        for exercise in EXERCISES
        for line in distinctive_lines(exercise)
        for path, lines in texts.items()
        if line in lines
    ]


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_no_reference_line_reaches_the_student_edition(student: Path) -> None:
    leaks = reference_lines_in(student)
    assert not leaks, "reference lines in the student edition:\n" + "\n".join(leaks)


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_no_reference_line_reaches_the_chinese_student_edition(
    chinese_student: Path,
) -> None:
    """The listings are shared: translating the prose must not bring an answer back."""
    leaks = reference_lines_in(chinese_student)
    assert not leaks, "reference lines in the Chinese student edition:\n" + (
        "\n".join(leaks)
    )


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_student_edition_copies_no_source(student: Path) -> None:
    assert not (student / "_modules").exists(), "viewcode pages in the student edition"
    copied = [p for p in (student / "_sources").rglob("*") if p.is_file()]
    assert not copied, f"page sources copied into the student edition: {copied[:5]}"
    folded = [
        path.name
        for path in student.glob("*.html")
        if 'class="solution"' in path.read_text(encoding="utf-8")
    ]
    assert not folded, f"solution blocks in the student edition: {folded}"


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_student_edition_shows_each_hole_as_the_work_copy_has_it(
    student: Path,
) -> None:
    for exercise in EXERCISES:
        page = visible_text(student / f"{exercise.chapter}.html")
        hole = f'raise NotImplementedError("{starter_message(LAYOUT, exercise)}")'
        assert hole in page, (
            f"{exercise.chapter}.html in the student edition: expected the starter's "
            f"line {hole!r} for exercise {exercise.id}, found none"
        )


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_student_edition_has_no_instructor_material(student: Path) -> None:
    assert not (student / "syllabus.html").exists(), "the syllabus is instructors' only"
    for chapter in STORY_CHAPTERS:
        page = visible_text(student / f"{chapter}.html")
        assert "Instructor notes" not in page, f"instructor notes in {chapter}.html"


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_every_reference_line_is_in_the_instructor_edition(instructor: Path) -> None:
    lines = set().union(*(text_lines(path) for path in instructor.glob("*.html")))
    missing = [
        f"{exercise.id}: {line!r}"
        for exercise in EXERCISES
        for line in distinctive_lines(exercise)
        if line not in lines
    ]
    assert not missing, "reference lines missing from the instructor edition:\n" + (
        "\n".join(missing)
    )


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_every_chapter_has_instructor_notes_and_a_syllabus(instructor: Path) -> None:
    for chapter in STORY_CHAPTERS:
        page = visible_text(instructor / f"{chapter}.html")
        for part in ("Instructor notes", "Learning goals", "Discussion questions"):
            assert part in page, f"{chapter}.html (instructor edition) has no {part!r}"
    syllabus = visible_text(instructor / "syllabus.html")
    assert "Session 1" in syllabus and "Session 6" in syllabus, (
        "the syllabus should lay the course out as six sessions"
    )


WORD = re.compile(r"\w+")


def answer_only_words() -> dict[str, set[str]]:
    """Per exercise, the words of its region found nowhere else (``silent_for``)."""
    elsewhere = {
        word for fragment in OUTSIDE for line in fragment for word in words_of(line)
    }
    found = {}
    for exercise in EXERCISES:
        words = {word for line in region_lines(exercise) for word in words_of(line)}
        found[exercise.id] = {w for w in words - elsewhere if not w.isdigit()}
    return found


def words_of(line: str) -> set[str]:
    return {word.lower() for word in WORD.findall(line)}


def search_terms(build: Path) -> set[str]:
    """The terms of a build's search index (``Search.setIndex({...})``)."""
    text = (build / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    return set(index["terms"]) | set(index.get("titleterms", {}))


def stem(word: str) -> str:
    """The index's form of a word, by Sphinx's own English stemmer."""
    return SearchEnglish({}).stem(word)


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_searching_the_student_edition_finds_no_word_only_an_answer_has(
    student: Path, instructor: Path
) -> None:
    words = {w for found in answer_only_words().values() for w in found}
    assert words, "guard: no region has a word of its own; this test proves nothing"
    in_student, in_instructor = search_terms(student), search_terms(instructor)
    assert {stem(w) for w in words} <= in_instructor, (
        "guard: the instructor edition's index should hold every answer-only word: "
        f"{sorted(w for w in words if stem(w) not in in_instructor)}"
    )
    found = sorted(word for word in words if stem(word) in in_student)
    assert not found, f"the student edition's search finds answer words: {found}"


# The Chinese classroom editions

CJK = re.compile(r"[\u4e00-\u9fff]")
SWITCH = re.compile(r'<a class="language-switch" href="([^"]*)"')


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_chinese_student_edition_has_holes_and_no_instructor_material(
    chinese_student: Path,
) -> None:
    assert not (chinese_student / "syllabus.html").exists(), "the syllabus leaked"
    for exercise in EXERCISES:
        page = visible_text(chinese_student / f"{exercise.chapter}.html")
        hole = f'raise NotImplementedError("{starter_message(LAYOUT, exercise)}")'
        assert hole in page, f"{exercise.chapter}.html (zh student): no hole {hole!r}"
        assert "教师笔记" not in page, f"instructor notes in {exercise.chapter}.html"
    index = visible_text(chinese_student / "index.html")
    assert "这是学生版" in index, "the Chinese student edition does not say what it is"


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_chinese_instructor_edition_has_the_notes_and_syllabus_in_chinese(
    chinese_instructor: Path,
) -> None:
    for chapter in STORY_CHAPTERS:
        page = visible_text(chinese_instructor / f"{chapter}.html")
        for part in ("教师笔记", "学习目标", "课堂用时", "讨论题"):
            assert part in page, f"{chapter}.html (zh instructor) has no {part!r}"
        for english in ("Learning goals", "Discussion questions", "The tests answer"):
            assert english not in page, f"{chapter}.html (zh instructor): {english!r}"
    syllabus = visible_text(chinese_instructor / "syllabus.html")
    assert "第 1 次课" in syllabus and "第 6 次课" in syllabus, syllabus[:300]
    assert "Session 1" not in syllabus, "the Chinese syllabus is still English"


@pytest.mark.timeout(4 * BUILD_TIMEOUT)
@pytest.mark.parametrize(
    ("edition", "counterpart"),
    [
        ("html-student", "html-zh-student"),
        ("html-zh-student", "html-student"),
        ("html-instructor", "html-zh-instructor"),
        ("html-zh-instructor", "html-instructor"),
    ],
)
def test_each_classroom_edition_links_to_its_counterpart(
    edition: str,
    counterpart: str,
    student: Path,
    instructor: Path,
    chinese_student: Path,
    chinese_instructor: Path,
) -> None:
    """The Chinese student's switch leads to the English student's book, not the
    reader's: a student must never land where the answers are."""
    built = student.parent / edition
    for page in ("index.html", "deploy.html", "syllabus.html"):
        if not (built / page).exists():
            continue  # the syllabus is in the instructor editions only
        link = SWITCH.search((built / page).read_text(encoding="utf-8"))
        assert link, f"{edition}/{page}: no language switch"
        target = (built / link[1]).resolve()
        assert target == (built.parent / counterpart / page).resolve(), (
            f"{edition}/{page} links to {link[1]}, expected {counterpart}/{page}"
        )
        assert target.exists(), f"{edition}/{page}: the link's target is missing"
