"""Does each exercise stand alone? Its tests, with every other hole still open.

The student kit ships the package with every region cut at once, and the student
fills them in book order, or not. So an exercise's tests must pass once its own hole is
filled, whatever state the others are in, and fail with its own
``NotImplementedError`` while it is open. For one exercise X this module builds the
package with every region cut but X's (the *solo* copy) and the package with every
region cut (the *kit* copy), runs X's tests against both, and names every other hole
the tests ran into.

``python -m exercises.tool.independence [ID...]`` prints one line per exercise; the
kit's check (``make check-kit``) calls :func:`independence_problems`.
"""

import re
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .catalogue import Exercise, find_exercise, load_catalogue
from .layout import Layout
from .regions import cut_regions
from .results import EXIT_OK, GUARD_TEST, Outcome, run_tests
from .workcopy import copy_package, starter_message

HOLE = re.compile(r"NotImplementedError: exercise ([a-z0-9-]+):")


@dataclass(frozen=True)
class Independence:
    """What one exercise's tests met: with only its hole filled, and with none."""

    exercise: Exercise
    solo: Outcome
    kit: Outcome

    def holes_hit(self) -> list[str]:
        """The other exercises' holes the tests ran into with only this one filled."""
        return sorted(holes_in(self.solo) - {self.exercise.id})

    def problems(self) -> list[str]:
        """Empty when the exercise stands alone; else what goes wrong, in words."""
        where = self.exercise.folder_name
        problems = []
        if self.solo.exit_code != EXIT_OK:
            hit = ", ".join(self.holes_hit()) or "no other hole"
            failed = [failure.test for failure in self.solo.failures]
            problems.append(
                f"{where}: fails with only its hole filled ({hit}): {failed}"
            )
        passing = [test for test in self.kit.passed if test != GUARD_TEST]
        if passing:
            problems.append(f"{where}: {passing} pass with its own hole open")
        foreign = sorted(holes_in(self.kit) - {self.exercise.id})
        if foreign:
            problems.append(f"{where}: with every hole open, tests stop at {foreign}")
        return problems


def holes_in(outcome: Outcome) -> set[str]:
    """The ids of the exercises whose ``NotImplementedError`` a failure shows."""
    found: set[str] = set()
    for failure in outcome.failures:
        found |= set(HOLE.findall(failure.message + "\n" + failure.details))
    return found


def write_cut(
    layout: Layout, exercises: Iterable[Exercise], dest: Path, keep: Exercise | None
) -> None:
    """The package with every exercise's region cut but ``keep``'s (if any)."""
    messages = {
        exercise.region: starter_message(layout, exercise)
        for exercise in exercises
        if exercise != keep
    }
    copy_package(layout, dest, lambda text: cut_regions(text, messages))


def check_independence(
    layout: Layout, chosen: list[Exercise], jobs: int = 2
) -> list[Independence]:
    """Runs each chosen exercise's tests against its solo copy and the kit copy."""
    everything = load_catalogue(layout.catalogue)
    with tempfile.TemporaryDirectory(prefix="minigun-independence-") as scratch:
        kit = Path(scratch) / "kit"
        write_cut(layout, everything, kit, keep=None)

        def run(exercise: Exercise) -> Independence:
            solo = Path(scratch) / exercise.folder_name
            write_cut(layout, everything, solo, keep=exercise)
            solo_outcome = run_tests(layout, exercise, solo)
            return Independence(
                exercise, solo_outcome, run_tests(layout, exercise, kit)
            )

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(run, chosen))


def independence_problems(layout: Layout, jobs: int = 2) -> list[str]:
    """Every way an exercise of the catalogue depends on another's hole."""
    exercises = load_catalogue(layout.catalogue)
    results = check_independence(layout, exercises, jobs)
    return [problem for result in results for problem in result.problems()]


def report(layout: Layout, keys: list[str], out: TextIO) -> int:
    """Prints, per exercise, the other holes its tests hit; 1 if any depends."""
    exercises = load_catalogue(layout.catalogue)
    chosen = [find_exercise(exercises, key) for key in keys] or exercises
    status = 0
    for result in check_independence(layout, chosen):
        problems = result.problems()
        status |= bool(problems)
        hit = ", ".join(result.holes_hit()) or "-"
        out.write(
            f"{'FAIL' if problems else 'ok  '} {result.exercise.folder_name}: {hit}\n"
        )
        out.writelines(f"  - {problem}\n" for problem in problems)
    return status


if __name__ == "__main__":
    sys.exit(report(Layout(Path.cwd()), sys.argv[1:], sys.stdout))
