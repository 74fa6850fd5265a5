"""The sync worker: one connection at a time, one request per connection.

The chapter's question: what is the simplest worker that is still correct? It waits
in ``select`` on the shared listeners (and on its wake-up pipe), accepts a connection,
reads one request, runs the application, writes the response and closes the
connection (``Connection: close``: a sync worker cannot afford to wait for a client's
next request while others queue).

Rules of the loop:

- Listeners are non-blocking: every worker wakes when a connection arrives, one wins
  the ``accept``, the others get ``EAGAIN`` and go back to waiting.
- The ``select`` timeout is short, so the loop comes round to :meth:`notify` the
  heartbeat and to check the parent pid even when no client calls.
- On ``TERM`` the worker finishes the request in hand and then *drains the backlog*:
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

import datetime
import selectors
import time
from collections.abc import Iterable
from typing import Any

from minigun.http import errors as http_errors
from minigun.http import wsgi
from minigun.http.parser import RequestParser
from minigun.workers import base

POLL_INTERVAL = 1.0  # seconds; the longest the loop sleeps between heartbeats


class SyncWorker(base.Worker):
    """Serve connections one by one from the shared listeners."""

    def run(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        with selectors.DefaultSelector() as selector:
            for listener in self.sockets:
                selector.register(listener, selectors.EVENT_READ, listener)
            assert self.wake_fds is not None
            selector.register(self.wake_fds[0], selectors.EVENT_READ, None)
            while self.alive and self.is_parent_alive():
                self.notify()
                self.serve_ready(selector.select(self.poll_interval()))
        if self.stop_deadline is not None:
            self.drain_backlog()

    def poll_interval(self) -> float:
        """Wake at least twice per ``timeout`` so the heartbeat never goes stale."""
        if self.timeout <= 0:
            return POLL_INTERVAL
        return min(POLL_INTERVAL, self.timeout / 2)

    def serve_ready(self, events: Iterable[tuple[selectors.SelectorKey, int]]) -> None:
        """Accept and serve on every listener ``select`` reported as ready."""
        for key, _mask in events:
            if key.data is None:
                self.empty_wake_pipe()
                continue
            while self.alive and self.accept_and_serve(key.data):
                self.notify()

    def accept_and_serve(self, listener: Any) -> bool:
        """Serve one queued connection; ``False`` if the queue was empty."""
        # exercise: accept-in-child
        try:
            client, addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return False  # another worker won the race, or nothing is queued
        self.notify()  # the request's ``timeout`` starts now, not at the last poll
        client.setblocking(True)
        conn = self.wrap_connection(client)  # TLS, if configured
        try:
            if self.shake_hands(conn, addr):
                self.handle(listener, conn, addr)
        finally:
            conn.close()
        return True
        # end-exercise: accept-in-child

    def drain_backlog(self) -> None:
        """After TERM: serve what is already queued, without waiting for more."""
        served = 0
        for listener in self.sockets:
            while self.has_time_to_drain() and self.accept_and_serve(listener):
                served += 1
        if served:
            self.log.info("Served %s queued connection(s) before exiting", served)

    def has_time_to_drain(self) -> bool:
        return self.stop_deadline is not None and time.monotonic() < self.stop_deadline

    # One connection, one request.

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        """Parse one request and answer it; errors become error responses."""
        req = None
        try:
            parser = RequestParser(self.cfg, client, addr, self.notify)
            req = next(parser, None)
            if req is not None:
                self.handle_request(listener, req, client, addr)
        except http_errors.HTTPError as error:  # before OSError: body errors are both
            self.handle_error(req, client, addr, error)
        except OSError as error:
            self.log_socket_error(error)
        except Exception as error:
            self.handle_error(req, client, addr, error)

    def handle_request(self, listener: Any, req: Any, client: Any, addr: Any) -> None:
        """Run the application for ``req``, with the hooks around it.

        ``post_request`` runs even when the application raised. An exception after
        the response has started cannot become a 500 any more: it is logged and the
        connection is closed. A timeout (``SystemExit`` from
        :meth:`~minigun.workers.base.Worker.handle_abort`) is answered 500 if it
        still can be, and then ends the worker.
        """
        environ: dict[str, Any] = {}
        resp = None
        self.request_in_hand = req
        try:
            self.call_hook_or_raise("pre_request", self.cfg.pre_request, self, req)
            started = datetime.datetime.now()
            resp, environ = wsgi.create(
                req, client, addr, listener.getsockname(), self.cfg
            )
            resp.force_close()
            self.count_request()
            self.run_app(resp, environ)
            self.log.access(resp, req, environ, datetime.datetime.now() - started)
        except Exception:
            if resp is None or not resp.headers_sent:
                raise
            self.log_error_after_response(req, addr)
        except SystemExit:  # handle_abort: the master's timeout interrupted the app
            if self.aborted and (resp is None or not resp.headers_sent):
                self.answer_timed_out(req, client, addr)
            raise
        finally:
            self.request_in_hand = None
            self.call_hook(
                "post_request", self.cfg.post_request, self, req, environ, resp
            )

    def count_request(self) -> None:
        """Count the request; at ``max_requests`` this is the worker's last one."""
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
