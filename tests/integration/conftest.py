"""Start real ``minigun`` processes for the integration tests, and always stop them.

Fixtures:

- ``serve(APP, *ARGS, workers=1, booted=None, bind="127.0.0.1:0")`` starts
  ``python -m minigun`` on a free port, waits for "Listening at" and for ``booted``
  (default ``workers``) "Booting worker" lines, and returns a :class:`Server`: its
  ``port``, ``master_pid``, ``log`` (a :class:`LogBuffer` with ``text`` and
  ``wait_for``), ``booted_pids()``, ``worker_pids()`` (live children, from /proc),
  ``request()``, ``get_pid()``, ``kill(sig)`` and ``wait_exit()``. ``workers=None``
  and ``bind=None`` leave those settings to a config file.
- ``run_to_exit(*ARGS)`` runs a minigun that should stop by itself (a failed boot,
  ``--daemon``) and returns its exit code and output.
- ``processes`` is the tracker behind both: ``processes.track(proc)`` adopts a
  master a test started itself (and returns its :class:`Server`); add any other pid
  a test creates (a USR2 master, a daemon) to ``processes.extra_pids``.

Helpers the topic files share: :func:`wait_until` (poll a condition, fail with a
message at the timeout: the tests wait on conditions, never on fixed sleeps),
:class:`Background` (a request in a thread), :class:`Load` (a bounded stream of
requests that records every failure) and :data:`FAST` (short timeouts).

Teardown TERMs every process a test started, KILLs it if it lingers, and KILLs every
minigun pid it ever saw (masters, announced workers, their children), even when the
test failed. Cleanup lives there, never in an ``except`` branch of a test, so a slow
cleanup cannot hide the assertion that failed.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
LISTENING = re.compile(
    r"Listening at: (?:\S+,)?https?://127\.0\.0\.1:(\d+)(?:,\S+)? \((\d+)\)"
)
BOOTING = re.compile(r"Booting worker with pid: (\d+)")
REQUEST_STARTED = re.compile(r"\[DEBUG\] GET /")
"""What the default pre_request hook logs at ``--log-level debug`` as a worker starts a
request: the sign that a request is in a worker's hands, not in the backlog."""
FAST = ("--timeout", "5", "--graceful-timeout", "3")
POLL_INTERVAL = 0.05


class LogBuffer:
    """Collects a process's output lines in a thread, so tests can wait on them."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        for raw in iter(stream.readline, b""):
            with self.changed:
                self.lines.append(raw.decode("utf-8", "replace"))
                self.changed.notify_all()
        with self.changed:
            self.closed = True  # every writer (master, workers, daemons) has exited
            self.changed.notify_all()

    @property
    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def wait_for(
        self, pattern: str | re.Pattern[str], count: int = 1, timeout: float = 10.0
    ) -> list[re.Match[str]]:
        """Wait until ``pattern`` matched ``count`` times; return the matches."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                matches = list(regex.finditer("".join(self.lines)))
                if len(matches) >= count:
                    return matches
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(
                        f"never saw {regex.pattern!r} x{count}; log:\n"
                        + "".join(self.lines)
                    )
                self.changed.wait(min(left, 0.2))


class Server:
    """One running ``minigun`` master and what the tests know about it."""

    def __init__(self, proc: subprocess.Popen, log: LogBuffer) -> None:
        self.proc = proc
        self.log = log
        match = log.wait_for(LISTENING, timeout=START_TIMEOUT)[0]
        self.port = int(match.group(1))
        self.master_pid = int(match.group(2))

    def wait_for(self, pattern, count: int = 1, timeout: float = 10.0):
        return self.log.wait_for(pattern, count, timeout)

    def booted_pids(self) -> list[int]:
        """Every worker pid the log has announced, in order."""
        return [int(m.group(1)) for m in BOOTING.finditer(self.log.text)]

    def worker_pids(self) -> set[int]:
        """The master's live children right now (read from /proc)."""
        return children_of(self.master_pid)

    @staticmethod
    def children_of(pid: int) -> set[int]:
        return children_of(pid)

    def kill(self, sig: int) -> None:
        os.kill(self.master_pid, sig)

    def request(
        self,
        path: str = "/",
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, bytes]:
        """One HTTP request on a new connection; returns ``(status, body)``."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def get_pid(self, path: str = "/") -> int:
        """GET an ``app_pid``-style URL and return the pid in the body."""
        status, body = self.request(path)
        assert status == 200, (status, body)
        return int(body)

    def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:
        return self.proc.wait(timeout)


def children_of(pid: int) -> set[int]:
    """Child pids of ``pid`` from /proc (no psutil needed)."""
    pids: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids.update(int(p) for p in children.read_text().split())
        except OSError:
            continue
    return pids


def is_minigun_process(pid: int) -> bool:
    """Guard against pid reuse: only kill what is still a minigun process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"minigun" in cmdline


def start_minigun(
    *args: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    bind: str | None = "127.0.0.1:0",
):
    """Start ``python -m minigun ARGS`` bound to a free port (``bind=None``: the
    config decides), output captured."""
    binding = ("--bind", bind) if bind else ()
    command = [sys.executable, "-m", "minigun", *binding, *args]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, LogBuffer(proc.stdout)


def stop_started(proc: subprocess.Popen) -> None:
    """TERM a process this test run started, then KILL it if it lingers; bounded.

    The ``Popen`` is ours and not yet reaped, so its pid cannot have been reused.
    """
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


