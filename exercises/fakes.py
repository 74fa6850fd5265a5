"""Small fakes that stand in for time, logging and the kernel in the exercise tests.

Why fakes: the code you write in these exercises runs in a signal handler, in a
forked child, or in a loop that waits for seconds. Run for real, a mistake there
shows up as a hang or a timeout with no traceback. Called in-process with these
stand-ins, the same mistake is an ordinary exception or a failed assertion that
says what was called, what was expected and what happened.

- :class:`FakeClock` replaces the ``time`` module inside one minigun module: time
  moves only when the code sleeps or the test says so.
- :class:`RecordingLog` replaces the logger: it keeps every message, and re-raises
  any exception the code logs, so an error cannot hide in a log line.
- :class:`FakeProcesses` replaces ``os.kill`` and ``waitpid`` for the arbiter:
  it records every signal and decides, on the fake clock, when a worker exits.
- :class:`FakeWorker` is the worker object a master holds for each child, without
  a process: the tests put it in a real ``WorkerRecord``, the master's record.
- :class:`FakeApp` is the application object the arbiter and the workers are
  handed (the project's tests in ``tests/`` use it too).
- :func:`never_retire` keeps the workers a test builds from drawing their request
  limit, which is exercise 10's hole.
- :func:`trust_no_proxy` answers "no" for every peer a request asks about, which
  is exercise 24's question.
- :func:`settings` makes a real ``Config`` holding the values a test names, and
  :class:`SettingsAsGiven` stands in for ``Config.set`` in the tests of code that
  calls it. ``Config.set`` is exercise 6: every other exercise's tests must run
  while it is still a hole, so no test but exercise 6's goes through it.
"""

import signal
from dataclasses import dataclass, field
from typing import Any

# How waitpid encodes an exit (see os.waitstatus_to_exitcode).
EXIT_STATUS_SHIFT = 8


