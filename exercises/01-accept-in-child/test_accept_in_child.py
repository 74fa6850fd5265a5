"""Exercise 1: a forked worker accepts from the listener every worker shares."""

import os
from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog, never_retire

import minigun
from minigun.config import Config
from minigun.workers.sync import SyncWorker

CLIENT_ADDRESS = ("203.0.113.7", 51000)


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class FakeSocket:
    """An accepted connection's socket that remembers what was done to it, in order."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def setblocking(self, flag: bool) -> None:
        self.events.append(f"setblocking({flag})")

    def close(self) -> None:
        self.events.append("close")


class FakeListener:
    """The shared listening socket: ``accept`` gives what the test queued."""

    def __init__(self, outcome: object) -> None:
        self.outcome = outcome
        self.accepts = 0

    def accept(self) -> tuple[FakeSocket, tuple[str, int]]:
        self.accepts += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert isinstance(self.outcome, FakeSocket)
        return self.outcome, CLIENT_ADDRESS


class HandlerBroke(Exception):
    """What the recorded handler raises (NotImplementedError is a RuntimeError)."""


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch):
    """A sync worker in the child after boot, with ``handle`` recorded."""
    never_retire(monkeypatch)
    cfg = Config()
    sync_worker = SyncWorker(1, os.getpid(), [], FakeApp(cfg), 30, cfg, RecordingLog())
    sync_worker.handled = []
    yield sync_worker
    sync_worker.tmp.close()


def record_handle(worker: SyncWorker, events: list[str], error: Exception | None):
    def handle(listener, sock, peer_addr):
        events.append("handle")
        worker.handled.append((listener, sock, peer_addr))
        if error is not None:
            raise error

    worker.handle = handle


@pytest.mark.parametrize("lost", [BlockingIOError(), InterruptedError()])
def test_an_empty_queue_is_not_an_error(worker: SyncWorker, lost: OSError):
    listener = FakeListener(lost)
    record_handle(worker, [], None)
    served = worker.accept_and_serve(listener)
    assert served is False, (
        f"accept() raised {type(lost).__name__} (another worker won the race): "
        f"accept_and_serve returned {served!r}, expected False"
    )
    assert worker.handled == [], (
        f"nothing was accepted, but handle got {worker.handled}"
    )


def test_a_queued_connection_is_served_then_closed(worker: SyncWorker):
    events: list[str] = []
    sock = FakeSocket(events)
    listener = FakeListener(sock)
    record_handle(worker, events, None)
    served = worker.accept_and_serve(listener)
    assert served is True, f"accept_and_serve returned {served!r}, expected True"
    assert worker.handled == [(listener, sock, CLIENT_ADDRESS)], (
        f"handle was called with {worker.handled}; expected "
        "(listener, sock, peer_addr) exactly once"
    )
    assert events == ["setblocking(True)", "handle", "close"], (
        f"on the accepted socket: {events}; expected it made blocking, handled, closed"
    )


def test_the_connection_is_closed_even_when_handling_fails(worker: SyncWorker):
    events: list[str] = []
    listener = FakeListener(FakeSocket(events))
    record_handle(worker, events, HandlerBroke("the handler broke"))
    with pytest.raises(HandlerBroke):
        worker.accept_and_serve(listener)
    assert events[-1:] == ["close"], (
        f"handle raised; on the accepted socket: {events}; expected it closed anyway "
        "(try/finally), or the child leaks one descriptor per failed request"
    )
