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

The student editions are also held to the student kit: every numbered listing of a
package file shows, at each number, the line the kit's file (every hole cut) has
there; no line of a reference answer, by the kit contract's definition, appears in
either language; and each chapter names, before its exercises, every helper,
attribute and constant of the package that its exercise's answer uses. The
instructor's side is checked from the sources: each syllabus session fits its 90
minutes with the notes' minutes, and every discussion question has a model answer.
"""

import ast
import html
import itertools
import json
import keyword
import re
import socket
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import browser
import pytest
from docutils.nodes import make_id
from sphinx.search.en import SearchEnglish

from exercises.tool.catalogue import Exercise, load_catalogue
from exercises.tool.layout import Layout
from exercises.tool.regions import ANY_MARKER, cut_regions, scan_package
from exercises.tool.workcopy import starter_message

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = Layout(ROOT)
EXERCISES = load_catalogue(LAYOUT.catalogue)
SCAN = scan_package(LAYOUT.package)
"""The reference package's regions, scanned once: a scan parses and checks every
module, and the tests below ask for a region hundreds of times."""
BUILD_TIMEOUT = 240  # seconds for one strict build (tests/conftest.py builds them)
SHORTEST_DISTINCTIVE = 12  # characters: shorter lines (``else:``) prove nothing
TAG = re.compile(r"<[^>]+>")
LINE_NUMBER = re.compile(r'<span class="linenos">[^<]*</span>')
# Everything the book can include or quote: a line found in one of these outside the
# region is not distinctive. The instructor notes and wrong answers are left out:
# they appear only in the instructor edition, which is the point.
SEARCHED_SOURCES = ("minigun", "tests", "examples", "book", "pyproject.toml")
INSTRUCTOR_ONLY = ("book/instructor", "book/syllabus.md", "book/classroom.md")
STORY_CHAPTERS = sorted({exercise.chapter for exercise in EXERCISES})
# The four classroom editions, started as the run begins (tests/conftest.py); the
# first test to read one may wait for the builds still running.
pytestmark = [
    pytest.mark.reads_editions(
        "html-student", "html-instructor", "html-zh-student", "html-zh-instructor"
    ),
    pytest.mark.timeout(4 * BUILD_TIMEOUT),
]


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
    (region,) = SCAN.named(exercise.region)
    lines = region.path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[region.begin : region.end - 1]]


def lines_outside_regions() -> set[Fragment]:
    """Every fragment the book could show that is not inside an exercise region."""
    inside = {
        (region.path, number)
        for region in SCAN.regions
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


# The kit contract's definition of a reference line (KIT-CONTRACT in issue 23): a line
# of a region, stripped, unless it is generic: part of the package's own code outside
# every region (the kit ships that code, so showing it gives nothing away), or free of
# any identifier longer than three characters besides keywords (``return True``).
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def folded(text: str) -> str:
    return " ".join(text.split())


def package_code_outside_regions() -> str:
    """The package's lines outside every region, folded, one a line."""
    inside = {
        (region.path, number)
        for region in SCAN.regions
        for number in range(region.begin, region.end + 1)
    }
    return "\n".join(
        folded(line)
        for path in sorted(LAYOUT.package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if (path, number) not in inside
    )


def reference_lines() -> dict[str, str]:
    """Each reference line (folded) with the exercise whose region holds it."""
    outside = package_code_outside_regions()
    by_region = {exercise.region: exercise.id for exercise in EXERCISES}
    found: dict[str, str] = {}
    for region in SCAN.regions:
        body = region.path.read_text(encoding="utf-8").splitlines()
        for line in map(folded, body[region.begin : region.end - 1]):
            names = [w for w in IDENTIFIER.findall(line) if not keyword.iskeyword(w)]
            if line in outside or not any(len(name) > 3 for name in names):
                continue
            found.setdefault(line, by_region[region.name])
    return found


REFERENCE_LINES = reference_lines()


def quoted_reference_lines(build: Path) -> list[tuple[str, str, str]]:
    """Every reference line found in a file of ``build``: in a line of its text or of
    its visible text, or across the lines of a page (a quote wrapped in a paragraph)."""
    found = []
    for path in built_files(build):
        raw = path.read_text(encoding="utf-8", errors="replace")
        texts = [raw, visible_text(path)] if path.suffix == ".html" else [raw]
        lines = {folded(line) for text in texts for line in text.splitlines()}
        lines |= {folded(text) for text in texts}
        found += [
            (exercise, line, str(path.relative_to(build)))
            for line, exercise in REFERENCE_LINES.items()
            if any(line in text for text in lines)
        ]
    return found


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_instructor_edition_quotes_every_reference_line(instructor: Path) -> None:
    """Guard: the search below finds every reference line where it is shown."""
    found = {line for _, line, _ in quoted_reference_lines(instructor)}
    missed = [
        f"{exercise}: {line!r}"
        for line, exercise in REFERENCE_LINES.items()
        if line not in found
    ]
    assert len(REFERENCE_LINES) > len(EXERCISES), "guard: too few reference lines"
    assert not missed, "not found in the instructor edition:\n" + "\n".join(missed)


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_the_student_editions_quote_no_reference_line(
    student: Path, chinese_student: Path
) -> None:
    """Prose, task text, captions, diagrams, the search index: nothing of the
    student's editions, English or Chinese, holds a line of a reference answer."""
    found = [
        f"{exercise}: {line!r} in {edition.name}/{page}"
        for edition in (student, chinese_student)
        for exercise, line, page in quoted_reference_lines(edition)
    ]
    assert not found, "reference lines in the student editions:\n" + "\n".join(found)


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


# The student edition's listings are the kit's files

LISTING = re.compile(
    r'<div class="(?P<classes>[^"]*\bhighlight-\w+ notranslate\b[^"]*)">'
    r'<div class="highlight"><pre>(?P<code>.*?)</pre>',
    re.DOTALL,
)
NUMBERED_LINE = re.compile(
    r'^<span class="linenos">\s*(?P<number>\d+)</span>(?P<line>.*)$'
)


def kit_package_text() -> dict[str, list[str]]:
    """Each package file as the kit ships it: every region cut at once."""
    messages = {e.region: starter_message(LAYOUT, e) for e in EXERCISES}
    return {
        path.relative_to(ROOT).as_posix(): cut_regions(
            path.read_text(encoding="utf-8"), messages
        ).splitlines()
        for path in sorted(LAYOUT.package.rglob("*.py"))
    }


KIT_FILES = kit_package_text()
FILE_OF_CLASS = {"listing-" + make_id(name): name for name in KIT_FILES}


@dataclass(frozen=True)
class Listing:
    """One listing of a built page: the file it names, and its lines by number."""

    page: str
    file: str | None  # a package file, or None for a file the kit does not hold
    marked: bool  # the extension named its file (every literalinclude is named)
    lines: dict[int, str]  # empty when the listing shows no line numbers


def listings(build: Path) -> list[Listing]:
    found = []
    for page in sorted(build.glob("*.html")):
        for block in LISTING.finditer(page.read_text(encoding="utf-8")):
            classes = block["classes"].split()
            names = [FILE_OF_CLASS[c] for c in classes if c in FILE_OF_CLASS]
            marked = any(c.startswith("listing-") for c in classes)
            lines = dict(numbered_lines(block["code"]))
            found.append(Listing(page.name, next(iter(names), None), marked, lines))
    return found


def numbered_lines(code: str) -> list[tuple[int, str]]:
    """A highlighted listing's lines as text, each with the number printed beside it."""
    lines = []
    for html_line in code.split("\n"):
        numbered = NUMBERED_LINE.match(html_line)
        if numbered:
            text = html.unescape(TAG.sub("", numbered["line"]))
            lines.append((int(numbered["number"]), text))
    return lines


def differences_from_the_kit(build: Path) -> list[str]:
    """Every listed line that differs from the kit's file at the same number."""
    package_listings = [listing for listing in listings(build) if listing.file]
    assert len(package_listings) > len(EXERCISES), "guard: no package listing found"
    problems = [
        f"{listing.page}: a listing of {listing.file} shows no line numbers"
        for listing in package_listings
        if not listing.lines
    ]
    for listing in package_listings:
        kit = KIT_FILES[str(listing.file)]
        problems += [
            f"{listing.page}: {listing.file}:{number} shows {text!r}, the kit has "
            + repr(kit[number - 1] if number <= len(kit) else "(no such line)")
            for number, text in listing.lines.items()
            if number > len(kit) or text.rstrip() != kit[number - 1].rstrip()
        ]
    return problems


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_student_listings_are_the_kits_files_line_for_line(student: Path) -> None:
    """A student who opens the kit's file at the number the book prints sees the
    line the book shows: the listings are cut as the kit is, every hole at once."""
    problems = differences_from_the_kit(student)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_every_numbered_student_listing_names_its_file(student: Path) -> None:
    """Guard for the test above: a numbered listing the extension did not name would
    escape the comparison with the kit."""
    unnamed = [
        f"{listing.page}: {sorted(listing.lines.items())[:1]}"
        for listing in listings(student)
        if listing.lines and not listing.marked
    ]
    assert not unnamed, "numbered listings with no file named:\n" + "\n".join(unnamed)


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_chinese_student_listings_are_the_kits_files_line_for_line(
    chinese_student: Path,
) -> None:
    problems = differences_from_the_kit(chinese_student)
    assert not problems, "\n".join(problems[:40])


WORD = re.compile(r"\w+")


# Each chapter teaches what its exercise needs

PYTHONS_OWN = {  # methods of Python's own types: the chapter need not teach them
    name
    for kind in (str, bytes, dict, list, set, socket.socket, BaseException)
    for name in dir(kind)
}


def names_the_package_defines() -> set[str]:
    """Functions, classes, attributes and constants defined anywhere in minigun."""
    names: set[str] = set()
    for path in LAYOUT.package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return names - PYTHONS_OWN


def names_the_answer_uses(exercise: Exercise) -> set[str]:
    """The package's names the reference region reads or calls (not its locals)."""
    (region,) = SCAN.named(exercise.region)
    body = region.path.read_text(encoding="utf-8").splitlines()
    code = textwrap.dedent("\n".join(body[region.begin : region.end - 1]))
    tree = ast.parse("def region():\n" + textwrap.indent(code, "    "))
    local = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    used |= {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in local
    }
    return used & DEFINED


DEFINED = names_the_package_defines()


def teaching_text(build: Path, chapter: str) -> set[str]:
    """The words of a chapter before its exercises: what it shows and explains."""
    page = visible_text(build / f"{chapter}.html")
    first = min(
        page.index(f"Exercise {exercise.number}:")
        for exercise in EXERCISES
        if exercise.chapter == chapter
    )
    return set(WORD.findall(page[:first]))


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_each_chapter_shows_what_its_exercise_calls(student: Path) -> None:
    """Every helper, attribute and constant of the package that a reference answer
    uses is named in the teaching part of its chapter in the student edition (a
    listing or the prose), so the chapter and the task alone are enough."""
    used = {exercise.id: names_the_answer_uses(exercise) for exercise in EXERCISES}
    assert sum(map(len, used.values())) > len(EXERCISES), "guard: too few names"
    missing = [
        f"exercise {exercise.number} ({exercise.id}), {exercise.chapter}.html: {name}"
        for exercise in EXERCISES
        for name in sorted(used[exercise.id] - teaching_text(student, exercise.chapter))
    ]
    assert not missing, "names the answers use that their chapter never shows:\n" + (
        "\n".join(missing)
    )


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


# English prose the editions' own machinery writes (book/_ext, the theme): none of it
# may reach a Chinese edition. Code, listings and the API appendix may stay English.
GENERATED_ENGLISH = (
    "what exercise",
    "asks you to fill in",
    "the region that exercise",
    "Show the reference solution",
    "Show the solution",
    "student edition",
    "instructor edition",
    "the minigun authors",
    "On this page",
    "Back to top",
    "Skip to content",
    "Made with",
    "Link to this",
)


@pytest.mark.timeout(4 * BUILD_TIMEOUT)
@pytest.mark.parametrize("edition", ["html-zh-student", "html-zh-instructor"])
def test_the_chinese_classroom_editions_write_no_english_of_their_own(
    book_edition: Callable[[str], Path], edition: str
) -> None:
    """Titles, captions, the solution's fold, the theme's words: all Chinese."""
    folder = book_edition(edition)
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        found = [english for english in GENERATED_ENGLISH if english in text]
        assert not found, f"{edition}/{page.name}: {found}"
    shutdown = visible_text(folder / "shutdown.html")
    if edition == "html-zh-student":
        assert "minigun 0" in shutdown and "学生版" in shutdown, "no Chinese title"
        assert "练习 15 要你补全的部分" in shutdown, "the hole's caption is not Chinese"
    else:
        assert "教师版" in shutdown and "查看参考答案" in shutdown, shutdown[-500:]


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


@pytest.mark.parametrize("edition", ["chinese_student", "chinese_instructor"])
def test_each_chinese_classroom_edition_finds_chinese_words(
    edition: str, request: pytest.FixtureRequest
) -> None:
    built = request.getfixturevalue(edition)
    for words in ("信号", "主进程", "心跳"):
        results = browser.search_results(built, words)
        assert results, f"searching {built.name} for {words!r} lists nothing"


# The instructor's side: a syllabus that fits, questions with answers

SESSION_MINUTES = 90
SESSION = re.compile(r"^## Session (\d+):.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
PLANNED = re.compile(r"(\d+) `([a-z-]+)`\s+\((\d+) min")
BUDGET = re.compile(r"^- Time: (?P<parts>.*): (?P<total>\d+) of (?P<of>\d+) minutes\.$")
NOTED = re.compile(r"Exercise (\d+) \(`([a-z-]+)`\): about (\d+) minutes")
BOOK = ROOT / "book"


def minutes_in_the_notes() -> dict[str, int]:
    """Each exercise's minutes as its chapter's instructor notes give them."""
    return {
        found[2]: int(found[3])
        for path in sorted((BOOK / "instructor").glob("*.md"))
        for found in NOTED.finditer(path.read_text(encoding="utf-8"))
    }


def test_every_session_of_the_syllabus_fits_its_time() -> None:
    """The exercises a session plans (minutes from the instructor notes), its talk
    and its discussion add up to what the session says, within 90 minutes; every
    exercise is planned once, in class or as homework."""
    noted = minutes_in_the_notes()
    assert set(noted) == {exercise.id for exercise in EXERCISES}, "notes lack minutes"
    syllabus = (BOOK / "syllabus.md").read_text(encoding="utf-8")
    planned: list[str] = []
    sessions = list(SESSION.finditer(syllabus))
    assert len(sessions) == 6, "the syllabus should have six sessions"
    for session in sessions:
        text = session[0]
        lines = [line for line in text.split("\n- ") if line.startswith("Exercises:")]
        in_class = [m for line in lines for m in PLANNED.finditer(line)]
        planned += [m[2] for m in PLANNED.finditer(text)]
        for found in PLANNED.finditer(text):
            assert int(found[3]) == noted[found[2]], (
                f"session {session[1]}: {found[2]} planned for {found[3]} minutes, "
                f"its chapter's notes say {noted[found[2]]}"
            )
        (budget,) = [
            BUDGET.match(line) for line in text.splitlines() if "Time:" in line
        ]
        assert budget, f"session {session[1]}: no '- Time: ...: N of 90 minutes.' line"
        parts = dict(
            (name, int(minutes))
            for name, minutes in (p.rsplit(" ", 1) for p in budget["parts"].split(", "))
        )
        exercises = sum(int(found[3]) for found in in_class)
        assert parts.get("exercises") == exercises, (
            f"session {session[1]}: the exercises take {exercises} minutes, the "
            f"budget says {parts.get('exercises')}"
        )
        assert sum(parts.values()) == int(budget["total"]), f"session {session[1]}"
        assert int(budget["of"]) == SESSION_MINUTES, f"session {session[1]}"
        assert int(budget["total"]) <= SESSION_MINUTES, (
            f"session {session[1]} needs {budget['total']} of {SESSION_MINUTES} minutes"
        )
    assert sorted(planned) == sorted(e.id for e in EXERCISES), (
        f"each exercise once in the syllabus: {sorted(planned)}"
    )


DISCUSSION = re.compile(
    r"```\{rubric\} Discussion questions\n```\n(?P<body>.*?)^:::", re.M | re.S
)
QUESTION = re.compile(r"^\d+\. ", re.MULTILINE)
ANSWER = "*Model answer.*"


@pytest.mark.parametrize("chapter", STORY_CHAPTERS)
def test_every_discussion_question_has_a_model_answer(chapter: str) -> None:
    """The instructor notes (instructor edition only) answer each of their questions."""
    notes = (BOOK / "instructor" / f"{chapter}.md").read_text(encoding="utf-8")
    (discussion,) = DISCUSSION.finditer(notes)
    items = QUESTION.split(discussion["body"])[1:]
    assert items, f"{chapter}: no discussion question"
    unanswered = [item.splitlines()[0] for item in items if ANSWER not in item]
    assert not unanswered, f"{chapter}: questions without a model answer: {unanswered}"
