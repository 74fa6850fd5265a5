"""When a threaded worker whose threads are all busy takes new clients.

The question: a kept-alive client stays with the worker that accepted it, so *when* a
worker accepts decides how clients spread over the workers. A worker with a free
thread accepts at once. One with none leaves new clients to the others for
``ACCEPT_DELAY``; if they are still queued then, no other worker took them, so it
takes a share (as many as it holds, at least one per thread) and waits again.

A minigun addition: gunicorn's gthread worker accepts while it has room, so a burst
can land on one worker while another idles. :class:`AcceptThrottle` keeps the whole
state in one place, changed by one method (:meth:`AcceptThrottle.observe`) once per
look at the worker; its questions (:meth:`AcceptThrottle.delay_left`) change nothing.
It has its own clock, so the tests drive it without threads and without waiting.
"""

from __future__ import annotations

from collections.abc import Callable

ACCEPT_DELAY = 0.05  # seconds a worker with no free thread leaves new clients to others


class AcceptThrottle:
    """Whether a worker with no free thread accepts now, or leaves clients to others.

    Args:
        clock: ``time.monotonic`` or a fake.
        threads: the worker's pool size: the least share it takes.
    """

    def __init__(self, clock: Callable[[], float], threads: int) -> None:
        self.clock = clock
        self.threads = threads
        self.deferred_until: float | None = None  # no thread free: accept after this
        self.share_left = 0  # then this many clients more,
        self.share_until = 0.0  # until this time

    def observe(self, has_free_thread: bool, held: int) -> None:
        """Bring the state up to date with the worker: the one method that changes it.

        A free thread ends any waiting. Without one, a share still running goes on;
        else the wait starts, or, once it is over, a share of ``held`` clients (at
        least ``threads``) begins.
        """
        now = self.clock()
        if has_free_thread:
            self.deferred_until, self.share_left = None, 0
        elif self.share_left > 0 and now < self.share_until:
            return
        elif self.deferred_until is None:
            self.deferred_until = now + ACCEPT_DELAY
        elif now >= self.deferred_until:
            self.deferred_until = None
            self.share_left = max(self.threads, held)
            self.share_until = now + ACCEPT_DELAY

    def took_one(self) -> None:
        """A client was accepted while no thread was free: one less in the share."""
        self.share_left = max(0, self.share_left - 1)

    def delay_left(self) -> float:
        """Seconds this worker still leaves new clients to the others; 0 to accept."""
        if self.deferred_until is None:
            return 0.0
        return max(0.0, self.deferred_until - self.clock())
