"""Exercise 23: the ASGI worker's heartbeat, a task of its event loop."""

import asyncio
import re
import time
from pathlib import Path

import pytest
from fakes import RecordingLog

import minigun
from minigun.workers import asgi
from minigun.workers.asgi import ASGIWorker

TIMEOUT = 0.2  # the worker's timeout: it beats every 0.1 s (half of it)
LAG_WARNING = 0.3  # the tests' threshold for a blocked loop (the module's is 1 s)
WAIT = 5.0  # the longest a test waits for the heartbeat to do something
PID = 4242
BLOCKED = re.compile(
    re.escape(asgi.BLOCKED_LOOP).replace(r"%\.1f", r"([0-9.]+)").replace("%s", r"(\S+)")
)


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class Watched:
    """Stands in for the worker's heartbeat file and its master: counts beats."""

    def __init__(self, worker: ASGIWorker, parent_alive: bool = True) -> None:
        self.beats: list[float] = []
        self.parent_alive = parent_alive
        self.beaten = asyncio.Event()
        worker.notify = self.notify
        worker.is_parent_alive = self.is_parent_alive

    def notify(self) -> None:
        self.beats.append(time.monotonic())
        self.beaten.set()

    def is_parent_alive(self) -> bool:
        return self.parent_alive

    async def next_beat(self) -> None:
        self.beaten.clear()
        await asyncio.wait_for(self.beaten.wait(), WAIT)


@pytest.fixture
def worker(monkeypatch):
    """An ASGI worker with only what its heartbeat reads: built without
    ``__init__``, so no other exercise's hole (max_requests) is in the way."""
    monkeypatch.setattr(asgi, "LOOP_LAG_WARNING", LAG_WARNING)
    made = ASGIWorker.__new__(ASGIWorker)
    made.timeout, made.alive, made.pid = TIMEOUT, True, PID
    made.log = RecordingLog()
    made.stop_requested = None
    return made


def run_beating(worker: ASGIWorker, scenario) -> None:
    """Run the heartbeat task beside ``scenario(watched)`` in a fresh loop; an
    error of the heartbeat's own is raised as it is."""

    async def main() -> None:
        worker.stop_requested = asyncio.Event()
        watched = Watched(worker)
        beating = asyncio.ensure_future(worker.beat_heartbeat())
        acting = asyncio.ensure_future(scenario(watched))
        done, _ = await asyncio.wait(
            {beating, acting}, return_when=asyncio.FIRST_COMPLETED
        )
        stopping = acting if beating in done else beating
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
        if beating in done:
            beating.result()  # the heartbeat's own error, if it raised
            pytest.fail("beat_heartbeat() returned: it must beat for the worker's life")
        acting.result()

    asyncio.run(main())


def test_the_loop_beats_the_heartbeat_again_and_again(worker):
    async def scenario(watched: Watched) -> None:
        for _ in range(4):
            await watched.next_beat()

    run_beating(worker, scenario)


def test_it_beats_at_once_and_then_every_poll_interval(worker):
    async def scenario(watched: Watched) -> None:
        await asyncio.sleep(0)  # the task's first turn
        assert len(watched.beats) == 1, (
            f"{len(watched.beats)} beats after the task's first turn; expected "
            "one: notify() first, before the first sleep"
        )
        for _ in range(3):
            await watched.next_beat()
        gaps = [b - a for a, b in zip(watched.beats, watched.beats[1:], strict=False)]
        interval = worker.poll_interval()
        assert all(gap >= interval * 0.9 for gap in gaps), (
            f"beats {gaps} s apart; expected one every poll_interval() = {interval} "
            "s (asyncio's sleep for interval seconds between two beats)"
        )

    run_beating(worker, scenario)


def test_when_alive_turns_false_it_asks_the_worker_to_stop(worker):
    async def scenario(watched: Watched) -> None:
        await watched.next_beat()
        worker.alive = False  # as TERM or max_requests would
        stopped = worker.stop_requested
        assert stopped is not None
        try:
            await asyncio.wait_for(stopped.wait(), WAIT)
        except TimeoutError:
            pytest.fail(
                "alive is False, but stop_requested was never set: the heartbeat "
                "must check self.alive at each beat and set self.stop_requested"
            )

    run_beating(worker, scenario)


def test_when_the_master_is_gone_it_stops_the_worker(worker):
    async def scenario(watched: Watched) -> None:
        await watched.next_beat()
        watched.parent_alive = False
        stopped = worker.stop_requested
        assert stopped is not None
        try:
            await asyncio.wait_for(stopped.wait(), WAIT)
        except TimeoutError:
            pytest.fail(
                "is_parent_alive() is False, but stop_requested was never set: "
                "an orphan worker must stop"
            )
        assert worker.alive is False, "the master is gone: alive must turn False too"

    run_beating(worker, scenario)


def test_a_blocked_loop_is_logged_with_how_long_it_was_blocked(worker):
    blocked_for = LAG_WARNING + 0.4

    async def scenario(watched: Watched) -> None:
        await watched.next_beat()
        time.sleep(blocked_for)  # a blocking call in a coroutine: the whole loop waits
        await watched.next_beat()

    run_beating(worker, scenario)
    warnings = [text for level, text in worker.log.lines if level == "warning"]
    assert warnings, (
        f"the loop was blocked for {blocked_for} s and nothing was logged; expected "
        "a warning with BLOCKED_LOOP, the lag and the pid once a beat is late by "
        "more than LOOP_LAG_WARNING"
    )
    said = BLOCKED.fullmatch(warnings[0])
    assert said, f"logged {warnings[0]!r}; expected the BLOCKED_LOOP message"
    lag, pid = float(said.group(1)), said.group(2)
    assert pid == str(worker.pid), f"the line names pid {pid}, not the worker's"
    assert LAG_WARNING < lag <= blocked_for + 0.2, (
        f"logged a lag of {lag} s; expected how late the beat was (about "
        f"{blocked_for} s): the time after the sleep minus the time it was planned for"
    )


def test_a_punctual_loop_logs_nothing(worker):
    async def scenario(watched: Watched) -> None:
        for _ in range(4):
            await watched.next_beat()

    run_beating(worker, scenario)
    warnings = [text for level, text in worker.log.lines if level == "warning"]
    assert not warnings, (
        f"logged {warnings} for a loop that was never blocked: the lag is how late "
        "the beat came, not the length of the sleep"
    )
