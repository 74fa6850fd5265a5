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

import html
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
pytestmark = [
    pytest.mark.timeout(2 * BUILD_TIMEOUT + 30),
    pytest.mark.reads_editions("html", "html-zh"),  # started early: tests/conftest.py
]


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


# The book's own terms (the glossary's and the term list's, the newer ones jieba
# would cut in two without search-words.txt: 重新加载, 监听套接字, 退役, 空缺), and one
# English word: before the search fix, the Chinese index held no Chinese word and a
# script error emptied every query.
SEARCH_WORDS = ["信号", "钩子", "心跳", "主进程", "工作进程", "优雅关闭", "重新加载",
                "监听套接字", "退役", "空缺", "重新拉起", "arbiter"]  # fmt: skip


@pytest.mark.parametrize("words", SEARCH_WORDS)
def test_the_chinese_search_finds_the_books_terms(editions: Path, words: str) -> None:
    results = browser.search_results(editions / "html-zh", words)
    assert results, f"searching the Chinese edition for {words!r} lists nothing"


def test_the_english_search_still_finds_words(editions: Path) -> None:
    assert browser.search_results(editions / "html", "heartbeat")


# The recorded runs (book/_ext/minigun_runs.py): in both languages, the same record
# (never translated), its timeline, and a caption in the page's language.
RUN_CHAPTERS = ["prefork", "arbiter", "worker", "shutdown", "signals", "hooks",
                "upgrade", "deploy"]  # fmt: skip
# For each recorded run on the page: does the transcript fit its box (its lines wrap,
# nothing hidden), and does the timeline fit the text column and keep its labels?
# And every listing of the page: how many pixels of it hide behind a scroll bar.
PAGE_LAYOUT = """({
  runs: Array.from(document.querySelectorAll('.literal-block-wrapper'))
    .filter(w => w.querySelector('.minigun-recorded-run')).map(w => {
      const pre = w.querySelector('pre');
      const svg = w.nextElementSibling.querySelector('svg.minigun-timeline');
      const column = document.querySelector('article').getBoundingClientRect();
      const box = svg.getBoundingClientRect();
      return {id: w.id, hidden: pre.scrollWidth - pre.clientWidth,
              svgLeft: box.left - column.left, svgRight: column.right - box.right,
              svgWidth: box.width, labels: svg.querySelectorAll('text').length};
    }),
  clipped: Array.from(document.querySelectorAll('pre'))
    .filter(pre => pre.scrollWidth > pre.clientWidth)
    .map(pre => (pre.closest('[id]') || {}).id + ': ' + pre.textContent.slice(0, 60))
})"""


@pytest.mark.parametrize("chapter", RUN_CHAPTERS)
def test_both_editions_carry_the_recorded_run(editions: Path, chapter: str) -> None:
    for edition in ("html", "html-zh"):
        page = (editions / edition / f"{chapter}.html").read_text(encoding="utf-8")
        assert '<svg class="minigun-timeline"' in page, (edition, chapter)
        assert "Starting minigun" in page or "Listening on" in page, (edition, chapter)
    chinese = (editions / "html-zh" / f"{chapter}.html").read_text(encoding="utf-8")
    assert "由本书的这次构建录制" in chinese


WIDTHS = (1280, 800)


def layout_problems(page: Path, width: int, layout: dict) -> list[str]:
    """What does not fit in ``page`` at ``width`` px, as Chromium laid it out."""
    where = f"{page.parent.name}/{page.name} at {width} px"
    problems = [f"{where}: clipped listing {clip}" for clip in layout["clipped"]]
    for run in layout["runs"]:
        if run["hidden"] > 0:
            problems.append(f"{where}#{run['id']}: log lines hidden: {run}")
        if run["svgLeft"] < -1 or run["svgRight"] < -1 or run["svgWidth"] < 300:
            problems.append(f"{where}#{run['id']}: timeline outside the column: {run}")
        if run["labels"] <= 5:
            problems.append(f"{where}#{run['id']}: timeline without labels: {run}")
    return problems


@pytest.mark.timeout(300)
def test_every_page_fits_the_screen_in_a_browser(editions: Path) -> None:
    """In headless Chromium at 1280 and 800 px, every page of the English edition and
    the Chinese pages with recorded runs: no listing with its end hidden behind a
    scroll bar (the 88-column listings once were, at 1280 px), no recorded run with
    hidden log lines, and each timeline inside the text column with its labels."""
    pages = sorted((editions / "html").glob("*.html"))
    pages += [editions / "html-zh" / f"{chapter}.html" for chapter in RUN_CHAPTERS]
    with_runs = {f"{chapter}.html" for chapter in RUN_CHAPTERS}
    with ThreadPoolExecutor(max_workers=2) as pool:  # two cores: two browsers at once
        layouts = pool.map(
            lambda width: browser.measured_each(pages, width, PAGE_LAYOUT), WIDTHS
        )
        problems = [
            problem
            for width, measured in zip(WIDTHS, layouts, strict=True)
            for page, layout in zip(pages, measured, strict=True)
            for problem in layout_problems(page, width, layout)
        ]
    assert not problems, "\n".join(problems)
    for page in pages:
        if page.name in with_runs:
            assert '<svg class="minigun-timeline"' in page.read_text(encoding="utf-8")


CAPTION = re.compile(r'<span class="caption-text">(.*?)</span>', re.DOTALL)


