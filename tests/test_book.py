"""The book's shell sessions are true: every ``console`` block is run and compared.

The book's rule: a fenced block in the ``console`` language claims its output, so this
test runs each ``$ command`` in it from the repository root, with the virtualenv's
``bin`` first on ``PATH``, and compares what the command prints with the lines that
follow it on the page. ``...`` in the expected text matches anything, as in doctest,
for process ids, ports and timestamps. A block that only shows commands, without
claiming their output, uses the ``shell`` language instead and is not run.

A command that talks to ``127.0.0.1:8000`` gets a real minigun serving
``examples.hello:app`` on a free port instead, started for the test and stopped by
its pid afterwards.
"""

import contextlib
import doctest
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from exercises.tool.book import Book

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^(`{3,})console\s*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL)
BOOK_PORT = "127.0.0.1:8000"
COMMAND_TIMEOUT = 30
BOOT_TIMEOUT = 20


@dataclass(frozen=True)
class Session:
    """One ``$ command`` and the output the page claims for it."""

    where: str
    command: str
    expected: str


def sessions_in(page: Path) -> Iterator[Session]:
    text = page.read_text()
    for fence in FENCE.finditer(text):
        first_line = text.count("\n", 0, fence.start(2)) + 1
        yield from split_block(str(page.relative_to(ROOT)), first_line, fence.group(2))


def split_block(page: str, first_line: int, block: str) -> Iterator[Session]:
    """Each ``$ `` line starts a session; the lines up to the next are its output."""
    where, command, expected = "", None, []
    for number, line in enumerate(block.splitlines(), first_line):
        if line.startswith("$ "):
            if command is not None:
                yield Session(where, command, "\n".join(expected))
            where, command, expected = f"{page}:{number}", line[2:], []
        else:
            expected.append(line)
    if command is not None:
        yield Session(where, command, "\n".join(expected))


def all_sessions() -> list[Session]:
    return [s for page in sorted(BOOK.rglob("*.md")) for s in sessions_in(page)]


def matches(expected: str, actual: str) -> bool:
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return checker.check_output(expected.strip() + "\n", actual.strip() + "\n", flags)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"minigun exited early with {server.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"minigun did not listen on port {port} in {BOOT_TIMEOUT}s")


@contextlib.contextmanager
def running_minigun(*args: str) -> Iterator[str]:
    """A real minigun on a free port of 127.0.0.1, stopped by its pid afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "minigun"), "--bind", f"127.0.0.1:{port}", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port, server)
        yield f"127.0.0.1:{port}"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=BOOT_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def hello_server() -> Iterator[str]:
    """A real minigun serving the hello example; yields its ``host:port``."""
    with running_minigun("examples.hello:app") as address:
        yield address


def run_in_shell(command: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # interleaved as a terminal shows them
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return done.stdout


SESSIONS = all_sessions()


def test_the_book_claims_some_output() -> None:
    """Guard: if the fence pattern stopped matching, every check below would vanish."""
    assert len(SESSIONS) >= 1, "no ```console block found in book/"


@pytest.mark.parametrize("session", SESSIONS, ids=[s.where for s in SESSIONS])
def test_console_session_prints_what_the_book_says(
    session: Session, request: pytest.FixtureRequest
) -> None:
    command = session.command
    if BOOK_PORT in command:
        command = command.replace(BOOK_PORT, request.getfixturevalue("hello_server"))
    actual = run_in_shell(command)
    assert matches(session.expected, actual), (
        f"{session.where}: `$ {session.command}` printed\n{actual}\n"
        f"but the book says\n{session.expected}"
    )


def catalogue_chapters() -> set[str]:
    catalogue = tomllib.loads((ROOT / "exercises" / "catalogue.toml").read_text())
    return {entry["chapter"] for entry in catalogue.get("exercise", [])}


def test_every_chapter_with_exercises_shows_them() -> None:
    """The build fails on a chapter that asks for missing exercises; this is the
    other direction: a chapter the catalogue names must exist and list them."""
    chapters = catalogue_chapters()
    assert chapters, "the exercise catalogue names no chapter"
    for chapter in sorted(chapters):
        page = BOOK / f"{chapter}.md"
        assert page.exists(), f"the catalogue names chapter {chapter!r}: no {page}"
        assert "{minigun-exercises}" in page.read_text(), (
            f"{page} has exercises in the catalogue but no {{minigun-exercises}} block"
        )


def story_chapters() -> list[str]:
    """The chapters of the numbered toctree ("The story") in ``index.md``, in order."""
    index = (BOOK / "index.md").read_text()
    block = re.search(r"```\{toctree\}\n((?::[^\n]*\n)*)(.*?)```", index, re.DOTALL)
    assert block and ":numbered:" in block[1], "the story's toctree is not numbered"
    return [line.strip() for line in block[2].splitlines() if line.strip()]


def test_every_story_chapter_has_exercises_and_instructor_notes() -> None:
    chapters = story_chapters()
    assert len(chapters) == 18, f"the story lists {len(chapters)} chapters: {chapters}"
    named = catalogue_chapters()
    for chapter in chapters:
        assert chapter in named, f"chapter {chapter!r} has no exercise in the catalogue"
        page = (BOOK / f"{chapter}.md").read_text()
        include = f":::{{only}} instructor\n```{{include}} instructor/{chapter}.md\n```"
        assert page.rstrip().endswith(include + "\n:::"), (
            f"book/{chapter}.md does not end with its instructor notes block"
        )
        assert (BOOK / "instructor" / f"{chapter}.md").is_file(), (
            f"book/instructor/{chapter}.md is missing"
        )


def test_the_runner_numbers_chapters_as_the_table_of_contents_does() -> None:
    book = Book(BOOK)
    for number, chapter in enumerate(story_chapters(), 1):
        assert book.number(chapter) == number, (
            f"the runner calls {chapter!r} chapter {book.number(chapter)}; the "
            f"numbered table of contents makes it chapter {number}"
        )


def package_modules() -> list[str]:
    """Every module of the package, as ``minigun/app/base.py`` paths."""
    package = ROOT / "minigun"
    return sorted(str(p.relative_to(ROOT)) for p in package.rglob("*.py"))


def test_every_module_is_in_the_api_appendix_and_the_gunicorn_map() -> None:
    """A new module must be documented (autodoc) and placed beside gunicorn's."""
    api = (BOOK / "api.md").read_text()
    gunicorn_map = (BOOK / "gunicorn-map.md").read_text()
    for path in package_modules():
        dotted = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        assert f"`{path}`" in gunicorn_map, f"{path} is missing from gunicorn-map.md"
        if not path.endswith("__main__.py"):
            assert f"automodule:: {dotted}\n" in api, f"{dotted} is missing from api.md"


def test_the_books_worker_class_serves_requests() -> None:
    """The worker class written in the custom-worker chapter serves real requests."""
    worker_class = "book._examples.blocking_worker.BlockingWorker"
    with running_minigun("--worker-class", worker_class, "examples.hello:app") as at:
        host, port = at.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 200
    assert body.startswith(b"Hello from minigun worker ")
