"""AcceptThrottle: when a worker whose threads are all busy takes new clients."""

import pytest
from fake_app import FakeClock

from minigun.workers.throttle import ACCEPT_DELAY, AcceptThrottle

THREADS = 2


def test_a_free_thread_accepts_at_once() -> None:
    throttle = AcceptThrottle(FakeClock().monotonic, THREADS)
    throttle.observe(has_free_thread=True, held=1)
    assert throttle.delay_left() == 0.0


def test_no_free_thread_leaves_clients_to_the_others_then_takes_a_share() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic, THREADS)
    throttle.observe(has_free_thread=False, held=5)
    assert throttle.delay_left() == pytest.approx(ACCEPT_DELAY)
    clock.advance(ACCEPT_DELAY)  # nobody took them: a share of what it holds
    throttle.observe(has_free_thread=False, held=5)
    assert (throttle.delay_left(), throttle.share_left) == (0.0, 5)
    for _ in range(5):
        throttle.took_one()
    throttle.observe(has_free_thread=False, held=10)  # spent: it waits again
    assert throttle.delay_left() == pytest.approx(ACCEPT_DELAY)


def test_the_share_is_at_least_one_client_per_thread() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic, threads=4)
    throttle.observe(has_free_thread=False, held=1)
    clock.advance(ACCEPT_DELAY)
    throttle.observe(has_free_thread=False, held=1)
    assert throttle.share_left == 4


def test_asking_changes_nothing() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic, THREADS)
    throttle.observe(has_free_thread=False, held=3)
    before = vars(throttle).copy()
    clock.advance(ACCEPT_DELAY * 2)
    for _ in range(3):
        assert throttle.delay_left() == 0.0  # the wait is over...
    assert vars(throttle) == before  # ...but only observe() starts the share


def test_a_thread_that_frees_up_ends_the_wait() -> None:
    throttle = AcceptThrottle(FakeClock().monotonic, THREADS)
    throttle.observe(has_free_thread=False, held=3)
    throttle.observe(has_free_thread=True, held=3)
    assert throttle.delay_left() == 0.0
