"""No reference line in the kit: the lines only an answer has, and where they show up.

A *reference line* is a distinct line of an exercise region's body, stripped, with its
runs of whitespace folded to one space, that is not generic. A line is generic when it
also occurs in the reference package outside every region (the kit's package holds
those lines anyway), or when it has no identifier longer than three characters besides
Python's keywords (``return True``, ``else:``, ``try:``, ``break``: they tell nothing).

Every other region line must not occur, as a substring of a folded line, in any text
file of the kit: a task, a hint, a test, the runner, a built page once its tags are
removed (highlighting splits a listing's line into spans), the search index, a page's
copied source. A file that is not UTF-8 text (an image, a font) cannot show a line and
is skipped; Sphinx's ``objects.inv`` is read after its zlib-compressed body is
inflated, and ``.git`` is skipped because its one commit holds exactly the files
beside it (the kit check proves that separately).

``python -m exercises.tool.leaks FOLDER`` lists every hit and exits 1 if there is one.
"""

import html
import keyword
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from .regions import ANY_MARKER, scan_package

WHITESPACE = re.compile(r"\s+")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TAG = re.compile(r"<[^>]+>")
SHORTEST_WORD = 4  # an identifier must be longer than three characters to tell
SKIPPED_FOLDERS = {".git", "__pycache__", ".venv"}
INVENTORY = "objects.inv"
INVENTORY_HEADER_LINES = 4


@dataclass(frozen=True)
class ReferenceLine:
    """A line only an answer has, and the exercise region it comes from."""

    region: str
    text: str


@dataclass(frozen=True)
class Leak:
    """A reference line found in a file of the kit."""

    path: Path
    line: int
    reference: ReferenceLine

    def describe(self, root: Path) -> str:
        where = self.path.relative_to(root) if self.path.is_relative_to(root) else self
        return f"{where}:{self.line}: {self.reference.text!r} ({self.reference.region})"


def fold(line: str) -> str:
    """A line as compared: stripped, every run of whitespace one space."""
    return WHITESPACE.sub(" ", line).strip()


def reference_lines(package: Path) -> list[ReferenceLine]:
    """The distinct, non-generic lines of every region's body in ``package``."""
    inside: dict[tuple[Path, int], str] = {}
    for region in scan_package(package).regions:
        for number in range(region.begin, region.end + 1):
            inside[(region.path, number)] = region.name
    outside: list[str] = []
    found: dict[str, ReferenceLine] = {}
    for path in sorted(package.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            name = inside.get((path, number))
            folded = fold(line)
            if name is None:
                outside.append(folded)
            elif folded and not ANY_MARKER.match(line):
                found.setdefault(folded, ReferenceLine(name, folded))
    everything_outside = "\n".join(outside)
    return [
        reference
        for text, reference in found.items()
        if telling(text) and text not in everything_outside
    ]


def telling(line: str) -> bool:
    """Whether the line has a word longer than three characters that is no keyword."""
    return any(
        len(word) >= SHORTEST_WORD and not keyword.iskeyword(word)
        for word in IDENTIFIER.findall(line)
    )


def find_leaks(folder: Path, references: list[ReferenceLine]) -> list[Leak]:
    """Every occurrence of a reference line in a text file under ``folder``."""
    leaks: list[Leak] = []
    for path in text_files(folder):
        text = readable_text(path)
        if text is None:
            continue
        folded_lines = [fold(line) for line in text.splitlines()]
        whole = "\n".join(folded_lines)
        for reference in references:
            if reference.text not in whole:
                continue  # the quick test: most files hold no reference line at all
            leaks += [
                Leak(path, number, reference)
                for number, line in enumerate(folded_lines, 1)
                if reference.text in line
            ]
    return leaks


def text_files(folder: Path) -> list[Path]:
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not SKIPPED_FOLDERS.intersection(path.relative_to(folder).parts)
    ]


def readable_text(path: Path) -> str | None:
    """The text a reader could see in the file, or None if it is not text."""
    data = path.read_bytes()
    if path.name == INVENTORY:
        data = inflate_inventory(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix in {".html", ".htm"}:
        # The markup too (an attribute could carry code), then the text it shows.
        return text + "\n" + html.unescape(TAG.sub("", text))
    return text


def inflate_inventory(data: bytes) -> bytes:
    """Sphinx's inventory: four plain header lines, then a zlib-compressed body."""
    header = data.split(b"\n", INVENTORY_HEADER_LINES)
    if len(header) <= INVENTORY_HEADER_LINES:
        return data
    try:
        body = zlib.decompress(header[-1])
    except zlib.error:
        return data
    return b"\n".join([*header[:-1], body])


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[2]
    folder = Path(argv[0]) if argv else root / "_build" / "student-kit"
    references = reference_lines(root / "minigun")
    leaks = find_leaks(folder, references)
    for leak in leaks:
        print(leak.describe(folder))
    print(f"{len(references)} reference lines; {len(leaks)} found in {folder}")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
