"""The wake-up pipe: how a signal handler wakes a loop that sleeps in ``select``.

Both kinds of process sleep most of the time: the master until a signal or a timer
(:meth:`Arbiter.sleep <minigun.arbiter.Arbiter.sleep>`), a worker until a client
connects. A signal handler must do almost nothing, yet the sleeper has to wake at
once when a signal says "stop" or "reload". The classic answer, known as the
self-pipe trick, is a pipe a process writes to itself: the handler writes one byte,
and a ``select`` that watches the pipe's read end returns. A gthread worker's pool
threads use the same pipe to wake its loop with news.

Both ends are non-blocking: a handler must never block on a full pipe (a full pipe
wakes the loop anyway), and emptying it stops when nothing is left. Like every
descriptor Python opens, they are not inherited across an ``exec`` (PEP 446).

gunicorn opens the pipe in the arbiter and again in the worker; minigun has this one
class for both, and the book's worker chapter says so.
"""

from __future__ import annotations

import contextlib
import os
import select

WAKE_BYTE = b"."
READ_SIZE = 64  # bytes per read while emptying the pipe


class WakePipe:
    """A pipe a process writes to itself, so that its sleeping loop wakes up."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)

    def fileno(self) -> int:
        """The read end, so a selector can watch the pipe itself."""
        return self.read_fd

    def wake(self) -> None:
        """Write one byte: safe in a signal handler and from any thread."""
        with contextlib.suppress(BlockingIOError):  # full: the loop wakes anyway
            os.write(self.write_fd, WAKE_BYTE)

    def drain(self) -> None:
        """Read every pending byte, so the next ``select`` blocks again."""
        with contextlib.suppress(BlockingIOError):  # empty: nothing more to read
            while os.read(self.read_fd, READ_SIZE):
                pass

    def wait(self, timeout: float) -> None:
        """Sleep until :meth:`wake` is called or ``timeout`` seconds pass."""
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        if ready:
            self.drain()

    def close(self) -> None:
        """Close both ends (a new worker closes its master's copy)."""
        os.close(self.read_fd)
        os.close(self.write_fd)
