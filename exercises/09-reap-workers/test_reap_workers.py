"""Exercise 9: reap_workers collects every exited child, without blocking."""

import signal
from pathlib import Path

import pytest
from fakes import (
    FakeApp,
    FakeClock,
    FakeProcesses,
    FakeWorker,
    RecordingLog,
    exit_status,
    killed_status,
    settings,
)

import minigun
from minigun import arbiter as arbiter_module
from minigun.arbiter import Arbiter, WorkerRecord
from minigun.errors import WORKER_BOOT_ERROR, HaltServer


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
def child_exits() -> list[int]:
    """The pids the child_exit hook was called for, in order."""
    return []


@pytest.fixture
def master(processes: FakeProcesses, child_exits: list[int]) -> Arbiter:
    """An arbiter with three fake workers, 101 to 103, and a fake waitpid."""
    cfg = settings(
        workers=3, child_exit=lambda server, worker: child_exits.append(worker.pid)
    )
    arbiter = Arbiter(FakeApp(cfg))
    arbiter.log = RecordingLog()
    arbiter.kill_worker = processes.kill
    arbiter.wait_child = processes.wait_child
    for age in (1, 2, 3):
        worker = FakeWorker(100 + age, age)
        arbiter.workers[worker.pid] = WorkerRecord(worker.pid, worker, 0, 0.0)
    arbiter.worker_age = 3
    return arbiter


def test_every_exited_worker_is_reaped_in_one_call(
    master: Arbiter, processes: FakeProcesses, child_exits: list[int]
):
    gone = {101: master.workers[101], 103: master.workers[103]}
    processes.exit(101, exit_status(0))
    processes.exit(103, killed_status(signal.SIGKILL))
    master.reap_workers()
    assert sorted(master.workers) == [102], (
        f"workers 101 and 103 exited; after one reap_workers() the table holds "
        f"{sorted(master.workers)}, expected [102]: one SIGCHLD can stand for several"
    )
    assert child_exits == [101, 103], (
        f"the child_exit hook was called for {child_exits}, expected [101, 103]: "
        "hand each reaped worker to on_worker_exit"
    )
    closed = {pid: worker.tmp.closed for pid, worker in gone.items()}
    assert closed == {101: True, 103: True}, f"heartbeat files closed: {closed}"


def test_nothing_exited_means_nothing_changes(master: Arbiter, child_exits: list[int]):
    master.reap_workers()
    assert (sorted(master.workers), child_exits) == ([101, 102, 103], []), (
        f"with no exited child, reap_workers() left {sorted(master.workers)} and "
        f"called child_exit for {child_exits}; expected all three, no calls"
    )


def test_the_replacement_is_left_to_manage_workers(
    master: Arbiter, processes: FakeProcesses
):
    spawned = []
    master.spawn_worker = lambda: spawned.append("spawn_worker")
    processes.exit(102, exit_status(0))
    master.reap_workers()
    found = (sorted(master.workers), spawned)
    assert found == ([101, 103], []), (
        f"after worker 102 exited, reap_workers() left (workers, spawns) = {found}; "
        "expected ([101, 103], []): the gap stays in the table, and the main loop's "
        "manage_workers() fills it"
    )


def test_a_worker_that_failed_to_boot_halts_the_master(
    master: Arbiter, processes: FakeProcesses
):
    processes.exit(101, exit_status(WORKER_BOOT_ERROR))
    with pytest.raises(HaltServer) as halted:
        master.reap_workers()
    assert halted.value.exit_status == WORKER_BOOT_ERROR, (
        f"a worker exiting with {WORKER_BOOT_ERROR} halted the master with "
        f"{halted.value}, expected exit status {WORKER_BOOT_ERROR}"
    )


def test_the_new_master_of_an_upgrade_is_forgotten(
    master: Arbiter, processes: FakeProcesses
):
    master.reexec_pid = 777
    processes.exit(777, exit_status(0))
    master.reap_workers()
    assert master.reexec_pid == 0, (
        f"the USR2 child 777 exited, but reexec_pid is still {master.reexec_pid}; "
        "expected 0, so that another USR2 can start a new master"
    )
    assert sorted(master.workers) == [101, 102, 103], "no worker exited"
