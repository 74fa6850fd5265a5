"""Exercise 7: the master's signal handler only enqueues the signal and wakes it."""

import os
import signal
import time
from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog

import minigun
from minigun.arbiter import MASTER_TICK, MAX_QUEUED_SIGNALS, Arbiter
from minigun.config import Config
from minigun.wakepipe import WakePipe


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def master():
    """An arbiter with a wake-up pipe, but no handlers installed and no workers."""
    arbiter = Arbiter(FakeApp(Config()))
    arbiter.log = RecordingLog()
    arbiter.wake_pipe = WakePipe()
    yield arbiter
    arbiter.wake_pipe.close()


def pipe_has_a_byte(master: Arbiter) -> bool:
    try:
        return bool(os.read(master.wake_pipe.fileno(), 64))
    except BlockingIOError:
        return False


def test_the_signal_is_queued_and_the_loop_woken(master: Arbiter):
    master.signal(signal.SIGTTIN, None)
    queued = [signal.Signals(sig).name for sig in master.signal_queue]
    assert queued == ["SIGTTIN"], (
        f"after signal(SIGTTIN, None) the queue is {queued}, expected ['SIGTTIN']"
    )
    assert pipe_has_a_byte(master), (
        "after signal(SIGTTIN, None) the wake-up pipe is empty: the loop sleeping "
        "in select() would not notice the signal until MASTER_TICK runs out"
    )


def test_the_handler_does_nothing_but_enqueue(master: Arbiter):
    before = master.num_workers
    managed = []
    master.manage_workers = lambda: managed.append("manage_workers")
    master.signal(signal.SIGTTIN, None)
    assert (master.num_workers, managed) == (before, []), (
        f"signal(SIGTTIN) changed num_workers to {master.num_workers} and called "
        f"{managed}: the handler must leave that to the loop"
    )
    master.handle_queued_signals()
    assert (master.num_workers, managed) == (before + 1, ["manage_workers"]), (
        f"handle_queued_signals() after a TTIN left num_workers at "
        f"{master.num_workers} (expected {before + 1}) and called {managed}"
    )


def test_a_burst_of_signals_is_bounded(master: Arbiter):
    burst = [signal.SIGTTIN] * (MAX_QUEUED_SIGNALS + 3) + [signal.SIGHUP]
    for sig in burst:
        master.signal(sig, None)
    queued = [signal.Signals(sig).name for sig in master.signal_queue]
    expected = ["SIGTTIN"] * MAX_QUEUED_SIGNALS
    assert queued == expected, (
        f"after {len(burst)} signals the queue holds {len(queued)}: {queued}; "
        f"expected the first MAX_QUEUED_SIGNALS = {MAX_QUEUED_SIGNALS}"
    )
    assert pipe_has_a_byte(master), "a full queue must still wake the loop"


def test_a_sleeping_master_wakes_at_once(master: Arbiter):
    master.signal(signal.SIGHUP, None)
    started = time.monotonic()
    master.sleep()
    slept = time.monotonic() - started
    assert slept < MASTER_TICK / 2, (
        f"sleep() after a signal took {slept:.2f} s; expected it to return at once, "
        f"not after MASTER_TICK = {MASTER_TICK} s"
    )
