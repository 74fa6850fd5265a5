"""Exercise 16: the worker's TERM handler lets the request in hand finish."""

import os
import signal
from pathlib import Path

import pytest
from fakes import FakeApp, FakeClock, RecordingLog, never_retire, settings

import minigun
from minigun.wakepipe import WakePipe
from minigun.workers import base as base_module
from minigun.workers.sync import SyncWorker

GRACEFUL_TIMEOUT = 7


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(base_module, "time", fake)
    return fake


@pytest.fixture
def worker(clock: FakeClock, monkeypatch: pytest.MonkeyPatch):
    """A sync worker as it is after booting: wake-up pipe made, no fork, no signals."""
    never_retire(monkeypatch)
    cfg = settings(graceful_timeout=GRACEFUL_TIMEOUT)
    sync_worker = SyncWorker(1, os.getpid(), [], FakeApp(cfg), 30, cfg, RecordingLog())
    sync_worker.wake_pipe = WakePipe()
    yield sync_worker
    sync_worker.tmp.close()
    sync_worker.wake_pipe.close()


def term(worker: SyncWorker) -> None:
    """Delivers TERM the way the kernel would: by calling the handler."""
    try:
        worker.handle_exit(signal.SIGTERM, None)
    except SystemExit as leaving:
        pytest.fail(
            f"handle_exit raised SystemExit({leaving.code}); TERM must not exit "
            "on the spot, or the request in hand is cut off"
        )


def test_term_ends_the_loop_without_exiting(worker: SyncWorker, clock: FakeClock):
    term(worker)
    assert worker.alive is False, (
        "after handle_exit(SIGTERM) worker.alive is still True; expected False, so "
        "the accept loop stops after the current request"
    )
    expected = clock.now + GRACEFUL_TIMEOUT
    assert worker.stop_deadline == expected, (
        f"stop_deadline is {worker.stop_deadline}, expected time.monotonic() + "
        f"graceful_timeout = {expected}: the drain of queued connections must end"
    )
    try:
        woken = os.read(worker.wake_pipe.fileno(), 64)
    except BlockingIOError:
        woken = b""
    assert woken, (
        "after handle_exit(SIGTERM) the wake-up pipe is empty: a loop asleep in "
        "select() would not notice for up to a second"
    )
