"""The sync worker: one connection at a time, one request per connection.

The chapter's question: what is the simplest worker that is still correct? It waits
in ``select`` on the shared listeners (and on its wake-up pipe), accepts a connection,
reads one request, runs the application, writes the response and closes the
connection (``Connection: close``: a sync worker cannot afford to wait for a client's
next request while others queue). Serving the request is the base class's
(:meth:`~minigun.workers.base.Worker.handle`), the same for every worker class; what
is this class's own is the loop, and that a connection carries one request.

Rules of the loop:

- Listeners are non-blocking: every worker wakes when a connection arrives, one wins
  the ``accept``, the others get ``EAGAIN`` and go back to waiting.
- The ``select`` timeout is short, so the loop comes round to :meth:`notify` the
  heartbeat and to check the parent pid even when no client calls.
- On ``TERM`` the worker finishes the request in hand and then *drains the backlog*
  (:meth:`~minigun.workers.base.Worker.drain_backlog`):
  it keeps accepting, without waiting, the connections already queued on the
  listener and serves them, until ``accept`` says the queue is empty or
  ``graceful_timeout`` is up. Why: the queue belongs to the listening socket, which
  every worker shares. If all workers simply exited, the last ``close`` of the
  listener would make the kernel reset every connection still queued (what
  gunicorn does). Draining first means a client that connected before the
  shutdown is served; only a client arriving in the instant between the last
  empty ``accept`` and the ``close`` can still be refused.
"""

from __future__ import annotations

import selectors
from collections.abc import Iterable

from minigun.sock import BaseSocket
from minigun.workers import base


class SyncWorker(base.Worker):
    """Serve connections one by one from the shared listeners."""

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        with selectors.DefaultSelector() as selector:
            for listener in self.sockets:
                selector.register(listener, selectors.EVENT_READ, listener)
            assert self.wake_pipe is not None
            selector.register(self.wake_pipe, selectors.EVENT_READ, None)
            while self.alive and self.is_parent_alive():
                self.notify()
                self.serve_ready(selector.select(self.poll_interval()))
        if self.stop_deadline is not None:
            self.drain_backlog()

    def serve_ready(self, events: Iterable[tuple[selectors.SelectorKey, int]]) -> None:
        """Accept and serve on every listener ``select`` reported as ready, until
        its queue is empty.

        No heartbeat between two connections: :meth:`accept_and_serve` beats when
        it accepts, and the loop beats when the queue is empty. One more would
        touch the file twice per request for nothing.
        """
        for key, _mask in events:
            if key.data is None:
                self.empty_wake_pipe()
                continue
            while self.alive and self.accept_and_serve(key.data):
                pass

    def accept_and_serve(self, listener: BaseSocket) -> bool:
        """Serve one queued connection, its one request; ``False`` if the queue was
        empty."""
        # exercise: accept-in-child
        try:
            sock, peer_addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return False  # another worker won the race, or nothing is queued
        self.notify()  # the request's ``timeout`` starts now, not at the last poll
        sock.setblocking(True)
        conn = self.wrap_connection(sock)  # the socket to serve: in TLS, if set up
        try:
            if self.shake_hands(conn, peer_addr):
                self.handle(listener, conn, peer_addr)
        finally:
            conn.close()
        return True
        # end-exercise: accept-in-child
