"""The Chinese edition's term list, shown beside the glossary from one data file.

A translated book keeps one voice only if every chapter names a concept the same way:
工作进程 for a worker, never worker or worker 进程; 优雅关闭, never 优雅停止. The
decisions live in ``book/locale/zh_CN/terms.toml``, the file the term test
(``tests/test_terms.py``) reads too, so the list a reader sees and the rule the
catalogs are held to cannot differ.

The ``{term-list}`` directive on the glossary page renders that file as a table in
the Chinese edition and as nothing in the English one: the English book has no
translation choices to show, and no message of the table reaches the catalogs (the
gettext build is an English one), so the list is never translated twice.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

TERMS = Path(__file__).resolve().parent.parent / "locale" / "zh_CN" / "terms.toml"
SHOWN_IN = "zh_CN"
INTRO = (
    "本书中文版的统一译名。每个概念只用一个中文术语，“不用的写法”一栏中的写法正文不用"
    "（代码、标识符、文件名和命令保持原样，不受此限）。测试 tests/test_terms.py "
    "会检查每一章的译文和练习的中文说明。"
)
HEADERS = ("英文", "译名", "不用的写法", "说明")
COLUMN_WIDTHS = (22, 18, 30, 30)
CODE_SPAN = re.compile(r"`([^`]+)`")


def load_terms(path: Path = TERMS) -> list[dict[str, Any]]:
    """The ``[[term]]`` tables, in the file's order (the order the table shows)."""
    terms: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))[
        "term"
    ]
    return terms


def inline(text: str) -> list[nodes.Node]:
    """Plain text, with `code` spans (identifiers in a note) set as literals."""
    parts: list[nodes.Node] = []
    for index, piece in enumerate(CODE_SPAN.split(text)):
        if index % 2:
            parts.append(nodes.literal(piece, piece))
        elif piece:
            parts.append(nodes.Text(piece))
    return parts


def cell(content: list[nodes.Node]) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", "", *content))


def row(term: dict[str, Any]) -> nodes.row:
    wrong = "、".join(term.get("wrong", []))
    cells = [
        cell([nodes.Text(term["en"])]),
        cell([nodes.strong(term["zh"], term["zh"])]),
        cell([nodes.Text(wrong)]),
        cell(inline(term.get("note", ""))),
    ]
    return nodes.row("", *cells)


def table(terms: list[dict[str, Any]]) -> nodes.table:
    group = nodes.tgroup(cols=len(HEADERS))
    group += [nodes.colspec(colwidth=width) for width in COLUMN_WIDTHS]
    header = nodes.row("", *(cell([nodes.Text(name)]) for name in HEADERS))
    group += nodes.thead("", header)
    group += nodes.tbody("", *(row(term) for term in terms))
    return nodes.table("", group, classes=["term-list"])


class TermList(SphinxDirective):
    """``{term-list}``: the term table in the Chinese edition, nothing elsewhere."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        if self.config.language != SHOWN_IN:
            return []
        self.env.note_dependency(str(TERMS))
        return [
            nodes.rubric("", "中文译名对照表", ids=["zh-term-list"]),
            nodes.paragraph("", INTRO),
            table(load_terms()),
        ]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("term-list", TermList)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
