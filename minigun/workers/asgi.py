"""The ASGI worker: one asyncio event loop per process, under the same arbiter.

The chapter's question: an event loop serves many connections in one thread by never
blocking; what changes in the worker's contract with its master when the loop is the
only thread?

Everything the master sees stays the same: the fork, the heartbeat file, the signals,
the hooks, ``max_requests``, the access log, the exit codes. What changes is who keeps
each promise:

- The heartbeat comes from the loop: a periodic task notifies
  (:meth:`ASGIWorker.beat_heartbeat`). A blocking call in the application stalls
  that task with every connection, so a stalled loop looks to the master exactly
  like a stuck sync worker, and its ``timeout`` kills it. Before that, the same task
  measures how late it woke and logs a loop that was blocked.
- The signals the loop can wait for go through ``loop.add_signal_handler`` (``TERM``,
  ``INT``, ``QUIT``, ``USR1``, ``WINCH``); ``ABRT`` keeps its ordinary handler, since
  it must interrupt a blocked loop, which would never run a loop callback.
- The requests are read by the same exchange and parser as in the other workers,
  over asyncio streams (:mod:`minigun.http.asgi`).
- Graceful shutdown: stop accepting, let the requests in flight finish within
  ``graceful_timeout`` (a kept-alive client's next request is answered with
  ``Connection: close``), serve what queued meanwhile, then the lifespan's
  ``shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import errno
import signal
import socket
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

from minigun.errors import WORKER_BOOT_ERROR
from minigun.http import errors as http_errors
from minigun.http import wsgi
from minigun.http.asgi import (
    BODY_CHUNK,
    ASGIApp,
    NeedData,
    RequestCycle,
    StreamUnreader,
    TransportSocket,
    http_scope,
)
from minigun.http.exchange import DRAIN_MAX_SECONDS, Close, Event, Exchange, State
from minigun.http.message import Request
from minigun.sock import BaseSocket, SocketAddress
from minigun.workers import base
from minigun.workers.handler import RequestHandler, log_socket_error
from minigun.workers.lifespan import Lifespan

#: What a parser step returns (a request, a piece of body, nothing).
T = TypeVar("T")
#: A heartbeat this much later than planned (its lag, in seconds) means the loop was
#: blocked: log it.
LOOP_LAG_WARNING = 1.0
#: The warning for a blocked loop, with the lag and the worker's pid.
BLOCKED_LOOP = (
    "The event loop was blocked for %.1f s: a blocking call in the application "
    "stalls every connection of this worker (pid: %s)"
)


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """The loop ``asgi_loop`` names: ``uvloop`` if asked (or ``auto`` and
    installed), else asyncio's own.

    Raises:
        ImportError: ``uvloop`` was asked for and is not installed.
    """
    if choice in ("uvloop", "auto"):
        try:
            import uvloop  # noqa: PLC0415 (optional: never a requirement)
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


class ASGIWorker(base.Worker):
    """Serve an ASGI application from one event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested: asyncio.Event | None = None
        self.connections: dict[asyncio.Task[None], Connection] = {}
        self.accepting = False
        self.lifespan: Lifespan | None = None
        self.keepalive = self.cfg.keepalive  # read once, as the handler reads its own

    def run(self) -> None:
        try:
            self.loop = new_event_loop(self.cfg.asgi_loop)
        except ImportError:
            self.log.error("asgi_loop is 'uvloop', but uvloop is not installed")
            raise SystemExit(WORKER_BOOT_ERROR) from None
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.serve())
        finally:
            self.loop.close()

    async def serve(self) -> None:
        """Start the application, serve until asked to stop, stop gracefully."""
        self.stop_requested = asyncio.Event()
        self.install_loop_signals()
        heartbeat = asyncio.ensure_future(self.beat_heartbeat())
        assert self.wsgi is not None
        app: ASGIApp = self.wsgi  # type: ignore[assignment]  # -k asgi: an ASGI app
        # the hooks and the environ's constant keys, read from the settings once
        self.request_handler = RequestHandler(self, self.wsgi)
        self.lifespan = Lifespan(app, self.cfg.asgi_lifespan, self.log)
        if not await self.lifespan.startup():
            # Reported as a boot error, as a failed import is: the master halts.
            raise SystemExit(WORKER_BOOT_ERROR)
        self.start_accepting()
        await self.stop_requested.wait()
        await self.stop_gracefully()
        await self.lifespan.shutdown(self.cfg.graceful_timeout)
        heartbeat.cancel()

    def install_loop_signals(self) -> None:
        """Route the signals the loop can wait for through it (after the base
        class's reset and handlers); ``ABRT`` keeps its handler, to interrupt a
        blocked loop."""
        assert self.loop is not None
        handlers: dict[signal.Signals, Callable[[int, FrameType | None], None]] = {
            signal.SIGTERM: self.handle_exit,
            signal.SIGINT: self.handle_quit,
            signal.SIGQUIT: self.handle_quit,
            signal.SIGUSR1: self.handle_usr1,
            signal.SIGWINCH: self.handle_winch,
        }
        for sig, handler in handlers.items():
            self.loop.add_signal_handler(sig, handler, sig, None)

    def wakeup(self) -> None:
        """``TERM`` or ``max_requests`` turned ``alive`` off: stop the loop's wait."""
        if self.loop is not None and self.stop_requested is not None:
            self.loop.call_soon_threadsafe(self.stop_requested.set)

    # The heartbeat, from the loop.

    async def beat_heartbeat(self) -> None:
        """Notify the master every poll interval, from a task of the loop, and say
        when the loop was blocked: a blocked loop runs no task, so the beat is late
        by as long as the block lasted, and stops altogether if it never ends."""
        interval = self.poll_interval()
        # exercise: asgi-heartbeat
        while True:
            self.notify()
            if not self.alive or not self.is_parent_alive():
                self.alive = False
                assert self.stop_requested is not None
                self.stop_requested.set()
            planned = time.monotonic() + interval
            await asyncio.sleep(interval)
            lag = time.monotonic() - planned
            if lag > LOOP_LAG_WARNING:
                self.log.warning(BLOCKED_LOOP, lag, self.pid)
        # end-exercise: asgi-heartbeat

    # Accepting.

    def start_accepting(self) -> None:
        """Watch the listeners; :meth:`accept_ready` takes what arrives."""
        assert self.loop is not None
        for listener in self.sockets:
            listener.setblocking(False)
            self.loop.add_reader(listener.fileno(), self.accept_ready, listener)
        self.accepting = True

    def stop_accepting(self) -> None:
        """Stop watching the listeners (at capacity, or stopping)."""
        assert self.loop is not None
        for listener in self.sockets:
            self.loop.remove_reader(listener.fileno())
        self.accepting = False

    def accept_ready(self, listener: BaseSocket) -> None:
        """Take the connections queued on ``listener``, up to ``worker_connections``."""
        while self.alive and self.has_room():
            if not self.accept_and_serve(listener):
                return
        if not self.has_room():
            self.stop_accepting()  # resumed when a connection ends

    def has_room(self) -> bool:
        return len(self.connections) < self.cfg.worker_connections

    def accept_and_serve(self, listener: BaseSocket) -> bool:
        """Accept one queued connection and start serving it in its own task;
        ``False`` if none was queued (another worker won it)."""
        try:
            sock, peer_addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return False
        assert self.loop is not None
        task = self.loop.create_task(self.serve_connection(listener, sock, peer_addr))
        server_addr = listener.getsockname()  # the listener may close before it is used
        self.connections[task] = Connection(self, server_addr, peer_addr)
        task.add_done_callback(self.connection_ended)
        return True

    def connection_ended(self, task: asyncio.Task[None]) -> None:
        """Forget the connection; accept again if it was holding the limit.

        An error that escaped the connection is logged here, with its traceback:
        left in the task, asyncio would print it to stderr, outside the server's
        log, as an exception "never retrieved".
        """
        self.connections.pop(task, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            trace = "".join(traceback.format_exception(error))
            self.log.error("Error serving a connection\n%s", trace)
        if self.alive and not self.accepting and self.has_room():
            self.start_accepting()

    async def serve_connection(
        self, listener: BaseSocket, sock: socket.socket, peer_addr: SocketAddress
    ) -> None:
        """Wrap ``sock`` in asyncio streams (TLS if set up), then serve it."""
        assert self.loop is not None
        reader = asyncio.StreamReader(loop=self.loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=self.loop)
        try:
            transport, _ = await self.loop.connect_accepted_socket(
                lambda: protocol,
                sock,
                ssl=self.ssl_context,
                ssl_handshake_timeout=self.handshake_timeout(),
            )
        except OSError as error:  # a failed TLS handshake: the client's doing
            self.log.debug("Connection from %s failed: %s", peer_addr, error)
            sock.close()
            return
        writer = asyncio.StreamWriter(transport, protocol, reader, self.loop)
        conn = self.connections[asyncio.current_task()]  # type: ignore[index]
        try:
            await conn.serve(reader, writer)
        finally:
            writer.close()

    def handshake_timeout(self) -> float | None:
        """How long a TLS handshake may take (``header_timeout``); only with TLS."""
        if self.ssl_context is None or self.cfg.header_timeout <= 0:
            return None
        return float(self.cfg.header_timeout)

    def keeps_connection_open(self) -> bool:
        """Kept-alive connections cost the loop almost nothing: keep them while
        the worker serves and ``keepalive`` allows."""
        return self.alive and self.keepalive > 0

    # Stopping.

    async def stop_gracefully(self) -> None:
        """Stop watching the listeners, let the requests in flight finish, then accept
        what queued meanwhile, close the listeners at once and serve those too, all
        within the stop deadline (``graceful_timeout``).
        """
        if self.accepting:
            self.stop_accepting()
        if self.stop_deadline is None:  # max_requests, or the master is gone
            self.stop_deadline = time.monotonic() + self.cfg.graceful_timeout
        await self.wait_for_connections(self.stop_deadline)
        self.drain_backlog()  # what queued meanwhile is accepted, so ours to serve
        for listener in self.sockets:
            listener.close()  # at once: the last holder's close refuses later clients
        await self.wait_for_connections(self.stop_deadline)

    async def wait_for_connections(self, deadline: float) -> None:
        """Wait for every connection to end; cancel those still open at
        ``deadline``."""
        pending = set(self.connections)
        if not pending:
            return
        left = max(deadline - time.monotonic(), 0)
        _, late = await asyncio.wait(pending, timeout=left)
        for task in late:
            task.cancel()
        if late:
            self.log.warning("Cancelled %s request(s) at the stop deadline", len(late))
            await asyncio.wait(late)


class Connection:
    """One client connection of the ASGI worker: its exchange, driven by awaits."""

    def __init__(
        self, worker: ASGIWorker, server_addr: SocketAddress, peer_addr: SocketAddress
    ) -> None:
        self.worker = worker
        self.cfg = worker.cfg
        self.log = worker.log
        self.server_addr = server_addr
        self.peer_addr = peer_addr

    def handler(self) -> RequestHandler:
        """The worker's request handler: what the requests read of the settings."""
        assert self.worker.request_handler is not None  # made before accepting
        return self.worker.request_handler

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests until the exchange closes the connection."""
        self.writer = writer
        self.sock = TransportSocket(writer)
        self.unreader = StreamUnreader(reader)
        self.exchange = Exchange(
            self.worker.parse_rules,
            self.unreader,
            self.peer_addr,
            send=writer.write,
            wait_limit=self.worker.client_wait_limit(),
        )
        # A stopping worker's responses say Connection: close (keeps_connection_open),
        # so the exchange, not the worker's state, ends the loop.
        while True:
            await self.serve_one()
            if self.exchange.state is not State.IDLE:
                return
            if not await self.wait_for_next_request():
                return

    async def wait_for_next_request(self) -> bool:
        """Wait up to ``keepalive`` seconds for the client's next request; ``False``
        if none comes: the time ran out, or the client hung up or reset the idle
        connection, which is routine (a debug line, as in the other workers)."""
        if self.unreader.buffer:
            return True
        try:
            await self.unreader.receive_more(self.worker.keepalive)
        except TimeoutError:
            return False
        except OSError as error:
            log_socket_error(self.log, error)
            return False
        return bool(self.unreader.buffer)

    async def serve_one(self) -> None:
        """Read the next request and answer it, as the sync request path does."""
        exchange = self.exchange
        try:
            req = await self.complete(exchange.next_request, rewind=True)
            if req is not None:
                await self.handle_request(req)
                await self.finish()
        except http_errors.HTTPError as error:
            self.answer_failure(error)
        except OSError as error:
            exchange.fail(error)
            log_socket_error(self.log, error)
        except Exception as error:
            self.answer_failure(error)

    async def complete(self, step: Callable[[], T], rewind: bool = False) -> T:
        """Run a parser step; each time it needs bytes not yet here, await them and
        run it again. A head is parsed again from its first byte (``rewind``); a
        body read continues where it stopped."""
        deadline = None
        while True:
            before = bytes(self.unreader.buffer) if rewind else b""
            count = self.exchange.parser.req_count
            try:
                return step()
            except NeedData:
                if rewind:
                    self.unreader.buffer[:] = before
                    self.exchange.parser.req_count = count
            # the parser restarts the head's clock at each try: keep the first one
            deadline = deadline or self.unreader.deadline
            self.unreader.deadline = deadline
            await self.unreader.receive_within_limits()

    async def read_body(self) -> bytes:
        """The next piece of the request body, as soon as some of it is here."""
        body = self.exchange.current_request().body
        return await self.complete(lambda: body.fill(BODY_CHUNK))

    async def handle_request(self, req: Request) -> None:
        """The hooks, the scope, the application, the access log."""
        worker, exchange, handler = self.worker, self.exchange, self.handler()
        environ: wsgi.Environ = {}
        resp = None
        try:
            worker.call_hook_or_raise("pre_request", handler.pre_request, worker, req)
            started = datetime.datetime.now()
            resp, environ = wsgi.create(
                req,
                # wsgi.create asks for a socket; sendall is all it uses of one
                self.sock,  # type: ignore[arg-type]
                self.peer_addr,
                self.server_addr,
                self.cfg,
                exchange,
                handler.base_environ,
            )
            worker.count_request()
            if not worker.keeps_connection_open():
                exchange.refuse_keep_alive(Close.WORKER)
            await self.run_app(req, resp, environ)
            self.log.access(resp, req, environ, datetime.datetime.now() - started)
        finally:
            worker.call_hook(
                "post_request", handler.post_request, worker, req, environ, resp
            )

    async def run_app(
        self, req: Request, resp: wsgi.Response, environ: wsgi.Environ
    ) -> None:
        """Call the application with the request's scope, ``receive`` and ``send``."""
        assert self.worker.lifespan is not None
        app: ASGIApp = self.worker.wsgi  # type: ignore[assignment]
        cycle = RequestCycle(req, resp, self.read_body, self.unreader, self.writer)
        scope = http_scope(req, environ, self.cfg, self.worker.lifespan.state)
        try:
            await app(scope, cycle.receive, cycle.send)
            cycle.check_complete()
        except Exception as error:
            if cycle.disconnected:  # the client left: whatever the app made of it
                raise ConnectionResetError(errno.ECONNRESET, "client gone") from error
            raise

    async def finish(self) -> None:
        """After the response: read past the rest of the body (within the exchange's
        bounds), then the exchange says whether the connection stays open.

        Most requests have nothing left to read: they are finished at once, without
        arming a timer on the loop for a wait that does not happen.
        """
        with contextlib.suppress(NeedData):
            self.exchange.finish_request()
            return
        try:
            async with asyncio.timeout(DRAIN_MAX_SECONDS):
                await self.complete(self.exchange.finish_request)
        except TimeoutError:
            self.exchange.refuse_keep_alive(Close.UNDRAINED_BODY)
            self.exchange.handle(Event.CLOSE)

    def answer_failure(self, error: BaseException) -> None:
        """The exchange decides whose fault it was; the shared request path
        answers and logs it (inside the ``except`` block, for the traceback)."""
        failure = self.exchange.fail(error)
        self.handler().answer_failure(
            failure,
            self.exchange,
            self.sock,  # type: ignore[arg-type]  # sendall is all it uses
            self.peer_addr,
        )
