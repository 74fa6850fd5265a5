"""What the test files share: the book's editions, each built once per run.

``book_edition(NAME)`` returns the folder of one edition, built strictly the way the
Makefile's target of the same name builds it (``html``, ``html-zh``, ``html-student``,
``html-instructor``, ``html-zh-student``, ``html-zh-instructor``), the editions side
by side in one folder as in ``_build/``, so a link from one edition to another
resolves. A strict build takes tens of seconds and the tests only read the pages, so
each edition is built once per run, however many files read it: ``make test`` runs
the tests in several pytest-xdist worker processes, and the first worker that needs
an edition builds it while any other that needs the same one waits on its lock file,
then reads the same folder.

Test files import their helpers with ``from conftest import ...``; that name is the
conftest of their own folder (``tests/integration/conftest.py`` for the integration
tests), so nothing here is meant to be imported.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EDITIONS: dict[str, tuple[str, ...]] = {
    "html": (),
    "html-zh": ("-D", "language=zh_CN"),
    "html-student": ("-t", "student"),
    "html-instructor": ("-t", "instructor"),
    "html-zh-student": ("-t", "student", "-D", "language=zh_CN"),
    "html-zh-instructor": ("-t", "instructor", "-D", "language=zh_CN"),
}
"""Each edition's Sphinx options, as the Makefile's target of that name passes them."""
BUILD_TIMEOUT = 240  # seconds for one strict build on a loaded two-core machine


def build_edition(name: str, out: Path) -> None:
    """One strict build, its doctrees beside the pages (as the Makefile keeps them
    out of the folder a teacher publishes)."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", *EDITIONS[name]]
    command += ["-d", str(out.with_name(out.name + "-doctrees"))]
    command += ["-W", "-n", "--keep-going", "-q", "-c", ".", "book", str(out)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (
        f"the {name} build exited {done.returncode}:\n{done.stderr[-3000:]}"
    )


def folder_of_the_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees: the run's base temporary folder (an
    xdist worker's own base folder is a sub-folder of it, ``popen-gwN``)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def book_edition(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``book_edition(NAME)``: the built edition's folder (see the module's text)."""
    folder = folder_of_the_run(tmp_path_factory) / "book"
    folder.mkdir(exist_ok=True)

    def edition(name: str) -> Path:
        out = folder / name
        built = folder / f"{name}.built"
        with (folder / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not built.exists():  # neither another worker nor this one built it
                build_edition(name, out)
                built.touch()
        return out

    return edition
