"""When a threaded worker whose threads are all busy takes new clients.

The question: a kept-alive client stays with the worker that accepted it, so *when* a
worker accepts decides how clients spread over the workers. A worker with a free
thread accepts at once. One with none leaves new clients to the others for
``ACCEPT_DELAY``; if clients are still queued then, every other worker had its
chance, and the worker takes what is queued, until the queue is empty. The clients
of a burst have sent their requests already and are waiting for the answer, so
once the others have had their chance the backlog is the worst place to leave them.

A minigun addition: gunicorn's gthread worker accepts while it has room, so a burst
can land on one worker while another idles. :class:`AcceptThrottle` keeps the whole
state in one place, changed by one method (:meth:`AcceptThrottle.observe`) once per
look at the worker and by the news that the queue is empty
(:meth:`AcceptThrottle.backlog_emptied`); its question
(:meth:`AcceptThrottle.delay_left`) changes nothing. It has its own clock, so the
tests drive it without threads and without waiting.
"""

from __future__ import annotations

from collections.abc import Callable

ACCEPT_DELAY = 0.05  # seconds a worker with no free thread leaves new clients to others


class AcceptThrottle:
    """Whether a worker with no free thread accepts now, or leaves clients to others.

    Args:
        clock: ``time.monotonic`` or a fake.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.deferred_until: float | None = None  # no thread free: accept after this
        self.taking_backlog = False  # the wait is over: take what is queued

    def observe(self, has_free_thread: bool, client_waiting: bool) -> None:
        """Bring the state up to date with the worker: the one method that changes it
        from what the worker is doing.

        A free thread ends any waiting. Without one, a worker already taking the
        backlog goes on; else a client that is waiting starts the wait, or, once the
        wait is over, taking begins. Without a client waiting nothing starts: a
        worker whose threads are busy keeps watching the listeners, so that only a
        client that really comes is left to the others.
        """
        if has_free_thread:
            self.deferred_until, self.taking_backlog = None, False
        elif self.taking_backlog:
            return
        elif self.deferred_until is None:
            if client_waiting:
                self.deferred_until = self.clock() + ACCEPT_DELAY
        elif self.clock() >= self.deferred_until:
            self.deferred_until, self.taking_backlog = None, True

    def backlog_emptied(self) -> None:
        """``accept`` found no client queued: the burst is in. The next client that
        finds every thread busy waits for the others again."""
        self.taking_backlog = False

    def delay_left(self) -> float:
        """Seconds this worker still leaves new clients to the others; 0 to accept."""
        if self.deferred_until is None:
            return 0.0
        return max(0.0, self.deferred_until - self.clock())