def is_alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting to be reaped."""
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return False


class ProcessTracker:
    """Remembers every process the test started, to kill them all at the end."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        self.servers: list[Server] = []
        self.extra_pids: set[int] = set()

    def track(self, proc: subprocess.Popen, log: LogBuffer | None = None) -> Server:
        """Adopt ``proc`` at once, then wait for it to listen; return its Server.

        A process that never listens is still stopped by the teardown, and the
        failure the test reports is the one that happened.
        """
        self.started.append(proc)
        server = Server(proc, log or LogBuffer(proc.stdout))
        self.servers.append(server)
        return server

    @staticmethod
    def children_of(pid: int) -> set[int]:
        return children_of(pid)

    def collect(self) -> set[int]:
        """Every minigun pid we know of: masters, announced workers, live children."""
        pids = set(self.extra_pids)
        for server in self.servers:
            pids.add(server.master_pid)
            pids.update(server.booted_pids())
            pids.update(server.worker_pids())
        for pid in list(pids):
            pids.update(children_of(pid))
        return pids

    def stop_all(self) -> None:
        leftovers = self.collect()
        for proc in self.started:
            stop_started(proc)
        for pid in leftovers:
            if is_minigun_process(pid) and is_alive(pid):
                with contextlib.suppress(ProcessLookupError):  # it just exited
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def processes() -> Iterator[ProcessTracker]:
    tracker = ProcessTracker()
    try:
        yield tracker
    finally:
        tracker.stop_all()


@pytest.fixture
def serve(processes: ProcessTracker) -> Callable[..., Server]:
    """``serve(APP, *ARGS, workers=1)``: a running server whose workers booted."""

    def start(
        app: str,
        *args: str,
        workers: int | None = 1,
        booted: int | None = None,
        **kwargs,
    ) -> Server:
        """``workers=None`` leaves the count to the config; ``booted`` is how many
        "Booting worker" lines to wait for (default: ``workers``, or 1)."""
        count = ("--workers", str(workers)) if workers is not None else ()
        proc, log = start_minigun(*count, *args, app, **kwargs)
        server = processes.track(proc, log)
        server.wait_for(BOOTING, count=booted or workers or 1, timeout=START_TIMEOUT)
        return server

    return start


@pytest.fixture
def run_to_exit(processes: ProcessTracker) -> Callable[..., tuple[int, str]]:
    """``run_to_exit(*ARGS)``: run a minigun that should stop by itself; return its
    exit code and output (it is killed, and the test fails, if it does not)."""

    def run(*args: str, timeout: float = 20.0, **kwargs) -> tuple[int, str]:
        proc, log = start_minigun(*args, **kwargs)
        processes.started.append(proc)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"minigun did not exit; log:\n{log.text}") from None
        log.thread.join(STOP_TIMEOUT)
        return code, log.text

    return run


# --- helpers the topic files share ---------------------------------------------------


def wait_until(
    condition: Callable[[], object], timeout: float = 10.0, message: str = ""
) -> None:
    """Poll ``condition`` until it is true; fail naming it (and ``message``) after
    ``timeout`` seconds. A loaded machine makes a test slower, never wrong."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"timed out after {timeout} s waiting for {condition} {message}".rstrip()
        )
        time.sleep(POLL_INTERVAL)


class Background:
    """Run ``function(*args)`` in a thread; fetch its result or exception later."""

    def __init__(self, function, *args) -> None:
        self.value = None
        self.exception: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(function, *args))
        self.thread.start()

    def _run(self, function, *args) -> None:
        try:
            self.value = function(*args)
        except BaseException as error:  # handed to the test
            self.exception = error

    def result(self, timeout: float = 20.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "request still running"
        if self.exception is not None:
            raise self.exception
        return self.value

    def error(self, timeout: float = 20.0) -> BaseException | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "request still running"
        return self.exception


def term_cuts_a_request_past_the_graceful_timeout(server, path: str) -> None:
    """TERM with a request that outlives ``--graceful-timeout 1``: the master still
    exits 0 within seconds, and the client sees its connection cut, not an answer.
    Any worker class; the server must log requests at debug (REQUEST_STARTED)."""
    stuck = Background(server.request, path)
    server.wait_for(REQUEST_STARTED)
    started = time.monotonic()
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(stuck.error(), OSError)


class Load:
    """A bounded stream of requests from two client threads, recording each outcome."""

    LIMIT = 15.0  # seconds: the stream stops by itself even if the test hangs

    def __init__(self, server, pause: float = 0.0) -> None:
        self.server = server
        self.pause = pause
        self.stop = threading.Event()
        self.successes = 0
        self.failures: list[str] = []
        self.pids: set[int] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client) for _ in range(2)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(self.LIMIT)

    def _client(self) -> None:
        deadline = time.monotonic() + self.LIMIT
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = self.server.request("/", timeout=5)
                outcome = None if status == 200 else f"status {status}: {body!r}"
            except OSError as error:
                outcome = repr(error)
            with self.lock:
                if outcome is None:
                    self.successes += 1
                    self.pids.add(int(body))
                else:
                    self.failures.append(outcome)
            time.sleep(self.pause)

    def wait_for_successes(self, more: int, timeout: float = 10.0) -> None:
        """Wait until ``more`` requests have succeeded beyond those counted so far."""
        with self.lock:
            target = self.successes + more
        wait_until(
            lambda: self.successes >= target, timeout, f"({more} more successes)"
        )

    def assert_all_succeeded(self, minimum: int) -> None:
        assert not self.failures, f"{len(self.failures)} failed: {self.failures[:5]}"
        assert self.successes >= minimum, f"only {self.successes} requests"
