"""Exercise 21: a worker's run loop, the method every worker class must write."""

import os
import selectors
from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog, never_retire

import minigun
from minigun.config import Config
from minigun.workers.gthread import ThreadWorker

WAKE_READ_FD, WAKE_WRITE_FD = 1001, 1002  # the fake wake-up pipe's two ends
TURN_LIMIT = 50  # a loop that never ends is stopped here and reported


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class FakeListener:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def setblocking(self, flag: bool) -> None:
        self.events.append(f"listener.setblocking({flag})")


class FakeWakePipe:
    """The worker's wake-up pipe, as a selector sees it: its read end."""

    read_fd, write_fd = WAKE_READ_FD, WAKE_WRITE_FD

    def fileno(self) -> int:
        return WAKE_READ_FD


class FakePoller:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.registered: list[tuple[int, int, object]] = []

    def register(self, fileobj: object, mask: int, data: object) -> None:
        """Records the descriptor watched: a selector takes the pipe or its fileno()."""
        self.events.append("poller.register")
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self.registered.append((fd, mask, data))


class LoopStuck(Exception):
    """The loop went on past TURN_LIMIT turns: it ignores what should end it."""


class Scripted:
    """Drives the worker's loop: ends it after ``turns`` turns, in one of two ways."""

    def __init__(self, worker: ThreadWorker, turns: int, ending: str) -> None:
        self.worker, self.turns, self.ending = worker, turns, ending
        self.done = 0
        self.events: list[str] = []

    def is_parent_alive(self) -> bool:
        return not (self.ending == "parent" and self.done >= self.turns)

    def wants_connections(self) -> bool:
        return self.done % 2 == 0  # alternate, so the argument can be checked

    def watch_listeners(self, wanted: bool) -> None:
        self.events.append(f"watch_listeners({wanted})")

    def run_once(self) -> None:
        self.done += 1
        self.events.append("run_once")
        if self.done > TURN_LIMIT:
            raise LoopStuck(f"still looping after {TURN_LIMIT} turns")
        if self.ending == "alive" and self.done >= self.turns:
            self.worker.alive = False  # as TERM or max_requests would

    def stop_gracefully(self) -> None:
        self.events.append("stop_gracefully")


@pytest.fixture
def make_worker(monkeypatch: pytest.MonkeyPatch):
    never_retire(monkeypatch)
    made: list[ThreadWorker] = []

    def make(turns: int, ending: str) -> tuple[ThreadWorker, Scripted]:
        cfg = Config()
        events: list[str] = []
        listeners = [FakeListener(events), FakeListener(events)]
        worker = ThreadWorker(
            1, os.getpid(), listeners, FakeApp(cfg), 30, cfg, RecordingLog()
        )
        made.append(worker)
        script = Scripted(worker, turns, ending)
        script.events = events
        worker.poller = FakePoller(events)
        worker.wake_pipe = FakeWakePipe()
        for name in ("is_parent_alive", "wants_connections", "watch_listeners"):
            setattr(worker, name, getattr(script, name))
        for name in ("run_once", "stop_gracefully"):
            setattr(worker, name, getattr(script, name))
        return worker, script

    yield make
    for worker in made:
        worker.tmp.close()


def run(worker: ThreadWorker) -> None:
    try:
        worker.run()
    except LoopStuck as stuck:
        pytest.fail(
            f"run() {stuck}: the loop must end when alive is False or the "
            "master has died (is_parent_alive() is False)"
        )


def test_before_the_loop_listeners_go_non_blocking_and_the_pipe_is_watched(
    make_worker,
):
    worker, script = make_worker(turns=1, ending="alive")
    run(worker)
    first = script.events[:3]
    assert first == ["listener.setblocking(False)"] * 2 + ["poller.register"], (
        f"run() began with {first}; expected both listeners made non-blocking, then "
        "the wake-up pipe registered, before the first turn"
    )
    registered = worker.poller.registered
    expected = [(WAKE_READ_FD, selectors.EVENT_READ, worker.on_wakeup)]
    assert registered == expected, (
        f"the poller was given {registered}; expected (self.wake_pipe, EVENT_READ, "
        "self.on_wakeup), the pipe's read end being descriptor {WAKE_READ_FD}"
    )


def test_each_turn_watches_then_runs_until_alive_is_false(make_worker):
    worker, script = make_worker(turns=3, ending="alive")
    run(worker)
    turns = script.events[3:]
    expected = [
        "watch_listeners(True)",
        "run_once",
        "watch_listeners(False)",
        "run_once",
        "watch_listeners(True)",
        "run_once",
        "stop_gracefully",
    ]
    assert turns == expected, (
        f"alive turned False during the third turn; the loop did {turns}; expected "
        f"{expected}: watch_listeners(wants_connections()) then run_once(), each "
        "turn, and stop_gracefully() once after the loop"
    )


def test_the_loop_ends_when_the_master_dies(make_worker):
    worker, script = make_worker(turns=2, ending="parent")
    run(worker)
    assert script.events[-1] == "stop_gracefully" and script.done == 2, (
        f"is_parent_alive() turned False after 2 turns; the loop ran {script.done} "
        f"turns and ended with {script.events[-1]!r}; expected 2 turns, then "
        "stop_gracefully()"
    )


def test_a_worker_told_to_stop_before_its_first_turn_stops_gracefully(make_worker):
    worker, script = make_worker(turns=0, ending="alive")
    worker.alive = False
    run(worker)
    assert script.events[3:] == ["stop_gracefully"], (
        f"alive was already False; the loop did {script.events[3:]}; expected no turn "
        "and stop_gracefully() once"
    )
