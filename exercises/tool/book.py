"""What the tool needs from the book: each chapter's number and title.

A chapter is named in the catalogue by its file stem (``arbiter`` for
``book/arbiter.md``). Its number is its place in the book's table of contents, the
``{toctree}`` blocks of ``book/index.md`` read in order, so it follows the book when
chapters move. A stem that starts with digits (``07-arbiter``) numbers itself. For a
Chinese student the title is the Chinese edition's, read from the chapter's message
catalog (``book/locale/zh_CN/LC_MESSAGES/<stem>.po``).
"""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from .messages import is_chinese

CATALOGS = Path("locale") / "zh_CN" / "LC_MESSAGES"

TOCTREE = re.compile(r"^```\{toctree\}(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
NUMBERED = re.compile(r"^(?P<number>\d+)-")


class Book:
    """The chapters of the book in ``folder``, in reading order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.chapters = table_of_contents(folder)

    def has(self, stem: str) -> bool:
        """Whether ``book/<stem>.md`` exists."""
        return (self.folder / f"{stem}.md").is_file()

    def number(self, stem: str) -> int | None:
        """The chapter's number, or None while the book does not list it."""
        numbered = NUMBERED.match(stem)
        if numbered:
            return int(numbered["number"])
        if stem in self.chapters:
            return self.chapters.index(stem) + 1
        return None

    def title(self, stem: str) -> str:
        """The chapter's first heading in the student's language ("" if unwritten)."""
        title = self.heading(stem)
        return self.translated(stem, title) if title and is_chinese() else title

    def heading(self, stem: str) -> str:
        """The chapter's first heading as written (English), or an empty string."""
        try:
            text = (self.folder / f"{stem}.md").read_text(encoding="utf-8")
        except OSError:
            return ""
        for line in text.splitlines():
            if line.startswith("# "):
                return line.removeprefix("# ").strip()
        return ""

    def translated(self, stem: str, text: str) -> str:
        """``text`` as the chapter's Chinese catalog translates it, else unchanged."""
        try:
            with (self.folder / CATALOGS / f"{stem}.po").open("rb") as catalog_file:
                message = read_po(catalog_file).get(text)
        except OSError:
            return text
        if message is None or message.fuzzy or not message.string:
            return text
        return str(message.string)


def table_of_contents(folder: Path) -> list[str]:
    """The documents the toctrees of ``index.md`` list, in order, options skipped."""
    try:
        index = (folder / "index.md").read_text(encoding="utf-8")
    except OSError:
        return []
    entries = []
    for block in TOCTREE.finditer(index):
        for line in block["body"].splitlines():
            entry = line.strip()
            if entry and not entry.startswith(":"):
                entries.append(entry.removesuffix(".md"))
    return entries
