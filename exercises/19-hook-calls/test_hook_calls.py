"""Exercise 19: pre_fork runs in the master just before the fork."""

import os
from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog, never_retire, settings, store

import minigun
from minigun.arbiter import Arbiter
from minigun.errors import HaltServer

CHILD_PID = 4242


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """What happened, in order; os.fork is replaced by one answering as the parent."""
    happened: list[tuple] = []

    def fork() -> int:
        happened.append(("fork",))
        return CHILD_PID

    monkeypatch.setattr(os, "fork", fork)
    return happened


@pytest.fixture
def master(events: list[tuple], monkeypatch: pytest.MonkeyPatch):
    never_retire(monkeypatch)
    cfg = settings(
        pre_fork=lambda server, worker: events.append(("pre_fork", server, worker)),
        post_fork=lambda server, worker: events.append(("post_fork",)),
    )
    arbiter = Arbiter(FakeApp(cfg))
    arbiter.log = RecordingLog()
    yield arbiter
    for worker in arbiter.workers.values():
        worker.tmp.close()


def test_pre_fork_gets_the_arbiter_and_the_worker_before_the_fork(
    master: Arbiter, events: list[tuple]
):
    master.spawn_worker()
    names = [event[0] for event in events]
    assert names == ["pre_fork", "fork"], (
        f"spawn_worker() in the parent produced {names}; expected the pre_fork hook, "
        "then the fork, and no post_fork (that one runs in the child)"
    )
    _, server, worker = events[0]
    recorded = getattr(master.workers.get(CHILD_PID), "worker", None)
    assert server is master and worker is recorded, (
        f"pre_fork was called with ({server!r}, {worker!r}); expected the arbiter "
        "and the very worker object that is then forked, and recorded in "
        "master.workers[pid].worker"
    )


def test_the_parent_records_the_child(master: Arbiter):
    pid = master.spawn_worker()
    record = master.workers.get(CHILD_PID)
    worker = getattr(record, "worker", None)
    found = (pid, list(master.workers), getattr(record, "pid", None))
    found += (getattr(worker, "pid", None),)
    assert found == (CHILD_PID, [CHILD_PID], CHILD_PID, CHILD_PID), (
        f"after a fork answering {CHILD_PID}, spawn_worker() returned {pid}, the "
        f"table holds {list(master.workers)}, the record's pid is {found[2]} and "
        f"the worker's pid is {found[3]}; expected {CHILD_PID} in all four places "
        "(the hooks the master calls later read worker.pid)"
    )


class Refused(Exception):
    """What the test's pre_fork raises (its own class: no minigun error is one)."""


class ToleratingLog(RecordingLog):
    """Records logged exceptions instead of re-raising them: this test expects one."""

    def exception(self, msg: str, *args: object) -> None:
        self.record("exception", msg, args)


def test_a_failing_pre_fork_prevents_the_fork(master: Arbiter, events: list[tuple]):
    def refuse(server, worker):
        raise Refused("not now")

    store(master.cfg, pre_fork=refuse)
    master.log = log = ToleratingLog()
    with pytest.raises(HaltServer) as halted:
        master.spawn_worker()
    assert isinstance(halted.value.__cause__, Refused), (
        f"spawn_worker() raised {halted.value!r} caused by "
        f"{halted.value.__cause__!r}; expected a HaltServer raised from the hook's "
        "own error (call it through self.call_startup_hook)"
    )
    assert "pre_fork" in halted.value.reason, (
        f"the halt reason {halted.value.reason!r} does not name the pre_fork hook"
    )
    assert ("exception", "Exception in pre_fork hook") in log.lines, (
        f"the log has {log.lines}; expected the hook's error logged under its name"
    )
    assert events == [] and master.workers == {}, (
        f"pre_fork raised, yet spawn_worker() went on: events {events}, workers "
        f"{list(master.workers)}; expected no fork and an empty table"
    )
