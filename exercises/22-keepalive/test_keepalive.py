"""Exercise 22: the gthread worker's keep-alive books: idle, poller, connections."""

import os
import threading
from pathlib import Path

import pytest
from fakes import FakeApp, FakeClock, RecordingLog, never_retire

import minigun
from minigun.config import Config
from minigun.workers import gthread
from minigun.workers.gthread import ThreadWorker


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class FakeConn:
    """A parked connection: a name, a socket stand-in, a keep-alive deadline."""

    def __init__(self, name: str, idle_until: float) -> None:
        self.name = name
        self.sock = f"socket of {name}"
        self.idle_until = idle_until
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return self.name


class FakePoller:
    """Checks that the selector's table is changed under the worker's lock."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.unregistered: list[str] = []

    def unregister(self, sock: str) -> None:
        assert self.lock.locked(), (
            f"poller.unregister({sock!r}) was called without holding self.lock; pool "
            "threads park connections concurrently"
        )
        self.unregistered.append(sock)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(gthread, "time", fake)
    return fake


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch):
    never_retire(monkeypatch)
    cfg = Config()
    thread_worker = ThreadWorker(
        1, os.getpid(), [], FakeApp(cfg), 30, cfg, RecordingLog()
    )
    thread_worker.poller = FakePoller(thread_worker.lock)
    yield thread_worker
    thread_worker.tmp.close()


def park(worker: ThreadWorker, *conns: FakeConn) -> None:
    for conn in conns:
        worker.idle[conn] = None
        worker.connections.add(conn)


def test_expired_connections_are_closed_and_forgotten(worker, clock):
    old = FakeConn("old", clock.now - 1)
    due = FakeConn("due", clock.now)
    waiting = FakeConn("waiting", clock.now + 1)
    park(worker, old, due, waiting)
    worker.close_idle_connections()
    closed = [c for c in (old, due, waiting) if c.closed]
    assert closed == [old, due], (
        f"deadlines were now-1, now and now+1; closed: {closed}; expected [old, due] "
        "(a deadline that is now has passed)"
    )
    assert list(worker.idle) == [waiting], (
        f"worker.idle is {list(worker.idle)}; expected only [waiting] left"
    )
    assert worker.connections == {waiting}, (
        f"worker.connections is {worker.connections}; expected only {{waiting}}"
    )


def test_every_closed_connection_leaves_the_selector(worker, clock):
    old = FakeConn("old", clock.now - 5)
    park(worker, old, FakeConn("waiting", clock.now + 5))
    worker.close_idle_connections()
    assert worker.poller.unregistered == [old.sock], (
        f"poller.unregister was called for {worker.poller.unregistered}; expected "
        f"[{old.sock!r}]: a closed socket left in the selector breaks the next select"
    )


def test_nothing_expires_before_its_deadline(worker, clock):
    conns = [FakeConn(f"c{n}", clock.now + 2 + n) for n in range(3)]
    park(worker, *conns)
    worker.close_idle_connections()
    assert not any(c.closed for c in conns), "a connection was closed before its time"
    clock.advance(10)
    worker.close_idle_connections()
    assert all(c.closed for c in conns) and not worker.idle, (
        "10 s later every deadline has passed; still open: "
        f"{[c for c in conns if not c.closed]}"
    )
