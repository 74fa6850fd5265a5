"""The threaded worker: one selector loop, a pool of threads, keep-alive connections.

The chapter's question: how does a worker keep connections open between requests
without dedicating a thread to every idle client? Two kinds of work are split:

- The **main thread** runs a ``selectors`` loop. It accepts connections, watches the
  idle keep-alive ones, closes those idle longer than ``keepalive`` seconds, and
  beats the heartbeat. It never runs the application.
- A **thread pool** (:class:`RequestThreads`) of ``threads`` threads serves a
  connection that has a request waiting: parse, run the application, respond. When
  the response allows it, the connection goes back to the main thread to wait, in
  the selector, for the client's next request.

Rules of the worker:

- A connection is in exactly one place at a time: in a pool thread (busy), or in
  the selector (idle). The main thread takes an idle one out of the selector when
  it is readable; the pool thread that served it puts it back. One lock guards the
  tables both threads share (open, busy, idle), and the changes that must go with
  them: parking a connection (listed as idle with its deadline, and watched by the
  selector) and closing an expired one are each one step under the lock, so the
  main thread never meets a connection half parked. Any other system call on a
  request's path (the main thread taking a readable connection out of the
  selector, ``close``) is made after letting go of the lock: a thread gives up the
  GIL in a system call, and one that did so holding the lock kept every thread
  that wanted the lock waiting until it had the GIL back.
- A kept-alive client stays with the worker that accepted it, so *when* a worker
  accepts decides how the clients spread over the workers. A worker with a free
  thread accepts at once. A worker whose threads are all busy leaves a new client
  to the others for ``ACCEPT_DELAY``; then, since no other worker took it, it takes
  what is queued, until the queue is empty: the clients of a burst have sent their
  requests and are waiting. So every worker first fills its own threads, and a
  burst of 2,000 clients is in within one delay. (gunicorn accepts while it has
  room, so a burst can land on one worker while another idles.)
- At most ``worker_connections`` connections are open. A full worker stops watching
  the listeners; if clients are waiting in the backlog it makes room, answering one
  response per turn of its loop with ``Connection: close``, so that no client waits
  there for ever behind clients that never pause. (gunicorn closes once it holds
  ``worker_connections - threads`` idle connections.) A worker that runs out of
  file descriptors first holds what it has, as if that were its limit, and says so
  in the log, instead of dying with all its connections.
- Pipelined requests that arrived together are served in the same pool turn: bytes
  already read into the parser's buffer would never make the socket readable again.
- The heartbeat is beaten by the main loop, but only while no request has been
  running longer than ``timeout``: a request stuck in the application lets the
  heartbeat go stale, and the master kills the worker, as it would a sync worker.
  (gunicorn's gthread worker beats regardless, so there ``timeout`` never catches a
  stuck thread.)
- ``TERM`` stops accepting and serves what is already queued on the listeners.
  Open connections get one more request each (answered with ``Connection:
  close``) or their keep-alive time, all within ``graceful_timeout``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import queue
import select
import selectors
import socket
import threading
import time
from collections.abc import Callable

from minigun.app.base import BaseApplication
from minigun.config import Config
from minigun.glogging import Logger
from minigun.sock import BaseSocket, SocketAddress
from minigun.workers import base
from minigun.workers.handler import open_exchange
from minigun.workers.throttle import AcceptThrottle

OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)  # accept fails, the client waits


class Connection:
    """One client connection and its exchange, kept across keep-alive requests.

    gunicorn calls it ``TConn``.
    """

    def __init__(
        self,
        worker: ThreadWorker,
        listener: BaseSocket,
        sock: socket.socket,
        peer_addr: SocketAddress,
    ) -> None:
        self.listener = listener
        self.sock = sock
        self.peer_addr = peer_addr
        self.exchange = open_exchange(worker, sock, peer_addr)
        self.exchange.on_progress = self.body_progressed
        self.busy_since = 0.0  # when a pool thread took it, or its body last moved
        self.idle_until = 0.0  # when an idle connection is closed
        # what the selector calls when the idle connection is readable
        self.on_readable = functools.partial(worker.reuse_connection, self)

    def body_progressed(self) -> None:
        """Body bytes arrived: the request in hand is moving, not stuck."""
        self.busy_since = time.monotonic()

    def has_pipelined_bytes(self) -> bool:
        """Whether the next request's bytes are already read: into the exchange, or
        decrypted by TLS and waiting in OpenSSL (where ``select`` cannot see them)."""
        pending = getattr(self.sock, "pending", None)  # ssl.SSLSocket only
        return self.exchange.has_buffered_bytes() or bool(pending and pending())

    def close(self) -> None:
        self.sock.close()


class RequestThreads:
    """The pool: ``count`` threads that take connections from one queue and serve
    them, each in its turn.

    A queue and threads rather than ``concurrent.futures``: a turn returns nothing
    to wait for (the thread parks or closes the connection itself), and the
    executor's ``Future`` per request, with its locks and conditions, cost the
    worker a tenth to a sixth of its CPU time per request (the performance
    appendix).
    """

    def __init__(self, count: int, serve: Callable[[Connection], None], log: Logger):
        self.queue: queue.SimpleQueue[Connection | None] = queue.SimpleQueue()
        self.serve = serve
        self.log = log
        self.threads = [
            threading.Thread(target=self.run, name=f"minigun-request-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, conn: Connection) -> None:
        """Queue ``conn``; the first free thread serves it."""
        self.queue.put(conn)

    def run(self) -> None:
        """One thread's life: serve what comes, until ``None`` comes.

        A turn that raises is logged and the thread goes on: a pool that lost a
        thread per bug would serve fewer clients at once, and say nothing.
        """
        while (conn := self.queue.get()) is not None:
            try:
                self.serve(conn)
            except Exception:
                self.log.exception("Error serving a connection")

    def shutdown(self) -> None:
        """Forget the connections still queued, and end each thread after its turn
        (the worker closes every connection it holds)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()
        for _thread in self.threads:
            self.queue.put(None)


