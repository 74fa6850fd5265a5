"""Crash loops: how long the master waits before it replaces a worker that died young.

The question: a worker exits by itself, with an ordinary error code, a moment after it
was forked. Replacing it at once is right for one crash; for a worker that dies the
same way every time (an app that calls ``sys.exit(1)`` while it is imported, a database
that is down), it is a respawn storm that fills the log and burns a core. The exit
codes of :mod:`minigun.errors` stop the storms minigun can name; this policy slows the
others down, and lets go again once the workers live.

A minigun addition: gunicorn replaces a crashed worker at once, every time. The
arbiter owns one :class:`RespawnBackoff` and asks it before each fork
(:meth:`~minigun.arbiter.Arbiter.spawn_workers`); the policy has its own clock, so the
tests drive it without a master and without waiting.
"""

from __future__ import annotations

from collections.abc import Callable

FIRST_RESPAWN_DELAY = 0.1  # seconds; doubled for every young crash in a row
MAX_RESPAWN_DELAY = 5.0  # seconds; the delay grows no further
STABLE_LIFETIME = 10.0  # seconds: a worker that lived this long was not crash-looping


class RespawnBackoff:
    """How long the master waits before it replaces workers that keep dying young.

    A crash after ``STABLE_LIFETIME`` seconds of life, or after that long without a
    crash, starts again from nothing.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.delay = 0.0
        self.crashes = 0  # young crashes in a row
        self.last_crash: float | None = None  # on ``clock``

    def crashed(self, lifetime: float) -> float:
        """Note one crash of a worker that lived ``lifetime`` seconds; return how
        long spawning now waits."""
        now = self.clock()
        if lifetime >= STABLE_LIFETIME or self.quiet_since_last_crash(now):
            self.crashes, self.delay = 0, 0.0
        elif self.crashes:
            self.delay = min(
                MAX_RESPAWN_DELAY, max(FIRST_RESPAWN_DELAY, self.delay * 2)
            )
        self.crashes += 1
        self.last_crash = now
        return self.delay

    def quiet_since_last_crash(self, now: float) -> bool:
        if self.last_crash is None:
            return True
        return now - self.last_crash >= STABLE_LIFETIME + self.delay

    def seconds_left(self) -> float:
        """How long until spawning may go on (0.0: now)."""
        if self.last_crash is None:
            return 0.0
        return max(0.0, self.last_crash + self.delay - self.clock())
