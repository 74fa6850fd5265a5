"""Which hints a student has seen: one number per exercise, in the exercise's folder.

``exercises/NN-id/hints-shown.txt`` holds one integer, the highest hint the runner has
shown for that exercise. It is the only thing the runner writes besides backups, and it
is committed with the student's work (not git-ignored), so the teacher's grader can
read how many hints each answer needed. The number only ever grows: ``make exercise``
shows the latest hint revealed (hint 1 at first) and ``make hint`` reveals one more.
A missing or unreadable file counts as no hint shown.
"""

from .catalogue import Exercise
from .layout import Layout


def hints_shown(layout: Layout, exercise: Exercise) -> int:
    """The highest hint shown so far, from 0 to the number of hints."""
    try:
        number = int(layout.hints_shown(exercise).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return 0
    return max(0, min(number, len(exercise.hints)))


def record_hint(layout: Layout, exercise: Exercise, number: int) -> None:
    """Remembers that hint ``number`` was shown, unless a later one already was."""
    if number > hints_shown(layout, exercise):
        layout.hints_shown(exercise).write_text(f"{number}\n", encoding="utf-8")
