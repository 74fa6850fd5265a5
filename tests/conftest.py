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

A build mostly waits on the real servers its recorded runs drive, so the editions a
run will read are started in the background as the run begins, ``BUILDS_AT_ONCE`` at a
time, by whichever worker comes first: a test file names the editions it reads with
``pytestmark = pytest.mark.reads_editions(NAME, ...)``, and the tests that read an
edition are moved to the end of the run, so that meanwhile every worker runs the
other tests instead of waiting for a build. An edition no mark names is built when a
test asks for it, as before.

Test files import their helpers with ``from conftest import ...``; that name is the
conftest of their own folder (``tests/integration/conftest.py`` for the integration
tests), so nothing here is meant to be imported.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
# The environment the run started with, for every build. A build started in the
# background inherits the process's environment as it is at that moment, and a test
# running meanwhile in the same worker may have changed it: one sets LANG to
# zh_CN.UTF-8, a locale this machine need not have, and Sphinx then refuses to start.
RUN_ENVIRONMENT = dict(os.environ)
BUILDS_AT_ONCE = 2  # each build is one process; more would only share the cores


def build_edition(name: str, out: Path) -> None:
    """One strict build, its doctrees beside the pages (as the Makefile keeps them
    out of the folder a teacher publishes). It starts from nothing: a build a test's
    timeout cut short leaves a half environment that Sphinx would take up again."""
    doctrees = out.with_name(out.name + "-doctrees")
    for folder in (out, doctrees):
        shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", *EDITIONS[name]]
    command += ["-d", str(doctrees)]
    command += ["-W", "-n", "--keep-going", "-q", "-c", ".", "book", str(out)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=RUN_ENVIRONMENT,
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reads_editions(NAME, ...): the book editions a test file reads, started "
        "in the background as the run begins (tests/conftest.py)",
    )


def reads_editions(item: pytest.Item) -> bool:
    """By its mark, not its fixtures: a test may ask for an edition's fixture by name
    (``request.getfixturevalue``), which its list of fixtures does not show."""
    return item.get_closest_marker("reads_editions") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of a file that reads editions go last (in their order), so the builds
    have the rest of the run to finish. Every xdist worker sorts the same way."""
    items.sort(key=reads_editions)


def editions_read(items: list[pytest.Item]) -> list[str]:
    """The editions the collected tests read, as their marks name them, in the order
    of ``EDITIONS``."""
    named = {
        name
        for item in items
        for mark in item.iter_markers("reads_editions")
        for name in mark.args
    }
    unknown = named - EDITIONS.keys()
    assert not unknown, f"reads_editions names no such edition: {sorted(unknown)}"
    return [name for name in EDITIONS if name in named]


@pytest.fixture(scope="session")
def book_edition(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``book_edition(NAME)``: the built edition's folder (see the module's text)."""
    folder = folder_of_the_run(tmp_path_factory) / "book"
    folder.mkdir(exist_ok=True)

    def edition(name: str) -> Path:
        out = folder / name
        built, failed = folder / f"{name}.built", folder / f"{name}.failed"
        with (folder / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if failed.exists():  # built and failed, in the background or elsewhere
                pytest.fail(failed.read_text(encoding="utf-8"), pytrace=False)
            if not built.exists():  # neither another worker nor this one built it
                try:
                    build_edition(name, out)
                except (AssertionError, subprocess.TimeoutExpired) as error:
                    failed.write_text(str(error), encoding="utf-8")
                    raise
                built.touch()
        return out

    return edition


@pytest.fixture(scope="session", autouse=True)
def editions_started_early(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The first worker to start starts the builds of the editions the run reads;
    they finish (or fail, for the test that reads them to report) before it stops."""
    names = editions_read(request.session.items)
    folder = folder_of_the_run(tmp_path_factory) / "book"
    folder.mkdir(exist_ok=True)
    with (folder / "started.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = folder / "started"
        first = bool(names) and not started.exists()
        started.touch()
    if not first:
        yield
        return
    edition = request.getfixturevalue("book_edition")
    with ThreadPoolExecutor(max_workers=BUILDS_AT_ONCE) as pool:
        builds = [pool.submit(edition, name) for name in names]
        yield
    for build in builds:
        build.exception()  # a failure is the reading test's to report, not teardown's
