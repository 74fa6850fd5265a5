"""Exercise 15: stop() waits for workers up to graceful_timeout, then kills."""

import signal
from pathlib import Path

import pytest
from fakes import (
    FakeApp,
    FakeClock,
    FakeProcesses,
    FakeWorker,
    RecordingLog,
    settings,
)

import minigun
from minigun import arbiter as arbiter_module
from minigun.arbiter import STOP_POLL, Arbiter, WorkerRecord

GRACEFUL_TIMEOUT = 10
WORKERS = (101, 102, 103)


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(arbiter_module, "time", fake)
    return fake


@pytest.fixture
def exit_after() -> dict[int, float]:
    """Seconds each worker needs after TERM; a test fills it in before stopping."""
    return {}


@pytest.fixture
def processes(clock: FakeClock, exit_after: dict[int, float]) -> FakeProcesses:
    return FakeProcesses(clock, exit_after)


@pytest.fixture
def master(processes: FakeProcesses) -> Arbiter:
    """An arbiter with three fake workers and graceful_timeout = 10 s.

    Reaping forgets each worker once its fake process has exited (the real
    reap_workers is exercise 9).
    """
    cfg = settings(graceful_timeout=GRACEFUL_TIMEOUT)
    arbiter = Arbiter(FakeApp(cfg))
    arbiter.log = RecordingLog()
    arbiter.kill_worker = processes.kill
    arbiter.reap_workers = lambda: processes.forget_exited(arbiter.workers)
    for age, pid in enumerate(WORKERS, 1):
        arbiter.workers[pid] = WorkerRecord(pid, FakeWorker(pid, age), 0, 0.0)
    return arbiter


def signals(processes: FakeProcesses) -> dict[int, list[str]]:
    return {pid: processes.signals_to(pid) for pid in WORKERS}


def test_a_graceful_stop_waits_for_the_slowest_worker(
    master: Arbiter, processes: FakeProcesses, clock: FakeClock, exit_after
):
    exit_after.update({101: 2.0, 102: 5.0, 103: 0.5})
    started = clock.now
    master.stop(graceful=True)
    waited = clock.now - started
    assert signals(processes) == {pid: ["SIGTERM"] for pid in WORKERS}, (
        f"stop(graceful=True) sent {signals(processes)}; expected one TERM each and "
        "no KILL, since every worker finished within graceful_timeout"
    )
    assert 5.0 <= waited <= 5.0 + 2 * STOP_POLL, (
        f"the slowest worker took 5 s and stop() returned after {waited:.1f} s; "
        "expected it to wait for that worker and return soon after"
    )
    assert master.workers == {}, f"workers left in the table: {list(master.workers)}"


def test_a_worker_outliving_graceful_timeout_is_killed(
    master: Arbiter, processes: FakeProcesses, clock: FakeClock, exit_after
):
    exit_after.update({102: 60.0})
    killed_at = []
    record_kill = processes.kill

    def kill(pid, sig):
        if sig == signal.SIGKILL:
            killed_at.append(clock.now - started)
        record_kill(pid, sig)

    master.kill_worker = kill
    started = clock.now
    master.stop(graceful=True)
    assert signals(processes) == {
        101: ["SIGTERM"],
        102: ["SIGTERM", "SIGKILL"],
        103: ["SIGTERM"],
    }, (
        f"worker 102 needs 60 s but graceful_timeout is {GRACEFUL_TIMEOUT} s: stop() "
        f"sent {signals(processes)}, expected SIGKILL for 102 only"
    )
    assert killed_at and GRACEFUL_TIMEOUT <= killed_at[0] <= GRACEFUL_TIMEOUT + 1, (
        f"SIGKILL was sent after {killed_at} s; expected it once graceful_timeout "
        f"({GRACEFUL_TIMEOUT} s) had passed, not before, and not much later"
    )
    assert master.workers == {}, f"workers left in the table: {list(master.workers)}"


def test_a_quick_stop_sends_quit(master: Arbiter, processes: FakeProcesses):
    master.stop(graceful=False)
    assert signals(processes) == {pid: ["SIGQUIT"] for pid in WORKERS}, (
        f"stop(graceful=False) sent {signals(processes)}; expected QUIT to each"
    )


def test_an_int_turns_a_graceful_wait_quick(
    master: Arbiter, processes: FakeProcesses, clock: FakeClock, exit_after
):
    exit_after.update({pid: 60.0 for pid in WORKERS})
    master.signal_queue.append(signal.SIGINT)  # pressed Ctrl-C while we wait
    started = clock.now
    master.stop(graceful=True)
    waited = clock.now - started
    assert signals(processes) == {pid: ["SIGTERM", "SIGQUIT"] for pid in WORKERS}, (
        f"with an INT queued, stop(graceful=True) sent {signals(processes)}; "
        "expected TERM, then QUIT to each worker as soon as the INT is seen"
    )
    assert waited < GRACEFUL_TIMEOUT, (
        f"stop() waited {waited:.1f} s; the INT should have cut the wait short"
    )
