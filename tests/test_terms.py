"""The Chinese edition speaks with one voice: each concept has one Chinese term.

``book/locale/zh_CN/terms.toml`` is the term list (the glossary page of the Chinese
edition shows it): for each concept, the term the prose uses and the variants that are
wrong (bare ``worker`` for 工作进程, 优雅停止 for 优雅关闭, 重载 for 重新加载). This
test reads every Chinese text a reader or a student meets, the catalogs' translations
and the exercises' Chinese tasks and hints, and fails on a wrong variant in prose.

Prose is what is left once code is taken out: code spans and roles
(`` `worker_class` ``, ``{doc}`worker```), link targets, URLs and fenced blocks. An
ASCII variant counts only as a whole word, so identifiers, file names and packages
written without backticks in a hint (``worker.pid``, ``minigun/workers/base.py``,
``uvicorn-worker``) are not prose; an English gloss in full-width parentheses after
Chinese text (工作进程（worker）) is allowed, and so is a message left exactly as its
English (a glossary term such as ``master``, a name).
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TERMS = ROOT / "book" / "locale" / "zh_CN" / "terms.toml"
CATALOGS = ROOT / "book" / "locale" / "zh_CN" / "LC_MESSAGES"
CATALOGUE = ROOT / "exercises" / "catalogue.toml"
# jieba's user dictionary for the Chinese edition's search (conf.py's
# html_search_options): every Chinese term of the list must be one word in it.
SEARCH_WORDS = ROOT / "book" / "locale" / "zh_CN" / "search-words.txt"
CHINESE_MARKDOWN = [
    *sorted((ROOT / "exercises").glob("*/README.zh_CN.md")),
    ROOT / "kit" / "README.zh_CN.md",
]
SHOWN = 40
BUILD_TIMEOUT = 240  # seconds for one strict build (tests/conftest.py builds them)

# Not prose: a fenced block, a role and its target, a code span, a link target, a URL,
# a call or a tuple a hint writes without backticks: pre_fork(server, worker),
# (pid, status), and text in ASCII double quotes, which a diagram's label uses for
# code ("pid = os.fork()"; Chinese prose quotes with “ ”).
CODE = re.compile(
    r"^```.*?^```|\{[\w:-]+\}`[^`]*`|``.+?``|`[^`\n]+`|\]\([^)\s]*\)|<https?://[^>]*>"
    r"|https?://[\x21-\x7e]+|[A-Za-z_][\w.]*\([^()\n]*\)|\([\w .*'\"]+,[\w .,*'\"]+\)"
    r'|"[^"\n]*"',
    re.DOTALL | re.MULTILINE,
)
# A gloss: English in full-width parentheses right after Chinese text (or its quote).
GLOSS = re.compile(r"(?<=[\u4e00-\u9fff”」])（[\x20-\x7e]+）")
# What may not touch an ASCII variant for it to be a word of prose (not an identifier,
# a path, an option or a package name): worker_class, worker.pid, uvicorn-worker.
BEFORE = r"(?<![A-Za-z0-9_./-])"
AFTER = r"(?![A-Za-z0-9_/(-]|\.\w)"


@dataclass(frozen=True)
class Term:
    """One concept: the term the prose uses, the variants it must not use."""

    en: str
    zh: str
    wrong: tuple[str, ...]
    allow: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    where: str
    variant: str
    term: Term
    context: str

    def __str__(self) -> str:
        return f"{self.where}: {self.variant!r} (use {self.term.zh}): …{self.context}…"


def load_terms(path: Path = TERMS) -> list[Term]:
    table = tomllib.loads(path.read_text(encoding="utf-8"))["term"]
    return [
        Term(t["en"], t["zh"], tuple(t.get("wrong", ())), tuple(t.get("allow", ())))
        for t in table
    ]


def variant_pattern(variant: str) -> re.Pattern[str]:
    """A Chinese variant anywhere; an ASCII one as a whole word, case and all."""
    if variant.isascii():
        return re.compile(BEFORE + re.escape(variant) + AFTER)
    return re.compile(re.escape(variant))


def blank(text: str, pattern: re.Pattern[str]) -> str:
    """The text with every match replaced by spaces: positions stay where they were."""
    return pattern.sub(lambda match: " " * len(match.group()), text)


def prose(text: str) -> str:
    """The text with its code blanked out, the same length as the text."""
    return blank(text, CODE)


def wrong_uses(text: str, terms: list[Term]) -> list[tuple[int, str, Term]]:
    """(position, variant, term) for each wrong variant in the text's prose."""
    words = prose(text)
    glossed = blank(words, GLOSS)
    found = []
    for term in terms:
        allowed = words
        for phrase in term.allow:
            allowed = blank(allowed, re.compile(re.escape(phrase)))
        for variant in term.wrong:
            where = glossed if variant.isascii() else allowed
            for match in variant_pattern(variant).finditer(where):
                found.append((match.start(), variant, term))
    return sorted(found, key=lambda hit: hit[0])