class FakeClock:
    """A clock that moves only when told: stands in for the ``time`` module."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Sleeping costs no real time: the clock jumps ahead instead."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingLog:
    """A logger that remembers every line and lets no logged exception pass.

    ``exception()`` is called from inside an ``except`` block; re-raising there
    turns "the error was logged and swallowed" into a test failure that shows the
    real traceback.
    """

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.reopened = 0
        self.cfg: Any = None  # the settings of the last setup()

    def record(self, level: str, msg: str, args: tuple[object, ...]) -> None:
        self.lines.append((level, msg % args if args else msg))

    def critical(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("critical", msg, args)

    def error(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("error", msg, args)

    def warning(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("warning", msg, args)

    def info(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("info", msg, args)

    def debug(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("debug", msg, args)

    def exception(self, msg: str, *args: object, extra: object = None) -> None:
        self.record("exception", msg, args)
        raise  # noqa: PLE0704  (re-raises the exception being handled by the caller)

    def access(self, *args: object) -> None:
        self.record("access", "request served", ())

    def reopen_files(self) -> None:
        self.reopened += 1

    def close_on_exec(self) -> None:
        """Nothing to do: the fake has no files."""

    def setup(self, cfg: Any) -> None:
        """Only remember ``cfg``: the fake ignores the logging settings."""
        self.cfg = cfg


class FakeHeartbeat:
    """The master's view of a worker's heartbeat file (:class:`WorkerTmp`)."""

    def __init__(self, last_update: float) -> None:
        self.updated_at = last_update
        self.closed = False

    def last_update(self) -> float:
        return self.updated_at

    def has_notified(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeWorker:
    """The worker object the master forked a child from, with no process behind it.

    The master's own record of the child is ``minigun.arbiter.WorkerRecord``; the
    tests make real ones around this fake. The hooks get the fake, as they would
    get the worker: it has the ``pid`` and ``age`` they read, and the heartbeat
    file master and child share.
    """

    pid: int
    age: int
    tmp: FakeHeartbeat = field(default_factory=lambda: FakeHeartbeat(0.0))


def exit_status(code: int) -> int:
    """The ``waitpid`` status of a child that exited with ``code``."""
    return code << EXIT_STATUS_SHIFT


def killed_status(sig: signal.Signals) -> int:
    """The ``waitpid`` status of a child killed by ``sig``."""
    return int(sig)


class FakeProcesses:
    """``os.kill`` and ``waitpid`` for a table of pretend workers.

    Every signal is recorded as ``(pid, signal.Signals)``. A worker exits
    ``exit_after[pid]`` seconds (on the fake clock) after its first TERM, and at
    once after QUIT, INT or KILL, whatever it was told before.
    ``wait_child()`` then hands it back like ``waitpid(-1, WNOHANG)``.
    """

    def __init__(self, clock: FakeClock, exit_after: dict[int, float]) -> None:
        self.clock = clock
        self.exit_after = exit_after
        self.sent: list[tuple[int, signal.Signals]] = []
        self.exits_at: dict[int, tuple[float, int]] = {}

    def exit(self, pid: int, status: int, after: float = 0.0) -> None:
        """Child ``pid`` ends ``after`` seconds from now with ``waitpid`` status."""
        self.exits_at[pid] = (self.clock.now + after, status)

    def kill(self, pid: int | None, sig: int) -> None:
        """Stands in for ``Arbiter.kill_worker``: record, maybe schedule an exit."""
        assert pid is not None, "kill_worker was called with pid None"
        sig = signal.Signals(sig)
        self.sent.append((pid, sig))
        if sig == signal.SIGKILL:
            self.exit(pid, killed_status(sig))
        elif sig in (signal.SIGQUIT, signal.SIGINT):
            self.exit(pid, exit_status(0))
        elif sig == signal.SIGTERM and pid not in self.exits_at:
            self.exit(pid, exit_status(0), after=self.exit_after.get(pid, 0.0))

    def wait_child(self) -> tuple[int, int] | None:
        """Stands in for ``Arbiter.wait_child``: one exited ``(pid, status)``."""
        for pid, (when, status) in sorted(self.exits_at.items()):
            if when <= self.clock.now:
                del self.exits_at[pid]
                return pid, status
        return None

    def signals_to(self, pid: int) -> list[str]:
        return [sig.name for sent_pid, sig in self.sent if sent_pid == pid]

    def forget_exited(self, table: dict[int, Any]) -> None:
        """Stands in for ``Arbiter.reap_workers`` (exercise 9) in the tests of the
        code that calls it: drops from ``table`` every pid whose exit has come."""
        for pid, (when, _status) in list(self.exits_at.items()):
            if when <= self.clock.now:
                del self.exits_at[pid]
                table.pop(pid, None)


class FakeApp:
    """The application a master or a worker is handed: a ``cfg``, a ``wsgi()`` and
    a ``reload()``.

    ``wsgi()`` returns :func:`hello_app`, or raises ``error`` when one is given, as
    an application whose import fails in the worker. ``reload()`` counts its calls
    and swaps in ``next_cfg`` when one is given, as re-reading an edited config
    file would.

    The project's own tests use this one too (``tests/fake_app.py`` imports it).
    The dependency runs from ``tests/`` to ``exercises/`` and never back: an
    exercise folder runs against a student's own package and must not need the
    project's test suite.
    """

    def __init__(
        self,
        cfg: Any = None,
        next_cfg: Any = None,
        error: BaseException | None = None,
    ) -> None:
        self.cfg = cfg
        self.next_cfg = next_cfg
        self.error = error
        self.reloads = 0

    def reload(self) -> None:
        self.reloads += 1
        if self.next_cfg is not None:
            self.cfg = self.next_cfg

    def wsgi(self) -> Any:
        if self.error is not None:
            raise self.error
        return hello_app


def hello_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello\n"]


def settings(**values: Any) -> Any:
    """A new ``Config``: its defaults, and each of ``values`` stored as given.

    Not validated: give each value in the form minigun reads (an ``int`` for
    ``workers``, a list for ``bind``, a function for a hook).
    """
    from minigun.config import Config  # the copy under test

    return store(Config(), **values)


def store(cfg: Any, **values: Any) -> Any:
    """Puts ``values`` in ``cfg`` as given; a name that is no setting is a test bug."""
    unknown = sorted(set(values) - set(cfg.values))
    assert not unknown, f"no such settings: {unknown}"
    cfg.values.update(values)
    return cfg


class SettingsAsGiven:
    """``Config.set`` for the tests of the code that calls it: store and record.

    ``SettingsAsGiven().install(monkeypatch)`` puts it in place for one test. Each
    call is recorded as ``(name, value)`` and the value stored as given, unconverted
    (a command line's ``"7"`` stays a string). A value in ``refused`` is a
    ``ConfigError``, the real method's answer to a bad value.
    """

    def __init__(self, refused: tuple[object, ...] = ()) -> None:
        self.refused = refused
        self.calls: list[tuple[str, object]] = []

    def install(self, monkeypatch: Any) -> "SettingsAsGiven":
        """Replaces ``Config.set`` until the test ends; returns this recorder."""
        from minigun.config import Config  # the copy under test

        def set_as_given(cfg: Any, name: str, value: object) -> None:
            self.set_on(cfg, name, value)

        monkeypatch.setattr(Config, "set", set_as_given)
        return self

    def set_on(self, cfg: Any, name: str, value: object) -> None:
        from minigun.errors import ConfigError  # the copy under test

        self.calls.append((name, value))
        if any(value is bad for bad in self.refused):
            raise ConfigError(f"{name}: {value!r} is refused by the test")
        store(cfg, **{name: value})


def never_retire(monkeypatch: Any) -> None:
    """Workers built in this test never retire after a number of requests.

    A worker draws its limit when it is built, with
    ``Worker.requests_before_retiring``: that is exercise 10, and the tests of the
    other exercises build workers while it may still be a hole.
    """
    from minigun.workers.base import UNLIMITED_REQUESTS, Worker

    no_limit = staticmethod(lambda cfg: UNLIMITED_REQUESTS)
    monkeypatch.setattr(Worker, "requests_before_retiring", no_limit)


def trust_no_proxy(monkeypatch: Any) -> None:
    """No TCP peer is a trusted proxy in this test.

    Every request asks, as it is built, whether its peer may set the forwarded
    headers: ``minigun.http.proxy.host_allowed``, exercise 24. The tests of the
    other exercises parse requests while it may still be a hole.
    """
    from minigun.http import proxy  # the copy under test

    def trusted(host: str, allowed: tuple[str, ...]) -> bool:
        return False

    monkeypatch.setattr(proxy, "host_allowed", trusted)
