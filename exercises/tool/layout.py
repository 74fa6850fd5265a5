"""Where things live: the reference package, the exercise folders, the book.

One small value object answers every "which path?" question, so the tool's own tests
can point it at a fixture project in a temporary folder instead of the repository.
"""

from dataclasses import dataclass
from pathlib import Path

from .catalogue import Exercise

WORK_FOLDER = "work"
README = "README.md"


@dataclass(frozen=True)
class Layout:
    """The paths of one project: ``root/minigun``, ``root/exercises``, ``root/book``."""

    root: Path
    package_name: str = "minigun"

    @property
    def package(self) -> Path:
        """The reference package the exercises are cut from."""
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

    def folder(self, exercise: Exercise) -> Path:
        """The exercise's committed folder: its task statement, conftest and tests."""
        return self.exercises / exercise.folder_name

    def work(self, exercise: Exercise) -> Path:
        """The student's git-ignored work copy; ``work/minigun`` is what they edit."""
        return self.folder(exercise) / WORK_FOLDER

    def relative(self, path: Path) -> str:
        """A path as the student should type it: relative to the root when possible."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
