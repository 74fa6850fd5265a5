"""Exercise 17: the master aborts a worker whose heartbeat went silent."""

from pathlib import Path

import pytest
from fakes import (
    FakeApp,
    FakeClock,
    FakeHeartbeat,
    FakeProcesses,
    FakeWorker,
    RecordingLog,
    settings,
)

import minigun
from minigun import arbiter as arbiter_module
from minigun.arbiter import Arbiter, WorkerRecord

TIMEOUT = 30


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
def processes(clock: FakeClock) -> FakeProcesses:
    return FakeProcesses(clock, exit_after={})


def make_master(processes: FakeProcesses, timeout: int = TIMEOUT) -> Arbiter:
    cfg = settings(timeout=timeout)
    arbiter = Arbiter(FakeApp(cfg))
    arbiter.log = RecordingLog()
    arbiter.kill_worker = processes.kill
    return arbiter


def add_worker(master: Arbiter, pid: int, silent_for: float, booted_ago: float):
    """The master's record of a worker forked ``booted_ago`` seconds ago, whose
    last heartbeat was ``silent_for`` seconds ago."""
    now = arbiter_module.time.time()
    heartbeat = FakeHeartbeat(last_update=now - silent_for)
    worker = FakeWorker(pid, pid, tmp=heartbeat)
    master.workers[pid] = WorkerRecord(pid, worker, 0, spawned_at=now - booted_ago)
    return master.workers[pid]


def test_only_the_silent_worker_is_aborted(processes: FakeProcesses):
    master = make_master(processes)
    stuck = add_worker(master, 101, silent_for=TIMEOUT + 1, booted_ago=600)
    add_worker(master, 102, silent_for=5, booted_ago=600)
    master.murder_workers()
    sent = {pid: processes.signals_to(pid) for pid in (101, 102)}
    assert sent == {101: ["SIGABRT"], 102: []}, (
        f"with timeout={TIMEOUT}, worker 101 silent for {TIMEOUT + 1} s and 102 for "
        f"5 s, murder_workers() sent {sent}; expected SIGABRT to 101 only"
    )
    assert stuck.aborted, (
        "the master's record of worker 101 is not marked aborted: abort it with "
        "self.abort_worker(worker), which also gives it abort_grace before SIGKILL"
    )


def test_a_worker_is_aborted_once(processes: FakeProcesses, clock: FakeClock):
    master = make_master(processes)
    add_worker(master, 101, silent_for=TIMEOUT + 1, booted_ago=600)
    master.murder_workers()
    clock.advance(0.2)  # less than abort_grace: no SIGKILL yet either
    master.murder_workers()
    assert processes.signals_to(101) == ["SIGABRT"], (
        f"two passes of murder_workers() sent {processes.signals_to(101)} to a "
        "silent worker; expected one SIGABRT: an aborted worker is not aborted again"
    )


def test_a_booting_worker_counts_from_its_spawn(processes: FakeProcesses):
    master = make_master(processes)
    add_worker(master, 101, silent_for=10_000, booted_ago=10)  # no heartbeat yet
    add_worker(master, 102, silent_for=10_000, booted_ago=TIMEOUT + 5)
    master.murder_workers()
    sent = {pid: processes.signals_to(pid) for pid in (101, 102)}
    assert sent == {101: [], 102: ["SIGABRT"]}, (
        f"two workers without a heartbeat yet, spawned 10 s and {TIMEOUT + 5} s ago: "
        f"murder_workers() sent {sent}; expected only the older one aborted, since "
        "a booting worker's last sign of life is its spawn time"
    )


def test_timeout_zero_never_aborts(processes: FakeProcesses):
    master = make_master(processes, timeout=0)
    add_worker(master, 101, silent_for=10_000, booted_ago=10_000)
    master.murder_workers()
    assert processes.sent == [], (
        f"with timeout=0 murder_workers() sent {processes.sent}; expected nothing: "
        "0 turns the check off"
    )


def test_an_aborted_worker_that_lingers_is_killed(
    processes: FakeProcesses, clock: FakeClock
):
    master = make_master(processes)
    add_worker(master, 101, silent_for=TIMEOUT + 1, booted_ago=600)
    master.murder_workers()
    clock.advance(master.cfg.abort_grace + 0.1)
    master.murder_workers()
    assert processes.signals_to(101) == ["SIGABRT", "SIGKILL"], (
        f"a worker still there abort_grace after SIGABRT got "
        f"{processes.signals_to(101)}; expected SIGABRT, then SIGKILL"
    )
