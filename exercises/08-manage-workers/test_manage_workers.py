"""Exercise 8: manage_workers makes the worker table match num_workers."""

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
from minigun.arbiter import Arbiter, WorkerRecord


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


@pytest.fixture
def master(processes: FakeProcesses) -> Arbiter:
    """An arbiter for 3 workers whose spawn_worker records a FakeWorker, no fork."""
    cfg = settings(workers=3)
    arbiter = Arbiter(FakeApp(cfg))
    arbiter.log = RecordingLog()
    arbiter.kill_worker = processes.kill

    def spawn_worker() -> int:
        arbiter.worker_age += 1
        pid = 100 + arbiter.worker_age
        worker = FakeWorker(pid, arbiter.worker_age)
        arbiter.workers[pid] = WorkerRecord(pid, worker, arbiter.generation, 0.0)
        return pid

    arbiter.spawn_worker = spawn_worker
    return arbiter


def serving(master: Arbiter) -> list[int]:
    """The pids of workers not asked to leave, oldest first."""
    return [w.pid for w in master.workers.values() if w.retire_deadline is None]


def test_spawns_up_to_num_workers(master: Arbiter, processes: FakeProcesses):
    master.manage_workers()
    assert serving(master) == [101, 102, 103], (
        f"manage_workers() with num_workers=3 and no workers left {serving(master)} "
        "serving, expected three new workers [101, 102, 103]"
    )
    assert processes.sent == [], f"nothing should be killed, but got {processes.sent}"


def test_retires_the_oldest_extra_workers(master: Arbiter, processes: FakeProcesses):
    master.num_workers = 5
    master.manage_workers()
    master.num_workers = 3
    master.manage_workers()
    terms = [(pid, sig.name) for pid, sig in processes.sent]
    assert terms == [(101, "SIGTERM"), (102, "SIGTERM")], (
        f"going from 5 workers to 3, manage_workers() sent {terms}; expected TERM to "
        "the two oldest, 101 and 102, so that they finish their requests and leave"
    )
    assert serving(master) == [103, 104, 105], (
        f"still serving: {serving(master)}, expected [103, 104, 105]"
    )


def test_a_retiring_worker_is_not_counted_twice(
    master: Arbiter, processes: FakeProcesses
):
    master.num_workers = 4
    master.manage_workers()
    master.num_workers = 3
    master.manage_workers()
    master.manage_workers()
    assert len(processes.sent) == 1, (
        f"two calls after going from 4 workers to 3 sent {processes.sent}; expected "
        "one TERM: a worker already retiring must not be counted nor retired again"
    )
    assert len(master.workers) == 4, (
        f"the table holds {sorted(master.workers)}; expected the 3 serving workers "
        "and the one retiring, with no replacement spawned for it"
    )


def test_an_old_generation_is_replaced(master: Arbiter):
    master.manage_workers()
    master.generation += 1  # what a HUP does
    master.manage_workers()
    new = [w.pid for w in master.workers.values() if w.generation == 1]
    assert new == [104, 105, 106], (
        f"after a new generation began, manage_workers() started {new}; expected "
        "three workers of the new generation: the old ones do not count"
    )


def test_ttin_adds_one_worker_and_ttou_removes_one(
    master: Arbiter, processes: FakeProcesses
):
    master.manage_workers()
    master.handle_ttin()
    assert serving(master) == [101, 102, 103, 104], (
        f"after TTIN: {serving(master)} serving, expected a fourth worker, 104"
    )
    master.handle_ttou()
    master.handle_ttou()
    sent = [(pid, sig.name) for pid, sig in processes.sent]
    assert sent == [(101, "SIGTERM"), (102, "SIGTERM")], (
        f"two TTOUs sent {sent}; expected TERM to the two oldest workers"
    )
    assert serving(master) == [103, 104], f"still serving: {serving(master)}"
