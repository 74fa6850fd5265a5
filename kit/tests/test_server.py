"""The last test of the course: the server you wrote serves, and stops gracefully.

Each exercise's tests call one function in-process. This one runs the whole server for
real, as ``make run`` does: ``python -m minigun`` from this folder (so the package is
the one you filled in), serving ``examples/hello.py`` on 127.0.0.1 at a free port. It
asks for a page and expects the app's 200, then sends the master TERM, the signal of a
graceful stop, and expects the master to log its shutdown and exit with status 0.

While a hole is still open there is no server of yours to run yet, so the test does not
start one: it fails at once, naming every exercise still to do and where its ``raise``
is. Whatever happens, the processes it started are stopped (by their process group, the
one the master was started in) before the next test runs.
"""

import contextlib
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]
OPEN_HOLE = re.compile(r'raise NotImplementedError\("exercise (?P<id>[^:"]+):')
LISTENING = re.compile(r"Listening at: https?://127\.0\.0\.1:(\d+)")
SHUTDOWN = re.compile(r"Shutting down: Master")
START_TIMEOUT = 20.0  # seconds for the master to bind and say so
STOP_TIMEOUT = 15.0  # seconds for a graceful stop (the default graceful_timeout is 30)
HTTP_OK = 200


def open_exercises() -> list[str]:
    """Every exercise whose ``raise NotImplementedError`` is still in ``minigun/``."""
    catalogue = tomllib.loads((KIT / "exercises" / "catalogue.toml").read_text("utf-8"))
    numbers = {entry["id"]: n for n, entry in enumerate(catalogue["exercise"], 1)}
    found = []
    for path in sorted((KIT / "minigun").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for line_number, line in enumerate(lines, 1):
            match = OPEN_HOLE.search(line)
            if match:
                where = f"{path.relative_to(KIT)}:{line_number}"
                number = numbers.get(match["id"], 0)
                found.append((number, f"exercise {number} {match['id']} ({where})"))
    return [text for _, text in sorted(found)]


class Master:
    """A ``python -m minigun`` process and the lines it has written so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        """The first match of ``pattern`` in the log; at the timeout, fails with it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.log)
            if found:
                return found
            if self.process.poll() is not None and not self.reader.is_alive():
                break  # it exited and every line has been read
            time.sleep(0.05)
        pytest.fail(
            f"minigun never logged {pattern.pattern!r} (exit status "
            f"{self.process.poll()}); its output:\n{self.log}",
            pytrace=False,
        )


@pytest.fixture
def start_master() -> Iterator[list[Master]]:
    """Starts masters on demand; stops each one's process group whatever happened."""
    started: list[Master] = []
    yield started
    for master in started:
        # The master if it still runs, and any worker a master that died left behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(master.process.pid, signal.SIGKILL)
        master.process.wait(timeout=STOP_TIMEOUT)


def serve_hello(started: list[Master]) -> Master:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "minigun",
            "--bind",
            "127.0.0.1:0",
            "examples.hello:app",
        ],
        cwd=KIT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so teardown stops them all
    )
    master = Master(process)
    started.append(master)
    return master


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_server_you_wrote_serves_then_stops_gracefully(start_master):
    still_open = open_exercises()
    if still_open:
        pytest.fail(
            f"{len(still_open)} exercise(s) still open, so there is no server of yours "
            "to run yet (`make exercise` shows the next one):\n  "
            + "\n  ".join(still_open),
            pytrace=False,
        )
    master = serve_hello(start_master)
    port = int(master.wait_for(LISTENING, START_TIMEOUT)[1])

    status, body = get(port, "/")
    assert status == HTTP_OK, f"GET / answered {status}, expected 200: {body!r}"
    assert body.startswith(b"Hello from minigun worker"), f"GET / answered {body!r}"

    master.process.send_signal(signal.SIGTERM)
    try:
        exit_status = master.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"TERM: still running after {STOP_TIMEOUT} s:\n{master.log}")
    master.wait_for(SHUTDOWN, STOP_TIMEOUT)
    assert exit_status == 0, (
        f"TERM: exit status {exit_status}, expected 0:\n{master.log}"
    )