class ThreadWorker(base.Worker):
    """A selector loop in the main thread, requests served by a thread pool."""

    def __init__(
        self,
        age: int,
        ppid: int,
        sockets: list[BaseSocket],
        app: BaseApplication,
        timeout: float,
        cfg: Config,
        log: Logger,
    ) -> None:
        super().__init__(age, ppid, sockets, app, timeout, cfg, log)
        # Read once: a worker's settings never change, and these are read per request.
        self.worker_connections = self.cfg.worker_connections
        self.threads = self.cfg.threads
        self.keepalive = self.cfg.keepalive
        self.pool: RequestThreads | None = None
        self.poller: selectors.BaseSelector | None = None
        self.connections: set[Connection] = set()  # every open one, busy or idle
        self.idle: dict[Connection, None] = {}  # idle ones, oldest first
        self.busy: set[Connection] = set()  # the ones a pool thread is serving
        self.watching_listeners = False
        self.throttle = AcceptThrottle(time.monotonic)
        self.making_room = False  # full, with clients waiting in the backlog
        # Held for every change to connections, idle, busy and the selector's table,
        # and to claim making_room: the main thread and the pool threads change
        # them. Their sizes are read without it (len() is atomic; a stale answer
        # only waits for the next turn).
        self.lock = threading.Lock()

    @classmethod
    def check_config(cls, cfg: Config, log: Logger) -> None:
        """Warn when ``worker_connections`` leaves no place for a connection kept
        alive between requests: each one takes the place of a new client, which
        waits in the backlog (gunicorn warns on the same condition)."""
        if cfg.keepalive > 0 and cfg.worker_connections <= cfg.threads:
            log.warning(
                "worker_connections (%d) is not more than threads (%d): every "
                "connection kept alive between requests takes the place of a new "
                "client. Raise worker_connections, or set keepalive to 0.",
                cfg.worker_connections,
                cfg.threads,
            )

    def init_process(self) -> None:
        """Make the pool and the selector in the child (threads do not survive a
        fork), then boot as every worker does."""
        self.pool = RequestThreads(self.threads, self.serve_turn, self.log)
        self.poller = selectors.DefaultSelector()
        super().init_process()

    # The main loop.

    def run(self) -> None:
        """Accept and watch until ``TERM``, ``max_requests`` or the master's death;
        then stop gracefully."""
        # exercise: worker-run
        assert self.poller is not None and self.wake_pipe is not None
        for listener in self.sockets:
            listener.setblocking(False)
        self.poller.register(self.wake_pipe, selectors.EVENT_READ, self.on_wakeup)
        while self.alive and self.is_parent_alive():
            self.watch_listeners(self.wants_connections())
            self.run_once()
        self.stop_gracefully()
        # end-exercise: worker-run

    def run_once(self) -> None:
        """One turn of the loop: heartbeat, wait for events, tidy up connections,
        then look at where accepting stands for the next turn."""
        assert self.poller is not None
        self.beat_heartbeat()
        for key, _mask in self.poller.select(self.select_timeout()):
            key.data()
        self.close_idle_connections()
        self.observe_accepting()

    def select_timeout(self) -> float:
        """Sleep no longer than the heartbeat allows, nor past the accept delay."""
        delay = self.throttle.delay_left() if self.has_room() else 0.0
        return min(self.poll_interval(), delay) if delay > 0 else self.poll_interval()

    def beat_heartbeat(self) -> None:
        """Notify the master, unless a request is stuck (see the module's rules)."""
        with self.lock:
            started = [conn.busy_since for conn in self.busy]
        oldest = min(started, default=None)
        if (
            self.timeout <= 0
            or oldest is None
            or time.monotonic() - oldest < self.timeout
        ):
            self.notify()

    # Accepting: when to take a new client, and when to leave it to the others.

    def observe_accepting(self, client_waiting: bool = False) -> None:
        """Bring the accepting state up to date: the throttle, and whether a full
        worker must make room for clients waiting in the backlog. The questions
        below (:meth:`wants_connections`) only read it. ``client_waiting``: a
        listener was reported readable."""
        self.throttle.observe(self.has_free_thread(), client_waiting)
        self.making_room = not self.has_room() and self.has_clients_waiting()

    def wants_connections(self) -> bool:
        """Whether to watch the listeners this turn (see the module's rules)."""
        return self.has_room() and self.throttle.delay_left() == 0.0

    def has_room(self) -> bool:
        # No lock: len() is atomic, and a stale answer only waits for the next turn.
        return len(self.connections) < self.worker_connections

    def has_free_thread(self) -> bool:
        """Whether a pool thread would start on a new connection at once.

        ``busy`` counts the connections being served and those queued for a
        thread, so a freshly accepted connection takes a thread at once.
        """
        return len(self.busy) < self.threads

    def has_clients_waiting(self) -> bool:
        """Whether a client is queued on a listener (a full worker does not watch
        them, so it looks without waiting)."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return bool(readable)

    def watch_listeners(self, wanted: bool) -> None:
        """Watch the listeners while this worker wants new clients."""
        assert self.poller is not None
        if wanted == self.watching_listeners:  # only this thread changes it
            return
        with self.lock:
            for listener in self.sockets:
                if wanted:
                    callback = functools.partial(self.on_listener_ready, listener)
                    self.poller.register(listener, selectors.EVENT_READ, callback)
                else:
                    self.poller.unregister(listener)
            self.watching_listeners = wanted

    def on_wakeup(self) -> None:
        """A signal, or a pool thread with news for the loop, wrote to the pipe."""
        self.empty_wake_pipe()

    def on_listener_ready(self, listener: BaseSocket) -> None:
        """Clients are queued: take them while this worker still wants them.

        One turn takes several, so a burst of connections is not accepted one
        loop turn at a time; a worker that has just filled its threads stops and
        leaves the rest to the others, unless their wait is over, when it takes
        the queue until ``accept`` finds it empty.

        Nothing is taken once the worker stops. Whether it has stopped is asked,
        and the client accepted, under ``count_lock``, which a pool thread holds
        while it counts the worker's last request (``max_requests``): a client
        that connected after that request was answered is left to the next worker.
        """
        self.observe_accepting(client_waiting=True)
        while self.wants_connections():
            with self.count_lock:
                if not self.alive:
                    return
                accepted = self.accept_and_serve(listener)
            if not accepted:
                self.throttle.backlog_emptied()
                return
            self.observe_accepting(client_waiting=True)

    def accept_and_serve(self, listener: BaseSocket) -> bool:
        """Accept one queued connection and hand it to the pool to serve; ``False``
        if the queue was empty (another worker won the race)."""
        try:
            sock, peer_addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return False
        except ConnectionAbortedError:  # the client gave up while queued
            return True
        except OSError as error:
            if error.errno not in OUT_OF_DESCRIPTORS:
                raise
            self.hold_connections_at_descriptor_limit()
            return False
        sock.setblocking(True)
        # TLS: wrapped here, the handshake in a pool thread (serve_connection),
        # never in this loop, which it would stall.
        conn = Connection(self, listener, self.wrap_connection(sock), peer_addr)
        with self.lock:
            self.connections.add(conn)
        self.submit(conn)
        return True

    def hold_connections_at_descriptor_limit(self) -> None:
        """The process ran out of file descriptors before ``worker_connections``.

        Dying here would drop every connection the worker holds; instead it holds
        what it has, and the full worker's rule makes room for the clients still
        queued. Called by the main thread only.
        """
        held = len(self.connections)
        if held < self.worker_connections:
            self.log.warning(
                "Out of file descriptors at %s connection(s) (worker_connections is "
                "%s): holding %s; raise the open files limit (ulimit -n)",
                held,
                self.cfg.worker_connections,
                held,
            )
            self.worker_connections = held

    def reuse_connection(self, conn: Connection) -> None:
        """An idle connection is readable: the client's next request (or its close).

        An idle connection is the main thread's alone, so it leaves the selector
        outside the lock (see the module's rules).
        """
        assert self.poller is not None
        self.poller.unregister(conn.sock)
        with self.lock:
            del self.idle[conn]
        self.submit(conn)

    def submit(self, conn: Connection) -> None:
        assert self.pool is not None
        with self.lock:
            conn.busy_since = time.monotonic()
            self.busy.add(conn)
        self.pool.submit(conn)

    # The hand-back, in the pool thread.

    def serve_turn(self, conn: Connection) -> None:
        """A pool thread's turn with ``conn``: serve it, then park it or close it.

        The thread puts the connection back in the selector itself, without waking
        the main thread: ``epoll`` watches a descriptor added while another thread
        waits in it. (With ``poll`` or ``select`` underneath, the next turn of the
        loop, at most ``base.POLL_INTERVAL`` later, would see it.)
        """
        keep_alive = False
        try:
            keep_alive = self.serve_connection(conn)
        finally:
            with self.lock:
                self.busy.discard(conn)
                if keep_alive:  # the response promised the client an open connection
                    self.park(conn)
                else:
                    self.connections.discard(conn)
                news_for_the_loop = not self.alive or not self.watching_listeners
            if not keep_alive:
                conn.close()  # after the lock (see the module's rules)
            if news_for_the_loop:  # stopping, or a thread or a slot freed
                self.wakeup()

    def keeps_connection_open(self) -> bool:
        """Whether this response may promise keep-alive: not while stopping; and
        while a full worker makes room for the backlog, one response per turn of
        the loop closes (more would only send clients to the back of the queue)."""
        if not self.alive or self.keepalive <= 0:
            return False
        if self.making_room:  # cheap test first; then claim it under the lock
            with self.lock:
                claimed, self.making_room = self.making_room, False
            return not claimed
        return True

    def park(self, conn: Connection) -> None:
        """Wait, for at most ``keepalive`` seconds, for the client's next request.

        Called with the lock held: the main thread closes expired connections
        under it, and must never meet one that is listed as idle but not yet
        watched by the selector.
        """
        assert self.poller is not None
        conn.idle_until = time.monotonic() + self.keepalive
        self.idle[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, conn.on_readable)

    def close_idle_connections(self) -> None:
        """Close the connections idle past their keep-alive deadline.

        Runs every turn of the loop, so it looks only at the oldest connections,
        never at all of them: with 1,000 clients held, copying the table each turn
        cost more than the rest of the turn.
        """
        assert self.poller is not None
        # exercise: keepalive
        now = time.monotonic()
        with self.lock:
            while self.idle:
                conn = next(iter(self.idle))  # the oldest
                if conn.idle_until > now:
                    break  # every later one was parked later
                self.poller.unregister(conn.sock)
                del self.idle[conn]
                self.close_connection(conn)
        # end-exercise: keepalive

    def close_connection(self, conn: Connection) -> None:
        """Called with the lock held."""
        self.connections.discard(conn)
        conn.close()

    # Stopping.

    def stop_gracefully(self) -> None:
        """Stop accepting; serve the backlog and the connections already open.

        A kept-alive connection is not simply closed: its client may have sent its
        next request already, and closing would lose it. Each open connection gets
        that one request, answered with ``Connection: close``, or its keep-alive
        time runs out; all within ``graceful_timeout``. The backlog is served only
        after ``TERM``, as the sync worker does: a worker retiring at
        ``max_requests`` leaves it to the others and to its replacement.
        """
        terminated = self.stop_deadline is not None  # set by TERM
        if not terminated:  # max_requests, or the master is gone
            self.stop_deadline = time.monotonic() + self.cfg.graceful_timeout
        self.watch_listeners(False)
        if terminated:
            self.drain_backlog()
        while self.connections and self.has_time_to_drain():
            self.run_once()
        assert self.pool is not None
        self.pool.shutdown()
        with self.lock:
            for conn in list(self.connections):
                self.close_connection(conn)

    # One connection's turn in a pool thread.

    def serve_connection(self, conn: Connection) -> bool:
        """Serve the requests waiting on ``conn``; ``True`` to keep it open.

        Each request takes the path every worker shares
        (:meth:`~minigun.workers.base.Worker.handle`), with the connection's own
        exchange, which outlives one request.
        """
        first_turn = conn.exchange.parser.req_count == 0
        if first_turn and not self.shake_hands(conn.sock, conn.peer_addr):
            return False  # a TLS client that failed, or was too slow, to shake hands
        while True:
            keep_alive = self.handle(
                conn.listener, conn.sock, conn.peer_addr, conn.exchange
            )
            if not keep_alive or not conn.has_pipelined_bytes():
                return keep_alive
