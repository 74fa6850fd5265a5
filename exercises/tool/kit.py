"""``make student-kit``: the repository a teacher hands out, with no answer in it.

The instructor's repository holds the reference: the whole ``minigun/``, each
exercise's plausible wrong answer, hidden tests, the instructor's book. A student who
is given it has every answer. The kit is what they get instead, a standalone
repository (a fresh git repository with one commit, none of this one's history)::

    README.md README.zh_CN.md Makefile pyproject.toml .gitignore tests/ .github/
                              # the kit's own files, from the template folder kit/
    minigun/                  # the package with every exercise's region cut at once
    examples/hello.py         # what `make run` serves
    examples/tiny_prefork.py  # the prefork chapter's smallest server, to run
    exercises/catalogue.toml fakes.py tool/ chapters.json holes.json
    exercises/NN-id/          # task (English, Chinese), conftest, tests
    book/en/ book/zh_CN/      # the student edition, built

Left out: each exercise's ``wrong.txt`` and ``hidden/`` tests, the teacher's modules of
the runner (only :data:`RUNNER_MODULES` go), every cache and bytecode file.
``chapters.json`` and ``holes.json`` are generated here, so the kit's runner needs
neither Sphinx, babel nor the book's sources: the chapters' numbers and titles and the
built pages from the first, each hole's function and its text as shipped from the
second.

``python -m exercises.tool.kit DEST --book en=DIR --book zh_CN=DIR`` builds it; the
Makefile passes the student editions it has just built.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .book import Book
from .catalogue import Exercise, load_catalogue
from .chapters import LANGUAGES, Chapters
from .holes import Hole, holes_json, starter_of
from .layout import BACKUPS, HINTS_SHOWN, Layout
from .regions import scan_package
from .workcopy import region_function, write_kit_package

TEMPLATE = "kit"
RUNNER_MODULES = (
    "__init__.py",
    "__main__.py",
    "catalogue.py",
    "chapters.py",
    "commands.py",
    "hints.py",
    "holes.py",
    "layout.py",
    "messages.py",
    "regions.py",
    "results.py",
    "wrap.py",
)
SHARED_EXERCISE_FILES = ("catalogue.toml", "fakes.py")
EXAMPLES = ("examples/__init__.py", "examples/hello.py", "examples/tiny_prefork.py")
CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache")
# What an exercise folder keeps to the teacher: the wrong answer the check runs, the
# hidden tests the grader runs, and anything a student's run left behind.
TEACHER_ONLY = ("wrong.txt", "hidden", "work", BACKUPS, HINTS_SHOWN, *CACHES)
BOOK_LEFT_OUT = (".buildinfo", ".doctrees")
COMMIT_MESSAGE = "The minigun student kit"
KIT_AUTHOR = ("minigun kit", "kit@minigun.invalid")


class KitError(Exception):
    """The kit cannot be built: a book edition or the template is missing."""


def build_kit(
    layout: Layout,
    dest: Path,
    books: dict[str, Path],
    template: Path | None = None,
) -> None:
    """Writes the kit into ``dest`` (replaced whole), committed once.

    ``books`` maps a language (``en``, ``zh_CN``) to its built student edition. The
    kit is written beside ``dest`` and renamed into place at the end, so a failed
    build never leaves a half kit that looks like a whole one.
    """
    template = template or layout.root / TEMPLATE
    missing = [str(path) for path in [template, *books.values()] if not path.is_dir()]
    if missing:
        raise KitError(f"missing: {', '.join(missing)} (build the student editions)")
    building = dest.with_name(dest.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    write_kit_package(layout, building)
    kit = Layout(building, layout.package_name)
    exercises = load_catalogue(layout.catalogue)
    copy_exercises(layout, kit, exercises)
    kit.holes.write_text(holes_json(hole_table(layout, kit, exercises)), "utf-8")
    kit.chapters.write_text(chapter_table(layout, books, exercises).as_json(), "utf-8")
    for language, folder in books.items():
        shutil.copytree(
            folder,
            kit.book / language,
            ignore=shutil.ignore_patterns(*BOOK_LEFT_OUT),
        )
    for name in EXAMPLES:
        (building / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(layout.root / name, building / name)
    shutil.copytree(
        template, building, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*CACHES)
    )
    commit_once(building)
    shutil.rmtree(dest, ignore_errors=True)
    building.rename(dest)


def copy_exercises(layout: Layout, kit: Layout, exercises: list[Exercise]) -> None:
    """The exercise folders without what is the teacher's, the shared files, the
    runner's student modules."""
    for exercise in exercises:
        shutil.copytree(
            layout.folder(exercise),
            kit.folder(exercise),
            ignore=shutil.ignore_patterns(*TEACHER_ONLY),
        )
    for name in SHARED_EXERCISE_FILES:
        shutil.copy2(layout.exercises / name, kit.exercises / name)
    tool = kit.exercises / "tool"
    tool.mkdir()
    for name in RUNNER_MODULES:
        shutil.copy2(Path(__file__).with_name(name), tool / name)


