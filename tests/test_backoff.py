"""The crash-loop back-off on a fake clock: no master, no fork, no waiting."""

import pytest
from fake_app import FakeClock

from minigun.backoff import (
    FIRST_RESPAWN_DELAY,
    MAX_RESPAWN_DELAY,
    STABLE_LIFETIME,
    RespawnBackoff,
)


def test_young_crashes_back_off_doubling_up_to_the_cap():
    clock = FakeClock()
    backoff = RespawnBackoff(clock.monotonic)
    delays = []
    for _ in range(10):
        delays.append(backoff.crashed(lifetime=0.2))
        clock.now += backoff.delay + 0.2  # the next worker boots and crashes again
    assert delays[:4] == [0.0, FIRST_RESPAWN_DELAY, 0.2, 0.4], "first one at once"
    assert delays[-1] == MAX_RESPAWN_DELAY
    assert delays == sorted(delays)


def test_the_back_off_holds_spawning_until_it_is_over():
    clock = FakeClock()
    backoff = RespawnBackoff(clock.monotonic)
    backoff.crashed(lifetime=0.1)
    assert backoff.seconds_left() == 0.0, "a one-off crash is replaced at once"
    backoff.crashed(lifetime=0.1)
    assert backoff.seconds_left() == pytest.approx(FIRST_RESPAWN_DELAY)
    clock.now += FIRST_RESPAWN_DELAY
    assert backoff.seconds_left() == 0.0


def test_a_worker_that_lived_a_while_resets_the_back_off():
    clock = FakeClock()
    backoff = RespawnBackoff(clock.monotonic)
    for _ in range(5):
        backoff.crashed(lifetime=0.1)
    assert backoff.delay > FIRST_RESPAWN_DELAY
    assert backoff.crashed(lifetime=STABLE_LIFETIME) == 0.0
    assert backoff.crashes == 1


def test_a_long_quiet_spell_resets_the_back_off():
    clock = FakeClock()
    backoff = RespawnBackoff(clock.monotonic)
    for _ in range(5):
        backoff.crashed(lifetime=0.1)
    clock.now += STABLE_LIFETIME + MAX_RESPAWN_DELAY
    assert backoff.crashed(lifetime=0.1) == 0.0
