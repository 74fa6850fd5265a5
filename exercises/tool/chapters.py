"""The book as the student's runner names it: a chapter's number, title and built page.

The kit holds the student edition already built (``book/en/``, ``book/zh_CN/``), not the
book's sources, so the runner cannot read a table of contents or a message catalog.
The kit builder writes what the runner needs into ``exercises/chapters.json``; this
module reads it, in the student's language::

    {"chapters": {"shutdown": {"number": 11,
                               "title": {"en": "...", "zh_CN": "..."},
                               "page": {"en": "book/en/shutdown.html", ...}}},
     "exercises": {"graceful-stop": {"en": "book/en/shutdown.html#exercise-15-...",
                                     "zh_CN": "..."}}}

Pages are relative to the kit's root. A language without a page or a title falls back
to English.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import CatalogueError
from .messages import CHINESE, ENGLISH, language, say

LANGUAGES = (ENGLISH, CHINESE)


@dataclass(frozen=True)
class Chapters:
    """The chapters and exercise pages of the built student edition."""

    chapters: dict[str, dict[str, object]] = field(default_factory=dict)
    exercises: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Chapters":
        """Reads ``chapters.json``; a missing table means this is not a kit."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise CatalogueError(say("not_a_kit", path=path)) from error
        except (OSError, ValueError) as error:
            raise CatalogueError(f"{path}: {error}") from error
        return cls(data.get("chapters", {}), data.get("exercises", {}))

    def number(self, stem: str) -> int | None:
        number = self.chapters.get(stem, {}).get("number")
        return number if isinstance(number, int) else None

    def title(self, stem: str) -> str:
        """The chapter's title in the student's language, or an empty string."""
        return in_language(self.chapters.get(stem, {}).get("title"))

    def page(self, stem: str) -> str:
        """The chapter's built page (``book/en/shutdown.html``), or an empty string."""
        return in_language(self.chapters.get(stem, {}).get("page"))

    def exercise_page(self, exercise_id: str) -> str:
        """Where the book prints the exercise's task: its page and anchor."""
        return in_language(self.exercises.get(exercise_id))

    def as_json(self) -> str:
        data = {"chapters": self.chapters, "exercises": self.exercises}
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def in_language(values: object) -> str:
    """The value for the student's language, else the English one, else ``""``."""
    if not isinstance(values, dict):
        return ""
    return str(values.get(language()) or values.get(ENGLISH) or "")
