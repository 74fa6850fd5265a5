"""Exercise 10: each worker draws its own request limit, max_requests plus jitter."""

import os
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from fakes import FakeApp, RecordingLog, settings

import minigun
from minigun.workers.base import UNLIMITED_REQUESTS, Worker
from minigun.workers.sync import SyncWorker

DRAWS = 300


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


def limits(max_requests: int, jitter: int) -> set[int]:
    """Every limit drawn in DRAWS tries, with a fixed seed so runs agree."""
    random.seed(2026)
    cfg = SimpleNamespace(max_requests=max_requests, max_requests_jitter=jitter)
    return {Worker.requests_before_retiring(cfg) for _ in range(DRAWS)}


def test_zero_means_a_worker_never_retires():
    found = limits(0, 50)
    assert found == {UNLIMITED_REQUESTS}, (
        f"requests_before_retiring with max_requests=0 returned {sorted(found)[:5]}; "
        "expected UNLIMITED_REQUESTS: 0 turns the limit off, jitter or not"
    )


def test_without_jitter_the_limit_is_exact():
    found = limits(100, 0)
    assert found == {100}, (
        f"max_requests=100, max_requests_jitter=0 gave limits {sorted(found)}; "
        "expected exactly 100"
    )


def test_jitter_spreads_limits_over_the_whole_range():
    found = limits(100, 10)
    assert found == set(range(100, 111)), (
        f"max_requests=100, max_requests_jitter=10 gave {sorted(found)} in {DRAWS} "
        "draws; expected every value from 100 to 110, both ends included"
    )


@pytest.fixture
def worker():
    """A sync worker whose limit is 2 requests; its heartbeat file is removed after."""
    cfg = settings(max_requests=2)
    app = FakeApp(cfg)
    sync_worker = SyncWorker(1, os.getpid(), [], app, 30, cfg, RecordingLog())
    yield sync_worker
    sync_worker.tmp.close()


def test_a_worker_stops_after_its_limit(worker: SyncWorker):
    assert worker.max_requests == 2, (
        f"a worker built with max_requests=2 and no jitter has max_requests "
        f"{worker.max_requests}, expected 2"
    )
    worker.count_request()
    assert worker.alive, "after 1 request of 2 the worker must still be alive"
    worker.count_request()
    assert not worker.alive, (
        "after its 2nd request, with max_requests=2, the worker is still alive; "
        "expected it to leave its loop so that the master starts a fresh one"
    )
