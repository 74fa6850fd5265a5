"""AcceptThrottle: when a worker whose threads are all busy takes new clients."""

import pytest
from fake_app import FakeClock

from minigun.workers.throttle import ACCEPT_DELAY, AcceptThrottle


def test_a_free_thread_accepts_at_once() -> None:
    throttle = AcceptThrottle(FakeClock().monotonic)
    throttle.observe(has_free_thread=True, client_waiting=True)
    assert throttle.delay_left() == 0.0


def test_no_free_thread_leaves_clients_to_the_others_then_takes_the_backlog() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic)
    throttle.observe(has_free_thread=False, client_waiting=True)
    assert throttle.delay_left() == pytest.approx(ACCEPT_DELAY)
    clock.advance(ACCEPT_DELAY)  # nobody took them: the worker takes the queue
    throttle.observe(has_free_thread=False, client_waiting=False)
    assert (throttle.delay_left(), throttle.taking_backlog) == (0.0, True)
    clock.advance(ACCEPT_DELAY * 10)  # a long burst: still taking, however long
    throttle.observe(has_free_thread=False, client_waiting=True)
    assert throttle.delay_left() == 0.0


def test_an_empty_queue_ends_the_taking_and_the_next_client_waits_again() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic)
    throttle.observe(has_free_thread=False, client_waiting=True)
    clock.advance(ACCEPT_DELAY)
    throttle.observe(has_free_thread=False, client_waiting=True)
    throttle.backlog_emptied()
    throttle.observe(has_free_thread=False, client_waiting=True)
    assert throttle.delay_left() == pytest.approx(ACCEPT_DELAY)


def test_busy_threads_alone_start_no_wait() -> None:
    """Without a client at the door the worker keeps watching the listeners: no
    listener churn, no wake-ups, on every turn whose threads happen to be busy."""
    throttle = AcceptThrottle(FakeClock().monotonic)
    throttle.observe(has_free_thread=False, client_waiting=False)
    assert (throttle.delay_left(), throttle.deferred_until) == (0.0, None)


def test_asking_changes_nothing() -> None:
    clock = FakeClock()
    throttle = AcceptThrottle(clock.monotonic)
    throttle.observe(has_free_thread=False, client_waiting=True)
    before = vars(throttle).copy()
    clock.advance(ACCEPT_DELAY * 2)
    for _ in range(3):
        assert throttle.delay_left() == 0.0  # the wait is over...
    assert vars(throttle) == before  # ...but only observe() starts the taking


def test_a_thread_that_frees_up_ends_the_wait() -> None:
    throttle = AcceptThrottle(FakeClock().monotonic)
    throttle.observe(has_free_thread=False, client_waiting=True)
    throttle.observe(has_free_thread=True, client_waiting=True)
    assert throttle.delay_left() == 0.0