def hole_table(
    layout: Layout, kit: Layout, exercises: list[Exercise]
) -> dict[str, Hole]:
    """Each exercise's hole: its file, its function, and that function as shipped."""
    holes = {}
    scan = scan_package(layout.package)
    for exercise in exercises:
        function = region_function(scan, exercise)
        text = (kit.root / exercise.file).read_text(encoding="utf-8")
        holes[exercise.id] = Hole(exercise.file, function, starter_of(text, function))
    return holes


def chapter_table(
    layout: Layout, books: dict[str, Path], exercises: list[Exercise]
) -> Chapters:
    """Every chapter's number, titles and built pages; every exercise's place."""
    book = Book(layout.book)
    chapters: dict[str, dict[str, object]] = {}
    for stem in book.chapters:
        heading = book.heading(stem)
        titles = {"en": heading, "zh_CN": book.translated(stem, heading)}
        chapters[stem] = {
            "number": book.number(stem),
            "title": {language: titles[language] for language in LANGUAGES},
            "page": {
                language: f"book/{language}/{stem}.html"
                for language, folder in books.items()
                if (folder / f"{stem}.html").is_file()
            },
        }
    places = {
        exercise.id: {
            language: exercise_page(folder, exercise, language)
            for language, folder in books.items()
            if (folder / f"{exercise.chapter}.html").is_file()
        }
        for exercise in exercises
    }
    return Chapters(chapters, places)


def exercise_page(folder: Path, exercise: Exercise, language: str) -> str:
    """``book/<language>/<chapter>.html#<the exercise's section>``.

    The section's id is read from the built page (Sphinx makes it from the heading,
    ``Exercise 15: graceful timeout``), so it is the one the page really has; the
    page alone when no such section is found.
    """
    page = f"book/{language}/{exercise.chapter}.html"
    text = (folder / f"{exercise.chapter}.html").read_text(encoding="utf-8")
    section = re.search(rf'id="(exercise-{exercise.number}(?:-[^"]*)?)"', text)
    return f"{page}#{section[1]}" if section else page


def commit_once(folder: Path) -> None:
    """Makes ``folder`` a fresh git repository with everything in one commit."""
    name, email = KIT_AUTHOR
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
    quiet_git = ["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"]
    for arguments in (
        ["init", "--quiet"],
        ["symbolic-ref", "HEAD", "refs/heads/main"],
        ["add", "--all"],
        ["commit", "--quiet", "--message", COMMIT_MESSAGE],
    ):
        subprocess.run(
            [*quiet_git, *arguments],
            cwd=folder,
            env=environment,
            check=True,
            capture_output=True,
            timeout=120,
        )


def parse_books(pairs: list[str]) -> dict[str, Path]:
    """``en=_build/html-student`` and the like, to a mapping."""
    books = {}
    for pair in pairs:
        language, _, folder = pair.partition("=")
        if language not in LANGUAGES or not folder:
            raise KitError(f"--book {pair!r}: expected one of {LANGUAGES}=FOLDER")
        books[language] = Path(folder)
    return books


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m exercises.tool.kit")
    parser.add_argument("dest", type=Path, help="where to write the kit")
    parser.add_argument("--book", action="append", default=[], help="LANGUAGE=FOLDER")
    arguments = parser.parse_args(argv)
    layout = Layout(Path(__file__).resolve().parents[2])
    try:
        build_kit(layout, arguments.dest, parse_books(arguments.book))
    except KitError as error:
        print(f"student-kit: {error}", file=sys.stderr)
        return 1
    print(f"The student kit is in {arguments.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
