"""The book's own worker class: the smallest loop that keeps a worker's contract.

minigun's :class:`~minigun.workers.sync.SyncWorker` waits in ``select()`` on every
listener and on a wake-up pipe. This worker does less, on purpose: it serves the first
listener only, and waits in a blocking ``accept()`` with a timeout. What is left is
exactly what any worker class owes the master:

- call :meth:`~minigun.workers.base.Worker.notify` at least every ``timeout``
  seconds, or the master kills the worker;
- leave the loop when ``self.alive`` turns false (``TERM``) or the master is gone;
- answer each connection (here with ``handle``, the request path every worker class
  inherits from :class:`~minigun.workers.base.Worker`).

Try it::

    minigun -k book._examples.blocking_worker.BlockingWorker examples.hello:app
"""

from __future__ import annotations

from minigun.workers.sync import SyncWorker

ACCEPT_TIMEOUT = 0.5
"""Seconds ``accept()`` waits: the longest this worker takes to notice ``TERM``."""


class BlockingWorker(SyncWorker):
    """Serve the first listener with a blocking ``accept()`` and a timeout."""

    def run(self) -> None:
        listener = self.sockets[0]
        listener.sock.settimeout(min(ACCEPT_TIMEOUT, self.poll_interval()))
        while self.alive and self.is_parent_alive():
            self.notify()
            try:
                sock, peer_addr = listener.accept()
            except TimeoutError:
                continue  # nobody called: loop round and notify again
            sock.setblocking(True)
            try:
                self.handle(listener, sock, peer_addr)
            finally:
                sock.close()
