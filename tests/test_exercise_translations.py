"""Every exercise's task reads in Chinese too, with the very same code as in English.

Under a Chinese locale the runner shows ``README.zh_CN.md`` instead of ``README.md``
(issue 14). The two are one task in two languages, so for every exercise folder the
catalogue lists, the Chinese task must:

* exist;
* keep the English task's outline: the same headings, level for level;
* carry exactly the same code: the same set of inline code spans (a name the student
  types must be spelled as in the code, whatever the language around it) and the same
  fenced blocks, in order;
* be Chinese prose: every heading, paragraph and list item holds Chinese, no run of
  English words is left untranslated, and Chinese outweighs the Latin letters.

Both files are parsed with markdown-it, the parser MyST uses when the chapters include
the tasks, so a code span wrapped over two lines counts as one span, as it renders.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
CATALOGUE = EXERCISES / "catalogue.toml"
ENGLISH_TASK = "README.md"
CHINESE_TASK = "README.zh_CN.md"
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
# Four English words in a row is an untranslated phrase; a term kept in English
# beside its Chinese name ("custom application", "gthread worker") is shorter.
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){3,}")


@dataclass(frozen=True)
class Task:
    """What the comparison needs from one task file."""

    headings: list[str]  # the tags in order: "h1", "h2", ...
    code_spans: set[str]
    fences: list[tuple[str, str]]  # (info string, content)
    prose: list[str]  # each heading, paragraph and list item, code taken out


def exercise_folders() -> list[str]:
    """``NN-id`` for every exercise, numbered by its place in the catalogue."""
    catalogue = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    entries = catalogue.get("exercise", [])
    return [f"{number:02d}-{entry['id']}" for number, entry in enumerate(entries, 1)]


def parse_task(path: Path) -> Task:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    headings = [token.tag for token in tokens if token.type == "heading_open"]
    fences = [
        (token.info.strip(), token.content)
        for token in tokens
        if token.type in ("fence", "code_block")
    ]
    inlines = [token for token in tokens if token.type == "inline"]
    code_spans = {
        " ".join(child.content.split())
        for token in inlines
        for child in token.children or []
        if child.type == "code_inline"
    }
    return Task(headings, code_spans, fences, [prose_of(token) for token in inlines])


def prose_of(inline: Token) -> str:
    """The words of one block as a reader sees them, inline code left out."""
    words = [child.content for child in inline.children or [] if child.type == "text"]
    return " ".join(" ".join(words).split())


def tasks(folder: str) -> tuple[Task, Task]:
    english = EXERCISES / folder / ENGLISH_TASK
    chinese = EXERCISES / folder / CHINESE_TASK
    assert english.is_file(), f"{english.relative_to(ROOT)} is missing"
    assert chinese.is_file(), (
        f"{chinese.relative_to(ROOT)} is missing: every exercise in the catalogue "
        f"needs its task in Chinese beside {ENGLISH_TASK}"
    )
    return parse_task(english), parse_task(chinese)


def test_the_catalogue_lists_the_exercises() -> None:
    """The tests below run once per exercise: an empty list would prove nothing."""
    folders = exercise_folders()
    assert folders, f"{CATALOGUE.relative_to(ROOT)} lists no [[exercise]]"
    missing = [name for name in folders if not (EXERCISES / name).is_dir()]
    assert not missing, f"catalogued exercises without a folder: {missing}"


@pytest.mark.parametrize("folder", exercise_folders())
def test_the_chinese_task_has_the_same_headings(folder: str) -> None:
    english, chinese = tasks(folder)
    assert chinese.headings == english.headings, (
        f"exercises/{folder}: {ENGLISH_TASK} has the headings {english.headings}, "
        f"{CHINESE_TASK} has {chinese.headings}"
    )


@pytest.mark.parametrize("folder", exercise_folders())
def test_the_chinese_task_has_the_same_code(folder: str) -> None:
    english, chinese = tasks(folder)
    missing = sorted(english.code_spans - chinese.code_spans)
    extra = sorted(chinese.code_spans - english.code_spans)
    assert not missing and not extra, (
        f"exercises/{folder}: the inline code of the two tasks differs; "
        f"only in {ENGLISH_TASK}: {missing}; only in {CHINESE_TASK}: {extra}"
    )
    assert chinese.fences == english.fences, (
        f"exercises/{folder}: the fenced code blocks differ; {ENGLISH_TASK} has "
        f"{english.fences}, {CHINESE_TASK} has {chinese.fences}"
    )


@pytest.mark.parametrize("folder", exercise_folders())
def test_the_chinese_task_is_chinese_prose(folder: str) -> None:
    _, chinese = tasks(folder)
    where = f"exercises/{folder}/{CHINESE_TASK}"
    not_chinese = [
        text for text in chinese.prose if LATIN.search(text) and not CJK.search(text)
    ]
    assert not not_chinese, f"{where}: blocks without any Chinese: {not_chinese}"
    english_runs = [
        run.group() for text in chinese.prose for run in ENGLISH_WORDS.finditer(text)
    ]
    assert not english_runs, f"{where}: English left untranslated: {english_runs}"
    text = "".join(chinese.prose)
    cjk, latin = len(CJK.findall(text)), len(LATIN.findall(text))
    assert cjk > latin, (
        f"{where}: not mostly Chinese: {cjk} Chinese characters against {latin} "
        "Latin letters outside code"
    )
