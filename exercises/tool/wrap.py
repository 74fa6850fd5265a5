"""Wrapping the runner's text to a terminal's width, Chinese as well as English.

:func:`textwrap.fill` breaks only at spaces and counts characters, but Chinese has no
spaces between words and each of its characters takes two columns. Breaking between
any two Chinese characters is what a terminal does, and it cuts words in half (阻/塞).
So the text is cut into pieces that may not be split and laid out greedily by their
display width: a run of ASCII (``listener.accept()``), a space, or one Chinese word as
jieba segments it, with the closing punctuation that follows it and the opening
punctuation before it. A piece wider than a whole line is the only one ever cut.
"""

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator

# An ASCII run, a run of spaces, or a run of anything else (Chinese, full-width
# punctuation), which is then segmented into words.
CHUNKS = re.compile(r"[\x21-\x7e]+|\s+|[^\x21-\x7e\s]+")
CLOSING = "，。：；）！？、”\u2019》」』"  # \u2019: a closing single quote
OPENING = "（“\u2018《「『"
# The course's terms, kept whole (jieba's own dictionary splits some of them).
TERMS = (
    "主进程",
    "工作进程",
    "优雅关闭",
    "监听套接字",
    "套接字",
    "长连接",
    "重新加载",
    "钩子",
    "心跳",
    "空缺",
)


def fill(text: str, width: int, indent: str) -> str:
    """``text`` as lines of at most ``width`` columns, later lines after ``indent``."""
    lines, line = [], ""
    for piece in pieces(text):
        rest = piece
        if line.strip() and display_width(line + rest) > width and not rest.isspace():
            lines.append(line.rstrip())
            line = indent
        if rest.isspace() and not line.strip():
            continue  # no space at the start of a continued line
        while display_width(line + rest) > width and len(rest) > 1 and rest.strip():
            head = widest_prefix(rest, width - display_width(line))  # wider than a line
            lines.append((line + head).rstrip())
            line, rest = indent, rest[len(head) :]
        line += rest
    return "\n".join([*lines, line.rstrip()])


def pieces(text: str) -> list[str]:
    """The pieces no line break may fall inside, punctuation kept with its word."""
    glued: list[str] = []
    for word in words(text):
        follows_opening = bool(glued) and glued[-1][-1] in OPENING
        if glued and (word[0] in CLOSING or follows_opening):
            glued[-1] += word
        else:
            glued.append(word)
    return glued


def words(text: str) -> Iterator[str]:
    for chunk in CHUNKS.findall(text):
        if chunk.isascii():
            yield chunk
        else:
            yield from segmenter()(chunk)


@functools.cache
def segmenter() -> Callable[[str], list[str]]:
    """jieba's word splitter with the course's terms, loaded once and only if needed.

    jieba logs its dictionary's loading time at INFO; the student has no use for it.
    """
    import logging

    import jieba  # only Chinese text needs it, and it takes a moment to load

    jieba.setLogLevel(logging.WARNING)
    for term in TERMS:
        jieba.add_word(term)
    return jieba.lcut


def widest_prefix(text: str, columns: int) -> str:
    """The longest start of ``text`` that fits ``columns`` (at least one character)."""
    end = 1
    while end < len(text) and display_width(text[: end + 1]) <= columns:
        end += 1
    return text[:end]


def display_width(text: str) -> int:
    """Terminal columns: two for a wide (East Asian) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """``text`` followed by spaces up to ``columns`` terminal columns."""
    return text + " " * max(0, columns - display_width(text))
