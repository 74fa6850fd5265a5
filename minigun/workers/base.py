"""The worker: one forked process that loads the application and serves requests.

The chapter's question: what does a process need to do, between ``fork()`` and its
first request, to become a well-behaved worker? The life cycle is::

    __init__           in the master, before the fork: plain attributes, no side effects
    init_process()     in the child: environment, user, signals, load the app, run()
    run()              the accept loop: a subclass's job (SyncWorker, ThreadWorker)
    (exit)             the master's spawn_worker turns how run() ended into an exit code

Rules of the worker's life:

- It calls :meth:`Worker.notify` at least every ``timeout`` seconds, or the master
  kills it (the heartbeat file, :mod:`minigun.workers.workertmp`).
- It exits when its master is gone (its parent pid changed).
- ``TERM`` lets the current request finish (:meth:`Worker.handle_exit`); ``INT`` and
  ``QUIT`` leave at once (:meth:`Worker.handle_quit`); ``ABRT`` is the master's
  timeout kill (:meth:`Worker.handle_abort`): the request in hand is logged and
  answered 500 on the way out; ``USR1`` reopens the log files.
- An application that fails to load exits with an app load error (4 to 6, one per
  kind of failure, :mod:`minigun.errors`): the master must not respawn a worker that
  will fail the same way.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import io
import os
import random
import signal
import socket
import ssl
import sys
import time
import traceback
from http import HTTPStatus
from types import FrameType
from typing import Any

from minigun import sock
from minigun.errors import APP_LOAD_ERROR, AppImportError
from minigun.http import errors as http_errors
from minigun.http import wsgi
from minigun.workers.workertmp import WorkerTmp

UNLIMITED_REQUESTS = sys.maxsize
WAKE_BYTE = b"."
CLIENT_GONE = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN)  # not our fault
WAKE_READ_SIZE = 64  # bytes per read while emptying the wake-up pipe

# The signals a worker resets from the master's handlers, and then handles itself.
WORKER_SIGNALS = (
    signal.SIGABRT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGCHLD,
    signal.SIGTTIN,
    signal.SIGTTOU,
)


class Worker:
    """The base worker: everything but the accept loop.

    To write your own worker, subclass it and implement :meth:`run`; call
    :meth:`notify` in your loop and stop when :attr:`alive` turns false.
    """

    def __init__(
        self,
        age: int,
        ppid: int,
        sockets: list[Any],
        app: Any,
        timeout: float,
        cfg: Any,
        log: Any,
    ) -> None:
        """Runs in the master before the fork: set attributes, touch nothing global."""
        self.age = age
        self.ppid = ppid
        self.sockets = sockets
        self.app = app
        self.timeout = timeout
        self.cfg = cfg
        self.log = log
        self.pid: int | None = None  # the master sets it after fork; the child too
        self.booted = False
        self.aborted = False
        self.alive = True
        self.nr = 0  # requests served
        self.max_requests = self.requests_before_retiring(cfg)
        self.tmp = WorkerTmp(cfg.worker_tmp_dir, cfg.uid, cfg.gid)
        self.wsgi: Any = None
        self.ssl_context: ssl.SSLContext | None = None  # built in the child, if TLS
        self.wake_fds: tuple[int, int] | None = None
        self.stop_deadline: float | None = None  # set by TERM: when draining must end
        self.request_in_hand: Any = None  # what a timeout interrupts (handle_abort)
        # The master's bookkeeping about this worker (never used inside the worker).
        self.generation = 0  # which configuration (HUP) the worker was started with
        self.spawned_at = time.time()  # a heartbeat reference while it boots
        self.abort_deadline: float | None = None  # SIGKILL after this, once aborted
        self.retire_deadline: float | None = None  # SIGKILL after this, once TERMed

    @staticmethod
    def requests_before_retiring(cfg: Any) -> int:
        """``max_requests`` plus a random jitter, so workers do not all restart at once.

        ``max_requests = 0`` means never retire.
        """
        # exercise: max-requests
        if cfg.max_requests <= 0:
            return UNLIMITED_REQUESTS
        jitter = random.randint(0, max(0, cfg.max_requests_jitter))
        limit = cfg.max_requests + jitter
        # end-exercise: max-requests
        return limit

    def __str__(self) -> str:
        return f"<Worker {self.pid}>"

    def notify(self) -> None:
        """Tell the master we are alive. A subclass's loop must call this at least
        once every ``timeout`` seconds, or the master kills the worker."""
        self.tmp.notify()

    def run(self) -> None:
        """The accept loop. The base class has none: a worker class is defined by it."""
        raise NotImplementedError("a worker class implements run(): its accept loop")

    # Boot: everything the child does before serving.

    def init_process(self) -> None:
        """Turn the freshly forked child into a worker, then :meth:`run`.

        A subclass that overrides this must call ``super().init_process()`` last,
        because it does not return: the worker's life continues in :meth:`run`.
        """
        self.pid = os.getpid()
        os.environ.update(self.cfg.env or {})
        self.load_ssl_context()  # before dropping privileges: a root-only key
        self.set_owner_and_umask()
        random.seed()  # the fork copied the master's random state; reseed
        self.wake_fds = self.make_wake_pipe()
        self.log.close_on_exec()
        self.init_signals()
        self.load_wsgi()
        # Raising here is a boot failure: exit 3, and the master halts.
        self.call_hook_or_raise("post_worker_init", self.cfg.post_worker_init, self)
        self.booted = True
        self.notify()  # the first notify also tells the master "booted"
        self.run()

    def load_ssl_context(self) -> None:
        """Read the certificate and key, if the listeners speak TLS (see sock)."""
        if self.cfg.is_ssl:
            self.ssl_context = sock.ssl_context(self.cfg)

    def wrap_connection(self, client: socket.socket) -> socket.socket:
        """The connection to serve: ``client`` itself, or wrapped in TLS (no I/O)."""
        if self.ssl_context is None:
            return client
        return sock.ssl_wrap_socket(client, self.ssl_context, self.cfg)

    def shake_hands(self, conn: socket.socket, addr: Any) -> bool:
        """Finish the TLS handshake before the first request is read; ``False``
        if it failed or took longer than ``header_timeout`` (logged at debug:
        the client's doing). A plain connection has nothing to do."""
        if not isinstance(conn, ssl.SSLSocket):
            return True
        try:
            sock.ssl_handshake(conn, self.cfg)
        except OSError as error:
            self.log.debug("TLS handshake with %s failed: %s", _peer(addr), error)
            return False
        return True

    def set_owner_and_umask(self) -> None:
        """Drop to the configured group and user (group first, while we still can)."""
        os.umask(self.cfg.umask)
        if self.cfg.gid is not None and self.cfg.gid != os.getgid():
            os.setgid(self.cfg.gid)
        if self.cfg.uid is not None and self.cfg.uid != os.getuid():
            os.setuid(self.cfg.uid)

    @staticmethod
    def make_wake_pipe() -> tuple[int, int]:
        """A pipe a signal handler writes to, so a loop sleeping in ``select`` wakes."""
        read_fd, write_fd = os.pipe()
        for fd in (read_fd, write_fd):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        return read_fd, write_fd

    def load_wsgi(self) -> None:
        """Load the application; a failure is logged as one paragraph and ends the
        worker with the error's code (4 to 6, see :mod:`minigun.errors`), which tells
        the master not to respawn and what failed."""
        try:
            self.wsgi = self.app.wsgi()
        except Exception as error:
            self.log.error(
                "Failed to load the application:\n%s", _error_paragraph(error)
            )
            raise SystemExit(getattr(error, "exit_status", APP_LOAD_ERROR)) from error

    def init_signals(self) -> None:
        """Forget the master's handlers and install the worker's own."""
        for sig in WORKER_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        handlers = {
            signal.SIGTERM: self.handle_exit,
            signal.SIGQUIT: self.handle_quit,
            signal.SIGINT: self.handle_quit,
            signal.SIGABRT: self.handle_abort,
            signal.SIGUSR1: self.handle_usr1,
            signal.SIGWINCH: self.handle_winch,
        }
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        # A TERM or USR1 must not abort a system call half-way through a response.
        signal.siginterrupt(signal.SIGTERM, False)
        signal.siginterrupt(signal.SIGUSR1, False)

    # Signals.

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """TERM: finish the request in hand, then leave the loop."""
        # exercise: worker-term
        self.alive = False
        self.stop_deadline = time.monotonic() + self.cfg.graceful_timeout
        self.wakeup()
        # end-exercise: worker-term
        self.log.debug("Worker %s asked to stop gracefully", self.pid)

    def handle_quit(self, sig: int, frame: FrameType | None) -> None:
        """INT/QUIT: run the ``worker_int`` hook and leave at once."""
        self.alive = False
        self.call_hook("worker_int", self.cfg.worker_int, self)
        raise SystemExit(0)

    def handle_abort(self, sig: int, frame: FrameType | None) -> None:
        """ABRT, the master's timeout kill: name the request in hand, run the
        ``worker_abort`` hook, then exit 1.

        The ``SystemExit`` is raised wherever the application was stuck, so it
        unwinds the application's own ``finally`` blocks on its way out; the worker
        class answers the request 500 as it passes (:meth:`answer_timed_out`).
        """
        self.alive = False
        self.aborted = True
        req = self.request_in_hand
        if req is not None:
            self.log.error(
                "Request timed out after %g s: %s %s (pid:%s)",
                self.timeout,
                req.method,
                req.uri,
                self.pid,
            )
        self.call_hook("worker_abort", self.cfg.worker_abort, self)
        raise SystemExit(1)

    def handle_usr1(self, sig: int, frame: FrameType | None) -> None:
        """USR1: reopen the log files (after a log rotation)."""
        self.log.reopen_files()

    def handle_winch(self, sig: int, frame: FrameType | None) -> None:
        """WINCH is the master's business (daemon mode); a worker ignores it."""

    def wakeup(self) -> None:
        """Wake the accept loop out of its ``select``."""
        if self.wake_fds is None:
            return
        with contextlib.suppress(BlockingIOError):  # full: the loop is awake already
            os.write(self.wake_fds[1], WAKE_BYTE)

    def empty_wake_pipe(self) -> None:
        """Read every pending wake-up byte, so the next ``select`` blocks again."""
        assert self.wake_fds is not None
        with contextlib.suppress(BlockingIOError):  # empty: nothing more to read
            while os.read(self.wake_fds[0], WAKE_READ_SIZE):
                pass

    def call_hook(self, name: str, hook: Any, *args: Any) -> None:
        """Call ``hook``; one that raises is logged by ``name`` and does not kill us."""
        try:
            hook(*args)
        except Exception:
            self.log.exception("Exception in %s hook", name)

    def call_hook_or_raise(self, name: str, hook: Any, *args: Any) -> None:
        """Call a hook whose failure must stop what it guards (post_fork and
        post_worker_init: the boot; pre_request: the request). The log names the
        hook in one line; the caller's handler logs the traceback and decides."""
        try:
            hook(*args)
        except Exception as error:
            self.log.error("Exception in %s hook: %r", name, error)
            raise

    def run_app(self, resp: Any, environ: dict[str, Any]) -> None:
        """Call the WSGI application and write its body.

        Every worker class serves a request the same way once it has a response and an
        environ, so this lives here. The body's ``close()`` is always called, even when
        iterating it failed (PEP 3333): frameworks release connections and end request
        scopes there.
        """
        # exercise: wsgi-call
        body = self.wsgi(environ, resp.start_response)
        try:
            if isinstance(body, wsgi.FileWrapper):
                resp.write_file(body)  # socket.sendfile when it is a real file
            else:
                for chunk in body:
                    resp.write(chunk)
            resp.close()
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        # end-exercise: wsgi-call

    def is_parent_alive(self) -> bool:
        """A worker whose master died is reparented: its parent pid changes."""
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            return False
        return True

    # Errors while serving.

    def handle_error(
        self, req: Any, client: Any, addr: Any, exc: BaseException
    ) -> None:
        """Answer a failed request and log it (callers only come here while nothing
        of the response has been sent yet).

        A parse error carries its own status and is rendered by the HTTP package; any
        other exception is a bug in the application: log the traceback, answer 500.
        The connection is closed afterwards either way; the worker lives on. An
        application that raised after reading the body failed is not at fault: the
        body's error (a stall is 408) is the answer.
        """
        if req is not None and req.body.failure is not None:
            exc = req.body.failure
        status = http_errors.status_for(exc)
        if isinstance(exc, http_errors.HTTPError):
            self.log.debug("Invalid request from %s: %s", _peer(addr), exc)
        else:
            self.log.exception("Error handling request %s", getattr(req, "uri", ""))
        try:
            client.sendall(http_errors.render_error(exc))
        except OSError:
            self.log.debug("Could not send the error response to %s", _peer(addr))
        if req is not None:
            self.log_failed_access(req, addr, int(status))

    def log_error_after_response(self, req: Any, addr: Any) -> None:
        """Log an error that came too late to answer: the response had started.

        If the request's body broke (the client stalled or left while the response
        was going out, or while the rest of the body was being read past), it is
        the client's doing, not a bug: debug, like every bad request.
        """
        if req.body.failure is not None:
            self.log.debug(
                "Invalid request from %s after the response started: %s",
                _peer(addr),
                req.body.failure,
            )
        else:
            self.log.exception("Error handling request (response already started)")

    def answer_timed_out(self, req: Any, client: Any, addr: Any) -> None:
        """Answer 500 for a request the master's timeout interrupted, before the
        worker exits (only while nothing of its response has been sent).

        Without it the client would see its connection drop with no status line and
        could not tell a timeout from a network fault; gunicorn answers 500 too.
        """
        try:
            client.sendall(http_errors.render_error(TimeoutError("worker timeout")))
        except OSError:
            self.log.debug("Could not send the timeout response to %s", _peer(addr))
        self.log_failed_access(req, addr, int(HTTPStatus.INTERNAL_SERVER_ERROR))

    def log_socket_error(self, error: OSError) -> None:
        """A client that hung up is routine (debug); any other socket error is ours."""
        if error.errno in CLIENT_GONE:
            self.log.debug("Client went away: %s", error)
        elif isinstance(error, ssl.SSLError):  # no TLS, or broken TLS: the client's
            self.log.debug("TLS error: %s", error)
        else:
            self.log.exception("Socket error processing request.")

    def log_failed_access(self, req: Any, addr: Any, status: int) -> None:
        """An access-log line for a request that ended in an error response."""
        environ = {
            "REMOTE_ADDR": _peer(addr),
            "REQUEST_METHOD": getattr(req, "method", "-"),
            "RAW_URI": getattr(req, "uri", "-"),
            "SERVER_PROTOCOL": "HTTP/{}.{}".format(*getattr(req, "version", (1, 1))),
        }
        response = _ErrorResponse(status)
        self.log.access(response, req, environ, datetime.timedelta(0))


class _ErrorResponse:
    """What the access log needs to know about an error response."""

    def __init__(self, status_code: int) -> None:
        self.status = str(status_code)
        self.status_code = status_code
        self.sent = 0
        self.headers: list[tuple[str, str]] = []


def _peer(addr: Any) -> str:
    return addr[0] if isinstance(addr, tuple) and addr else str(addr or "-")


def _error_paragraph(error: BaseException) -> str:
    """A minigun error's message alone; anyone else's with its traceback."""
    if isinstance(error, AppImportError):
        return str(error)
    buffer = io.StringIO()
    traceback.print_exception(error, file=buffer)
    return buffer.getvalue().rstrip()
