"""Makes ``import minigun`` in this folder's tests load the package the student edits.

The student solves every exercise in place, in the one ``minigun/`` at the root of the
kit: this folder's grandparent. pytest's default import mode puts this folder first on
``sys.path`` to import the test files; this conftest, loaded before them, puts the root
in front of it, so ``minigun`` is that package whatever else is installed. The teacher's
check and the grader set ``MINIGUN_EXERCISE_WORK`` to run the same tests against another
copy (the package with every hole cut, or the reference). Every exercise folder holds a
copy of ``exercises/tool/exercise_conftest.py``; the teacher's check keeps them
identical.
"""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
WORK = Path(os.environ.get("MINIGUN_EXERCISE_WORK") or ROOT)

if not (WORK / "minigun").is_dir():
    pytest.exit(f"no minigun package in {WORK}: nothing for these tests to import", 4)
# The package first; then exercises/, for the shared fakes (exercises/fakes.py).
for folder in (str(HERE.parent), str(WORK)):
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)


@pytest.fixture
def work_copy() -> Path:
    """The folder whose ``minigun`` these tests must import (the guard test's)."""
    return WORK