@pytest.mark.parametrize("edition", ["html", "html-zh"])
def test_captions_keep_their_dunder_names(editions: Path, edition: str) -> None:
    """`minigun/__init__.py` once rendered as "minigun/**init**.py": Markdown read the
    underscores as emphasis (book/_ext/minigun_captions.py mends it)."""
    bold = [
        f"{page.name}: {caption}"
        for page in sorted((editions / edition).glob("*.html"))
        for caption in CAPTION.findall(page.read_text(encoding="utf-8"))
        if "<strong>" in caption
    ]
    assert not bold, "\n".join(bold)
    arbiter = (editions / edition / "arbiter.html").read_text(encoding="utf-8")
    assert "Arbiter.__init__</span>" in arbiter


def test_diagrams_show_their_words_whole(editions: Path) -> None:
    """Every word with an underscore or a hyphen that a diagram writes is one piece
    of text in the drawn SVG, not words joined by a stroke."""
    from test_book import svgbob_words

    texts = []
    for svg in (editions / "html" / "_images").glob("svgbob-*.svg"):
        drawn = re.findall(
            r"<text[^>]*>([^<]*)</text>", svg.read_text(encoding="utf-8")
        )
        texts += [html.unescape(text).replace("\xa0", " ") for text in drawn]
    words = svgbob_words()
    assert len(words) > 20, words
    missing = sorted(w for w in words if not any(w in text for text in texts))
    assert not missing, f"drawn in pieces: {missing}"


MARKER = re.compile(r"# (?:end-)?exercise: [\w-]+")
TAG = re.compile(r"<[^>]+>")


@pytest.mark.parametrize("edition", ["html", "html-zh"])
def test_the_readers_listings_show_no_exercise_markers(
    editions: Path, edition: str
) -> None:
    """`# exercise: ID` comments frame the student's holes; the reader's listings show
    the code without them (book/_ext/minigun_render.py), line numbers unchanged."""
    marked = [
        f"{page.name}: {found}"
        for page in sorted((editions / edition).glob("*.html"))
        for found in MARKER.findall(TAG.sub("", page.read_text(encoding="utf-8")))
    ]
    assert not marked, "\n".join(marked)
    # Arbiter.stop's marker line is there, empty, and the next line keeps its number.
    source = (ROOT / "minigun" / "arbiter.py").read_text().splitlines()
    marker = source.index("        # exercise: graceful-stop") + 1  # 1-based
    shutdown = TAG.sub("", (editions / edition / "shutdown.html").read_text("utf-8"))
    following = source[marker].strip()
    assert re.search(rf"\n{marker}\n{marker + 1} +{re.escape(following)}", shutdown)


THEME_LABELS = {
    "Next": "下一页",
    "Previous": "上一页",
    "On this page": "本页目录",
    "Back to top": "回到顶部",
    "Skip to content": "跳到正文",
}


def test_the_themes_labels_are_chinese_in_a_browser(editions: Path) -> None:
    """What furo writes around a page (book/_ext/minigun_i18n.py), as Chromium shows
    it: the Chinese words, not the English ones; the search box asks in Chinese."""
    dom = browser.rendered_dom(editions / "html-zh" / "arbiter.html")
    page = BeautifulSoup(dom, "html.parser")
    shown = " ".join(page.get_text(" ").split())
    for english, chinese in THEME_LABELS.items():
        assert chinese in shown, f"{chinese!r} ({english}) is not on the page"
        assert not re.search(rf"\b{english}\b", shown), f"{english!r} is on the page"
    search = page.select_one("input.sidebar-search")
    assert search is not None and search["placeholder"] == "搜索", search
    labels = [str(element["aria-label"]) for element in page.select("[aria-label]")]
    assert "展开或收起站点导航侧栏" in labels, labels  # furo writes it as fixed English
    assert not [label for label in labels if label.startswith("Toggle")], labels
    titles = [title.get_text() for title in page.select("svg symbol title")]
    assert "菜单" in titles and "Menu" not in titles, titles
    title = page.select_one("title")
    assert title is not None and CJK.search(title.get_text()), title


def drawn_labels(svg: Path) -> list[str]:
    """The words of a drawing as Chromium reads the SVG: svgbob draws a Chinese label
    one character per ``<text>``, grouped, so each group's characters are one label."""
    drawing = BeautifulSoup(browser.rendered_dom(svg), "html.parser")
    labels = []
    for element in drawing.select("svg > text, svg > g"):
        texts = element.select("text") if element.name == "g" else [element]
        labels.append("".join(text.get_text() for text in texts))
    return labels


def test_a_diagrams_labels_are_chinese_in_a_browser(editions: Path) -> None:
    """The master loop's drawing in the Chinese edition: one source, its words from
    the catalog (book/_ext/minigun_diagrams.py), code left as it is."""
    for edition, present, absent in (
        ("html-zh", ["收到首次心跳", "队列已空", "manage_workers:"], ["heartbeat"]),
        ("html", ["first heartbeat seen", "manage_workers:"], ["心跳"]),
    ):
        page = read_page(editions / edition / "arbiter.html")
        drawings = [img["src"] for img in page.select("img") if "svgbob" in img["src"]]
        assert drawings, f"no diagram in {edition}/arbiter.html"
        labels = drawn_labels(editions / edition / str(drawings[0]))
        joined = " ".join(labels)
        for words in present:
            assert words in joined, f"{edition}: {words!r} not drawn: {labels}"
        for words in absent:
            assert words not in joined, f"{edition}: {words!r} drawn: {labels}"