def findings(where: str, text: str, terms: list[Term]) -> list[Finding]:
    result = []
    for start, variant, term in wrong_uses(text, terms):
        context = text[max(0, start - 12) : start + len(variant) + 12].replace(
            "\n", " "
        )
        result.append(Finding(where, variant, term, context))
    return result


def kept_as_is(message: Message) -> bool:
    """A translation that is its English (a diagram's code label, wrapped onto lines
    of its own, counts as the same)."""
    return str(message.string).split() == str(message.id).split()


def catalog_texts(po: Path, name: str | None = None) -> list[tuple[str, str]]:
    """(where, msgstr) for each translated message that is not its English as is."""
    with po.open("rb") as source:
        catalog = read_po(source, locale="zh_CN")
    texts = []
    for message in catalog:
        if not message.id or not message.string or kept_as_is(message):
            continue
        line = f":{message.lineno}" if message.lineno else ""
        texts.append((f"{name or po.relative_to(ROOT)}{line}", str(message.string)))
    return texts


def catalogue_texts(path: Path = CATALOGUE) -> list[tuple[str, str]]:
    """Each exercise's Chinese hints (and any other ``*_zh_CN`` text it gains)."""
    exercises = tomllib.loads(path.read_text(encoding="utf-8"))["exercise"]
    texts = []
    for exercise in exercises:
        for key, value in exercise.items():
            if not key.endswith("_zh_CN"):
                continue
            values = value if isinstance(value, list) else [value]
            for index, text in enumerate(values):
                texts.append(
                    (f"{path.relative_to(ROOT)}: {exercise['id']}.{key}[{index}]", text)
                )
    return texts


def check(texts: list[tuple[str, str]], terms: list[Term]) -> list[Finding]:
    return [
        finding for where, text in texts for finding in findings(where, text, terms)
    ]


def report(found: list[Finding]) -> str:
    lines = [str(finding) for finding in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"... and {len(found) - SHOWN} more")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def terms() -> list[Term]:
    return load_terms()


@pytest.mark.parametrize("po", sorted(CATALOGS.glob("*.po")), ids=lambda p: p.stem)
def test_catalog_uses_the_term_list(po: Path, terms: list[Term]) -> None:
    found = check(catalog_texts(po), terms)
    assert not found, f"wrong terms in {po.name} (see terms.toml):\n{report(found)}"


def test_exercise_hints_use_the_term_list(terms: list[Term]) -> None:
    found = check(catalogue_texts(), terms)
    assert not found, f"wrong terms in the Chinese hints:\n{report(found)}"


@pytest.mark.parametrize(
    "page", CHINESE_MARKDOWN, ids=lambda p: str(p.relative_to(ROOT))
)
def test_chinese_readme_uses_the_term_list(page: Path, terms: list[Term]) -> None:
    texts = [(str(page.relative_to(ROOT)), page.read_text(encoding="utf-8"))]
    found = check(texts, terms)
    assert not found, f"wrong terms in {page.name}:\n{report(found)}"


def test_the_term_list_is_sound(terms: list[Term]) -> None:
    """No term lists itself as wrong, and every concept is there once."""
    for term in terms:
        assert term.zh and term.wrong, term
        assert not any(
            variant in term.zh for variant in term.wrong if not variant.isascii()
        )
    assert len({term.en for term in terms}) == len(terms)


def term_words(term: Term) -> list[str]:
    """The Chinese words of a term: 信号，信号处理函数 -> two; glosses and ASCII
    left out (重新执行（re-exec） -> 重新执行; PID 文件 -> 文件; fork -> none)."""
    text = re.sub(r"（[^）]*）", "", term.zh)
    pieces = re.split(r"[，；/\s]+", text)
    return [p for p in pieces if re.fullmatch(r"[\u4e00-\u9fff]+", p)]


