"""The exercise catalogue: one ordered TOML file, read with :mod:`tomllib`.

The order of the ``[[exercise]]`` tables is book order. It numbers the exercises and
names their folders (``exercises/NN-id/``), so moving an entry means renaming its
folder; the teacher's check says so when the two disagree.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .messages import say

FIELDS = ("id", "title", "chapter", "region", "file", "tests", "points", "hints")
NOT_STRINGS = ("points", "hints")
OPTIONAL_FIELDS = ("hints_zh_CN",)  # the hints in Chinese, one for one
CHAPTER_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class CatalogueError(Exception):
    """The catalogue cannot be read: a missing field, a wrong type, a bad chapter."""


@dataclass(frozen=True)
class Exercise:
    """One entry of the catalogue.

    Attributes:
        number: position in the catalogue, from 1.
        id: short name, also the folder name after the number.
        title: what the student implements, in a few words.
        chapter: the book chapter's file stem: ``arbiter`` for ``book/arbiter.md``.
        region: the marker name in the reference (``# exercise: REGION``).
        file: the reference file holding the region, relative to the repository root.
        tests: the test file inside the exercise folder.
        points: what solving it is worth in the gradebook and the autograding.
        hints: progressive hints, the gentlest first.
        hints_zh_CN: the same hints in Chinese, or empty before they are written.
    """

    number: int
    id: str
    title: str
    chapter: str
    region: str
    file: str
    tests: str
    points: int
    hints: tuple[str, ...]
    hints_zh_CN: tuple[str, ...] = ()

    @property
    def folder_name(self) -> str:
        return f"{self.number:02d}-{self.id}"

    def starter_message(self, chapter_number: int | None) -> str:
        """What the starter's ``NotImplementedError`` says: where to read first."""
        if chapter_number is None:
            return f"exercise {self.id}: see book/{self.chapter}.md, {self.title}"
        return f"exercise {self.id}: see chapter {chapter_number}, {self.title}"


def load_catalogue(path: Path) -> list[Exercise]:
    """Reads the catalogue; raises :class:`CatalogueError` naming the bad entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogueError(f"{path}: {error}") from error
    entries = data.get("exercise", [])
    return [parse_entry(number, entry) for number, entry in enumerate(entries, 1)]


def parse_entry(number: int, entry: dict[str, object]) -> Exercise:
    """Turns one ``[[exercise]]`` table into an :class:`Exercise`, checking types."""
    where = f"catalogue entry {number} ({entry.get('id', '?')})"
    missing = [name for name in FIELDS if name not in entry]
    unknown = sorted(set(entry) - set(FIELDS) - set(OPTIONAL_FIELDS))
    if missing or unknown:
        raise CatalogueError(f"{where}: missing {missing}, unknown {unknown}")
    strings = {name: entry[name] for name in FIELDS if name not in NOT_STRINGS}
    if not all(isinstance(value, str) for value in strings.values()):
        raise CatalogueError(f"{where}: every field but hints and points is a string")
    points = entry["points"]
    if not isinstance(points, int) or isinstance(points, bool) or points < 1:
        raise CatalogueError(f"{where}: points must be a whole number, at least 1")
    hints = string_list(where, entry, "hints")
    hints_zh_cn = string_list(where, entry, "hints_zh_CN")
    if hints_zh_cn and len(hints_zh_cn) != len(hints):
        raise CatalogueError(
            f"{where}: hints_zh_CN must translate every hint, in order"
        )
    if not CHAPTER_PATTERN.match(str(entry["chapter"])):
        raise CatalogueError(f"{where}: chapter must be a file stem like 'arbiter'")
    return Exercise(
        number=number,
        id=str(entry["id"]),
        title=str(entry["title"]),
        chapter=str(entry["chapter"]),
        region=str(entry["region"]),
        file=str(entry["file"]),
        tests=str(entry["tests"]),
        points=points,
        hints=tuple(hints),
        hints_zh_CN=tuple(hints_zh_cn),
    )


def string_list(where: str, entry: dict[str, object], name: str) -> list[str]:
    """The list of strings under ``name`` (empty when an optional field is absent)."""
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: {name} must be a list of strings")
    return value


def find_exercise(exercises: list[Exercise], key: str) -> Exercise:
    """Finds an exercise by id, region, number (``3``) or folder name (``03-id``)."""
    for exercise in exercises:
        names = {exercise.id, exercise.region, exercise.folder_name}
        if key in names or (key.isdigit() and int(key) == exercise.number):
            return exercise
    known = say("list_separator").join(exercise.id for exercise in exercises)
    raise CatalogueError(say("no_such_exercise", asked=key, known=known))
