"""Makes ``import minigun`` in this folder's tests load the work copy beside them.

pytest's default import mode puts this folder first on ``sys.path`` to import the test
files. This conftest, loaded before them, puts ``work/`` in front of it, so ``minigun``
is the copy in ``work/minigun`` and not the reference at the repository root. The
teacher's check sets ``MINIGUN_EXERCISE_WORK`` to run the same tests against other
copies (the starter, the reference). Every exercise folder holds a copy of
``exercises/tool/exercise_conftest.py``; the teacher's check keeps them identical.
"""

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
WORK = Path(os.environ.get("MINIGUN_EXERCISE_WORK") or HERE / "work")

if not (WORK / "minigun").is_dir():
    pytest.exit(f"no work copy in {WORK}: run `make exercise EX={HERE.name}`", 4)
# The work copy first; then exercises/, for the shared fakes (exercises/fakes.py).
sys.path[0:0] = [str(WORK), str(HERE.parent)]


@pytest.fixture
def work_copy() -> Path:
    """The folder whose ``minigun`` these tests must import."""
    return WORK
