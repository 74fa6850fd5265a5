"""The Chinese edition as its reader gets it: built pages, in Chinese, linked both ways.

Both editions are built the way `make html` and `make html-zh` build them (the same
strict flags, side by side in one folder as in ``_build/``; the ``book_edition``
fixture of ``tests/conftest.py`` builds each once per run), then read as HTML:

* a page whose catalog is complete reads as Chinese prose: every paragraph of the
  page's own text holds Chinese, code aside (the API appendix is left out: its
  docstrings stay English by design, see ``book/_ext/minigun_i18n.py``); and every
  page's title is Chinese;
* every page of each edition links to the same page of the other one, and the link
  resolves to a file that links back.
"""

import re
from collections.abc import Callable
from pathlib import Path

import browser
import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup, Tag

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "book" / "locale" / "zh_CN" / "LC_MESSAGES"
BUILD_TIMEOUT = 240  # seconds for one strict build (tests/conftest.py builds them)
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){3,}")
DOCSTRING_PAGES = {"api"}
# Whichever test runs first waits for both builds, here or in another worker.
pytestmark = pytest.mark.timeout(2 * BUILD_TIMEOUT + 30)


@pytest.fixture(scope="module")
def editions(book_edition: Callable[[str], Path]) -> Path:
    """A folder holding ``html`` and ``html-zh`` side by side, as ``_build`` does:
    built once per run (tests/conftest.py)."""
    book_edition("html")
    return book_edition("html-zh").parent


def complete_pages() -> list[str]:
    """Pages whose catalog has every message translated and none fuzzy."""
    complete = []
    for po in sorted(CATALOGS.glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        if all(m.string and not m.fuzzy for m in catalog if m.id):
            complete.append(po.stem)
    return [page for page in complete if (ROOT / "book" / f"{page}.md").exists()]


def read_page(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def prose_paragraphs(page: BeautifulSoup) -> list[str]:
    """The text of each paragraph of the page's content, with code taken out."""
    article = page.find("article")
    assert isinstance(article, Tag), "no <article> in the page"
    texts = []
    for paragraph in article.find_all("p"):
        if paragraph.find_parent("pre") or paragraph.find_parent("dl", class_="py"):
            continue  # a listing, or an API entry rendered from a docstring
        for code in paragraph.find_all(["code", "span"], class_=["literal", "pre"]):
            code.decompose()
        texts.append(paragraph.get_text(" ", strip=True))
    return texts


def test_translated_pages_read_as_chinese(editions: Path) -> None:
    pages = [page for page in complete_pages() if page not in DOCSTRING_PAGES]
    assert "index" in pages, "the index page's catalog must be complete"
    english = []
    for name in pages:
        built = editions / "html-zh" / f"{name}.html"
        if not built.exists():
            continue  # the syllabus: instructor editions only (test_editions.py)
        page = read_page(built)
        for text in prose_paragraphs(page):
            if ENGLISH_WORDS.search(text) and not CJK.search(text):
                english.append(f"{name}.html: {text[:80]!r}")
    assert not english, "English prose in translated pages:\n" + "\n".join(english)


def test_every_page_title_is_chinese(editions: Path) -> None:
    """Even a page with messages left to translate has its own title in Chinese."""
    pages = sorted(p.stem for p in (ROOT / "book").glob("*.md") if p.stem != "README")
    english = []
    for name in pages:
        built = editions / "html-zh" / f"{name}.html"
        if not built.exists():
            continue  # a fragment included by another page (hooks-timeline)
        title = read_page(built).find("h1")
        text = title.get_text(strip=True) if isinstance(title, Tag) else ""
        if not CJK.search(text):
            english.append(f"{name}.html: {text!r}")
    assert not english, "pages with an English title:\n" + "\n".join(english)


SWITCH = re.compile(r'<a class="language-switch" href="([^"]*)"[^>]*>([^<]*)</a>')


def switch_target(page: Path) -> tuple[Path, str]:
    """Where the page's language switch leads, resolved, and the link's label."""
    link = SWITCH.search(page.read_text(encoding="utf-8"))
    assert link, f"{page.name}: no language switch"
    href, label = link.groups()
    assert not re.match(r"^[a-z]+:|^/", href), f"{page.name}: link not relative: {href}"
    return (page.parent / href).resolve(), label.strip()


@pytest.mark.timeout(2 * BUILD_TIMEOUT + 30)
@pytest.mark.parametrize(
    ("edition", "label"), [("html", "中文"), ("html-zh", "English")]
)
def test_every_page_links_to_the_same_page_of_the_other_edition(
    editions: Path, edition: str, label: str
) -> None:
    pages = sorted((editions / edition).rglob("*.html"))
    assert len(pages) > 20, f"{edition}: only {len(pages)} pages built"
    broken = []
    for page in pages:
        target, shown = switch_target(page)
        back, _ = switch_target(target) if target.exists() else (None, "")
        if shown != label or not target.exists() or back != page.resolve():
            where = page.relative_to(editions)
            broken.append(f"{where}: {shown!r} -> {target} (back: {back})")
    assert not broken, "language switch broken:\n" + "\n".join(broken)


def test_the_chinese_edition_says_it_is_chinese(editions: Path) -> None:
    html = read_page(editions / "html-zh" / "index.html").find("html")
    assert isinstance(html, Tag)
    assert html.get("lang") == "zh-CN"


# The book's own terms (the glossary's), and one English word: before the search
# fix, the Chinese index held no Chinese word and a script error emptied every query.
SEARCH_WORDS = ["信号", "钩子", "心跳", "主进程", "工作进程", "优雅关闭", "arbiter"]


@pytest.mark.parametrize("words", SEARCH_WORDS)
def test_the_chinese_search_finds_the_books_terms(editions: Path, words: str) -> None:
    results = browser.search_results(editions / "html-zh", words)
    assert results, f"searching the Chinese edition for {words!r} lists nothing"


def test_the_english_search_still_finds_words(editions: Path) -> None:
    assert browser.search_results(editions / "html", "heartbeat")
