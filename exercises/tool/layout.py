"""Where things live: the package, the exercise folders, the kit's generated tables.

One small value object answers every "which path?" question, so the tool's own tests
can point it at a fixture project in a temporary folder instead of the repository.
The same layout serves both repositories: the instructor's (``minigun/`` is the
reference, ``book/`` the book's sources) and the student kit (``minigun/`` has every
hole cut, ``book/`` holds the built student edition).
"""

from dataclasses import dataclass
from pathlib import Path

from .catalogue import Exercise

README = "README.md"
HINTS_SHOWN = "hints-shown.txt"
BACKUPS = "backups"


@dataclass(frozen=True)
class Layout:
    """The paths of one project: ``root/minigun``, ``root/exercises``, ``root/book``."""

    root: Path
    package_name: str = "minigun"

    @property
    def package(self) -> Path:
        """The package the student edits in place (the reference, in the teacher's)."""
        return self.root / self.package_name

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def book(self) -> Path:
        return self.root / "book"

    @property
    def catalogue(self) -> Path:
        return self.exercises / "catalogue.toml"

    @property
    def chapters(self) -> Path:
        """The kit's table of chapters and built pages (written by the kit builder)."""
        return self.exercises / "chapters.json"

    @property
    def holes(self) -> Path:
        """The kit's table of holes: file, function, starter (the builder writes it)."""
        return self.exercises / "holes.json"

    def folder(self, exercise: Exercise) -> Path:
        """The exercise's folder: its task statement, conftest and tests."""
        return self.exercises / exercise.folder_name

    def hints_shown(self, exercise: Exercise) -> Path:
        """One integer: the highest hint the runner has shown for this exercise."""
        return self.folder(exercise) / HINTS_SHOWN

    def relative(self, path: Path) -> str:
        """A path as the student should type it: relative to the root when possible."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