def test_every_term_is_a_search_word(terms: list[Term]) -> None:
    """The search splits Chinese text with jieba and search-words.txt: a term the
    file lacks may be cut in two (重新加载 -> 重新 / 加载) and a search for it finds
    nothing. So the file covers the list, and jieba, given it, keeps each term whole."""
    import jieba

    lines = SEARCH_WORDS.read_text(encoding="utf-8").splitlines()
    listed = {line.split()[0] for line in lines if line.strip()}
    wanted = [word for term in terms for word in term_words(term)]
    missing = [word for word in wanted if word not in listed]
    assert not missing, f"terms.toml words missing from {SEARCH_WORDS.name}: {missing}"
    splitter = jieba.Tokenizer()
    splitter.load_userdict(str(SEARCH_WORDS))
    cut = {word: list(splitter.cut(word)) for word in wanted}
    assert all(pieces == [word] for word, pieces in cut.items()), cut


# The checker itself: it must catch a planted wrong term and leave code alone.


@pytest.mark.parametrize(
    "text, variant",
    [
        ("主进程 fork 出 worker，然后等待。", "worker"),
        ("每个 workers 都在监听。", "workers"),
        ("收到 `TERM` 后优雅停止。", "优雅停止"),
        ("`HUP` 让主进程重载配置。", "重载"),
        ("主进程直接停机。", "停机"),
        ("*arbiter* 在睡觉。", "arbiter"),
        ("继承监听 socket。", "监听 socket"),
        ("见 [worker 一章](worker.md)。", "worker"),
    ],
)
def test_a_planted_wrong_term_is_found(
    text: str, variant: str, terms: list[Term]
) -> None:
    assert variant in [found for _, found, _ in wrong_uses(text, terms)]


@pytest.mark.parametrize(
    "text",
    [
        "用 `worker_class` 选择工作进程类。",
        "{doc}`worker` 一章讲工作进程；``worker.pid`` 是它的 PID。",
        "工作进程（worker）由主进程（arbiter）fork 出来。",
        "读取 minigun/workers/base.py 中的 self.worker.pid 和 worker_class。",
        "uvicorn-worker 包里的类。",
        "调用 self.cfg.pre_fork(server, worker) 和 call_startup_hook(name, hook)。",
        "它返回 (pid, status)，没有时返回 None。",
        "零停机的 USR2。",
        "```console\n$ minigun --workers 2\n[INFO] Booting worker with pid: 12\n```",
        "见 [工作进程](https://example.org/worker)。",
        "即“请求走私”（request smuggling）。",
        '记下子进程：\n"worker.pid, workers[pid]"\n"return pid"',
    ],
)
def test_code_names_and_glosses_are_not_prose(text: str, terms: list[Term]) -> None:
    assert wrong_uses(text, terms) == []


def test_a_planted_wrong_term_fails_a_real_catalog(
    tmp_path: Path, terms: list[Term]
) -> None:
    """The same check, over a copy of a real catalog with one translation spoilt."""
    original = CATALOGS / "index.po"
    spoilt = tmp_path / "index.po"
    text = original.read_text(encoding="utf-8")
    assert "工作进程" in text
    spoilt.write_text(text.replace("工作进程", "worker", 1), encoding="utf-8")
    found = check(catalog_texts(spoilt, name="index.po"), terms)
    assert found, "a planted bare worker went unnoticed"
    assert {f.variant for f in found} == {"worker"}, found


@pytest.mark.timeout(2 * BUILD_TIMEOUT + 30)
@pytest.mark.reads_editions("html", "html-zh")  # started early: tests/conftest.py
def test_the_chinese_glossary_shows_the_term_list(
    book_edition: Callable[[str], Path], terms: list[Term]
) -> None:
    """The list is rendered from terms.toml beside the glossary, in Chinese only."""
    chinese = (book_edition("html-zh") / "glossary.html").read_text(encoding="utf-8")
    english = (book_edition("html") / "glossary.html").read_text(encoding="utf-8")
    assert 'id="zh-term-list"' in chinese, "no term list on the Chinese glossary page"
    table = html.unescape(chinese[chinese.index('id="zh-term-list"') :])
    missing = [t.zh for t in terms if t.zh not in table or t.wrong[0] not in table]
    assert not missing, f"terms.toml entries missing from the page: {missing}"
    assert "zh-term-list" not in english, "the English glossary shows the term list"
