"""The worker: one forked process that loads the application and serves requests.

The chapter's question: what does a process need to do, between ``fork()`` and its
first request, to become a well-behaved worker? The life cycle is::

    __init__           in the master, before the fork: plain attributes, no side effects
    init_process()     in the child: environment, user, signals, load the app, run()
    run()              the accept loop: a subclass's job (SyncWorker, ThreadWorker)
    run_in_child()     in the child, around all of it: forget the master (what it
                       handed over, Inheritance), post_fork, init_process(), then
                       turn how run() ended into the exit code

Rules of the worker's life:

- It calls :meth:`Worker.notify` at least every ``timeout`` seconds, or the master
  kills it (the heartbeat file, :mod:`minigun.workers.workertmp`).
- It exits when its master is gone (its parent pid changed).
- Its settings are fixed for its life: it reads the Config it was made with, which
  nothing changes (a HUP forks new workers with the reloaded one), so what it
  derives from them is built once: the HTTP layer's
  :class:`~minigun.http.message.ParseRules` when it is made, the TLS context as it
  boots.
- ``TERM`` lets the current request finish (:meth:`Worker.handle_exit`); ``INT`` and
  ``QUIT`` leave at once (:meth:`Worker.handle_quit`); ``ABRT`` is the master's
  timeout kill (:meth:`Worker.handle_abort`): the request in hand is logged and
  answered 500 on the way out; ``USR1`` reopens the log files.
- An application that fails to load exits with an app load error (4 to 6, one per
  kind of failure, :mod:`minigun.errors`): the master must not respawn a worker that
  will fail the same way. Under ``reload`` it stays instead, answering 500, until
  a file changes (:mod:`minigun.reloader`): an edit with a syntax error is then
  reported once, not answered with a crash loop.
"""

from __future__ import annotations

import io
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, Protocol, cast

import setproctitle

from minigun.app.base import BaseApplication
from minigun.config import Config
from minigun.errors import APP_LOAD_ERROR, WORKER_BOOT_ERROR, AppImportError
from minigun.glogging import Logger
from minigun.http import wsgi
from minigun.http.exchange import Exchange
from minigun.http.message import ParseRules, Request
from minigun.reloader import Reloader, create_reloader
from minigun.sock import (
    BaseSocket,
    SocketAddress,
    ssl_context,
    ssl_handshake,
    ssl_wrap_socket,
    worker_listeners,
)
from minigun.wakepipe import WakePipe
from minigun.workers.handler import RequestHandler, open_exchange, peer_text
from minigun.workers.workertmp import WorkerTmp

if TYPE_CHECKING:  # the arbiter imports this module: a run-time import would be a cycle
    import ssl  # and only a server with TLS loads ssl (minigun.sock.ssl_context)

    from minigun.arbiter import Arbiter

UNLIMITED_REQUESTS = sys.maxsize
POLL_INTERVAL = 1.0  # seconds; the longest a loop sleeps between heartbeats
MAX_WATCHED_FROM_ERROR = 1000  # bounds the walk down a chain of causes
# The master's signals that a worker ignores, from the fork on: only a master answers
# them. The worker's own table (init_signals) handles USR1 and WINCH once booted.
IGNORED_WHILE_BOOTING = {
    signal.SIGHUP,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
    signal.SIGTTIN,
    signal.SIGTTOU,
}


class Closable(Protocol):
    """A file the fork copied into the child (a pipe, a heartbeat file)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Inheritance:
    """What the master hands a new child at the fork: all the worker needs of it.

    The worker reads nothing else of its master; the ``server`` it is given too only
    goes on, untouched, to the ``post_fork`` and ``worker_exit`` hooks (gunicorn's
    hooks receive the arbiter).

    Attributes:
        proc_name: the name the process title shows.
        master_signals: the signals the master handles; the child resets them and
            unblocks them (the master blocked them across the fork).
        master_files: the master's files the fork copied (its wake-up pipe, the
            siblings' heartbeat files), which the child must close.
    """

    proc_name: str
    master_signals: tuple[signal.Signals, ...]
    master_files: tuple[Closable, ...]


class Worker:
    """The base worker: everything but the accept loop.

    To write your own worker, subclass it and implement :meth:`run`; call
    :meth:`notify` in your loop and stop when :attr:`alive` turns false.
    """

    @classmethod
    def check_config(cls, cfg: Config, log: Logger) -> None:
        """Warn, in the master before any fork, about settings this worker class
        serves badly (gunicorn's hook, with its name); the base has no such rule."""

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
        """Runs in the master before the fork: set attributes, touch nothing global."""
        self.age = age
        self.ppid = ppid
        self.sockets = sockets
        self.app = app
        self.timeout = timeout
        self.cfg = cfg
        self.log = log
        # What the child knows of itself. The master's copy keeps the values it had
        # at the fork, but for pid: the master's own record of the child is
        # minigun.arbiter.WorkerRecord.
        self.pid: int | None = None  # the master sets it after fork; the child too
        self.booted = False  # init_process is done: a failure now is not a boot error
        self.aborted = False  # the master's ABRT arrived (a timeout)
        self.alive = True
        self.requests_served = 0  # gunicorn: nr
        self.count_lock = threading.Lock()  # gthread's pool threads count at once
        self.max_requests = self.requests_before_retiring(cfg)
        # The HTTP layer's settings, built once: this worker's cfg never changes.
        self.parse_rules = ParseRules.from_config(cfg)
        self.tmp = WorkerTmp(cfg.worker_tmp_dir, cfg.uid, cfg.gid)
        self.wsgi: wsgi.WSGIApp | None = None  # loaded in the child (load_wsgi)
        self.ssl_context: ssl.SSLContext | None = None  # built in the child, if TLS
        self.request_handler: RequestHandler | None = None  # made at the 1st request
        self.wake_pipe: WakePipe | None = None  # made in the child, by init_process
        self.stop_deadline: float | None = None  # set by TERM: when draining must end
        self.request_in_hand: Request | None = None  # what ABRT interrupts
        self.reloader: Reloader | None = None  # started in the child, under reload
        self.load_failure_files: list[str] = []  # what to watch for the fix

    @staticmethod
    def requests_before_retiring(cfg: Config) -> int:
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

    def poll_interval(self) -> float:
        """Wake at least twice per ``timeout`` so the heartbeat never goes stale."""
        if self.timeout <= 0:
            return POLL_INTERVAL
        return min(POLL_INTERVAL, self.timeout / 2)

    # The child's side of the fork.

    def run_in_child(self, server: Arbiter, inherited: Inheritance) -> NoReturn:
        """Become the worker, serve, then end the process with ``os._exit``.

        The master's :meth:`~minigun.arbiter.Arbiter.spawn_worker` calls this in the
        new child, so everything the child does lives here, with the worker.
        ``os._exit``, not ``sys.exit``: the child must not unwind through the
        master's stack frames (its ``finally`` blocks belong to the master).
        """
        exit_code = 0
        self.pid = os.getpid()
        try:
            self.forget_master_state(inherited)
            setproctitle.setproctitle(f"minigun: worker [{inherited.proc_name}]")
            self.log.info("Booting worker with pid: %s", self.pid)
            self.sockets = worker_listeners(self.cfg, self.sockets)  # reuse_port
            self.call_hook_or_raise("post_fork", self.cfg.post_fork, server, self)
            self.init_process()
        except SystemExit as leaving:
            exit_code = leaving.code if isinstance(leaving.code, int) else 1
        except Exception:
            self.log.exception("Exception in worker process")
            exit_code = 1 if self.booted else WORKER_BOOT_ERROR
        finally:
            self.log.info("Worker exiting (pid: %s)", self.pid)
            self.call_hook("worker_exit", self.cfg.worker_exit, server, self)
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(exit_code)

    def forget_master_state(self, inherited: Inheritance) -> None:
        """Drop what the fork copied from the master: its signal handlers, its
        wake-up pipe and the siblings' heartbeat files.

        This is the one reset of the signals in the child. Until the worker
        installs its own handlers, a stop signal stops it (the default action), and
        the signals only a master answers stay ignored for good: a USR1 sent to every
        worker must not kill one that is still booting, nor a TTIN a booted one. A
        worker must be able to touch only its own heartbeat file, so the siblings'
        are closed, with the master's pipe: the master lists them in ``inherited``
        (the new worker's own file is not among them: the master records it after
        the fork).
        """
        for sig in inherited.master_signals:
            booting = signal.SIG_IGN if sig in IGNORED_WHILE_BOOTING else signal.SIG_DFL
            signal.signal(sig, booting)
        # Blocked by the master across the fork (Arbiter.spawn_workers): a signal
        # sent meanwhile is delivered now, to the worker's own dispositions.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, inherited.master_signals)
        for master_file in inherited.master_files:
            master_file.close()

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
        self.wake_pipe = WakePipe()
        self.log.close_on_exec()
        self.init_signals()
        self.load_wsgi()
        self.start_reloader()
        # Raising here is a boot failure: exit 3, and the master halts.
        self.call_hook_or_raise("post_worker_init", self.cfg.post_worker_init, self)
        self.booted = True
        self.notify()  # the first notify also tells the master "booted"
        self.run()

    def load_ssl_context(self) -> None:
        """Read the certificate and key, if the listeners speak TLS (see sock)."""
        if self.cfg.is_ssl:
            self.ssl_context = ssl_context(self.cfg)

    def wrap_connection(self, sock: socket.socket) -> socket.socket:
        """The socket to serve: ``sock`` itself, or ``sock`` in TLS (no I/O yet)."""
        if self.ssl_context is None:
            return sock
        return ssl_wrap_socket(sock, self.ssl_context, self.cfg)

    def shake_hands(self, sock: socket.socket, peer_addr: SocketAddress) -> bool:
        """Finish the TLS handshake before the first request is read; ``False``
        if it failed or took longer than ``header_timeout`` (logged at debug:
        the client's doing). A plain connection has nothing to do."""
        if self.ssl_context is None:
            return True
        try:  # with a context, wrap_connection made it an ssl.SSLSocket
            ssl_handshake(cast("ssl.SSLSocket", sock), self.cfg)
        except OSError as error:
            self.log.debug(
                "TLS handshake with %s failed: %s", peer_text(peer_addr), error
            )
            return False
        return True

    def set_owner_and_umask(self) -> None:
        """Drop to the configured group and user (group first, while we still can)."""
        os.umask(self.cfg.umask)
        if self.cfg.gid is not None and self.cfg.gid != os.getgid():
            os.setgid(self.cfg.gid)
        if self.cfg.uid is not None and self.cfg.uid != os.getuid():
            os.setuid(self.cfg.uid)

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
            if not self.cfg.reload:
                raise SystemExit(
                    getattr(error, "exit_status", APP_LOAD_ERROR)
                ) from error
            # Under reload the fix is on its way: wait for it, answering 500.
            self.wsgi = app_that_failed_to_load
            self.load_failure_files = _files_of(error)

    def start_reloader(self) -> None:
        """Under ``reload``, watch the source files and restart when one changes
        (the files a failed load named among them, which are not imported)."""
        if not self.cfg.reload:
            return
        extra_files = [*self.cfg.reload_extra_files, *self.load_failure_files]
        self.reloader = create_reloader(
            self.cfg.reload_engine,
            self.reload_after_change,
            extra_files,
            warn=self.log.warning,
        )
        self.reloader.start()

    def reload_after_change(self, path: str) -> None:
        """A watched file changed (the reloader's thread): finish the request in
        hand and exit; the master forks a worker that imports the new code."""
        self.log.info("Worker reloading: %s modified", path)
        self.alive = False
        self.wakeup()

    def init_signals(self) -> None:
        """Install the worker's own handlers; the master's were reset at the fork."""
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

        The ``SystemExit`` is raised wherever the application was stuck, so it unwinds
        the application's own ``finally`` blocks on its way out.
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
        if self.wake_pipe is not None:  # None before init_process makes it
            self.wake_pipe.wake()

    def empty_wake_pipe(self) -> None:
        """Read every pending wake-up byte, so the next ``select`` blocks again."""
        assert self.wake_pipe is not None
        self.wake_pipe.drain()

    def call_hook(self, name: str, hook: Callable[..., object], *args: object) -> None:
        """Call ``hook``; one that raises is logged by ``name`` and does not kill us."""
        try:
            hook(*args)
        except Exception:
            self.log.exception("Exception in %s hook", name)

    def call_hook_or_raise(
        self, name: str, hook: Callable[..., object], *args: object
    ) -> None:
        """Call a hook whose failure must stop what it guards (post_fork and
        post_worker_init: the boot; pre_request: the request). The log names the
        hook in one line; the caller's handler logs the traceback and decides."""
        try:
            hook(*args)
        except Exception as error:
            self.log.error("Exception in %s hook: %r", name, error)
            raise

    def is_parent_alive(self) -> bool:
        """A worker whose master died is reparented: its parent pid changes."""
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            return False
        return True

    # Serving a connection: the path every worker class shares (workers/handler).

    def handle(
        self,
        listener: BaseSocket,
        sock: socket.socket,
        peer_addr: SocketAddress,
        exchange: Exchange | None = None,
    ) -> bool:
        """Read the next request from ``sock`` and answer it; ``True`` if the
        connection may carry the client's next request.

        The request path is :class:`~minigun.workers.handler.RequestHandler`'s, the
        decisions the connection's :class:`~minigun.http.exchange.Exchange`'s.
        ``exchange`` is the connection's own when it outlives one request (the
        gthread worker keeps one per kept-alive connection); without it a new one
        reads the one request of the connection.
        """
        assert self.wsgi is not None, "load_wsgi() comes before the first request"
        if exchange is None:
            exchange = open_exchange(self, sock, peer_addr)
        if self.request_handler is None:  # one for the worker's life, as its app
            self.request_handler = RequestHandler(self, self.wsgi)
        return self.request_handler.handle(listener, sock, peer_addr, exchange)

    def client_wait_limit(self) -> float | None:
        """The longest one wait for a client may last: half the master's
        ``timeout``, so a client that stalls is answered 408 by the worker before
        the master takes the silence for a stuck worker and kills it."""
        return self.timeout / 2 if self.timeout > 0 else None

    def note_request_in_hand(self, req: Request | None) -> None:
        """Remember the request the main thread serves, for :meth:`handle_abort`.

        Python runs signal handlers in the main thread, so the ``SystemExit`` that
        ``ABRT`` raises interrupts the request that thread is serving, and only
        that one is worth naming. A request in a pool thread (gthread) is not the
        one it interrupts.
        """
        if threading.current_thread() is threading.main_thread():
            self.request_in_hand = req

    def count_request(self) -> None:
        """Count the request; at ``max_requests`` the worker stops after it.

        The lock is for the gthread worker, whose pool threads count at the same
        time; the wake-up tells a loop asleep in ``select`` at once.
        """
        with self.count_lock:
            self.requests_served += 1
            retiring = self.alive and self.requests_served >= self.max_requests
            if retiring:
                self.alive = False
        if retiring:
            self.log.info("Autorestarting worker after current request.")
            self.wakeup()

    def keeps_connection_open(self) -> bool:
        """Whether this response may promise an open connection (gthread's may)."""
        return False

    # Stopping: the connections already queued.

    def drain_backlog(self) -> None:
        """After ``TERM``: take the connections already queued on the listeners,
        until every queue is empty or the stop deadline has passed (without ``TERM``,
        no deadline: nothing).
        """
        accepted = 0
        for listener in self.sockets:
            while self.has_time_to_drain() and self.accept_and_serve(listener):
                accepted += 1
        if accepted:
            self.log.info("Accepted %s queued connection(s) before exiting", accepted)

    def has_time_to_drain(self) -> bool:
        """Whether the stop deadline that ``TERM`` set is still ahead."""
        return self.stop_deadline is not None and time.monotonic() < self.stop_deadline

    def accept_and_serve(self, listener: BaseSocket) -> bool:
        """Take one connection queued on ``listener`` and serve it (or hand it to
        whoever will); ``False`` if the queue was empty.

        Each worker class accepts in its own way; :meth:`drain_backlog` needs it.
        """
        raise NotImplementedError("a worker class that drains implements this")


def _files_of(error: BaseException) -> list[str]:
    """The source files an import error points at: the file with the syntax
    error, and every file in the traceback (a module that failed to import is not
    in ``sys.modules``, so the reloader would not otherwise watch it)."""
    files: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(files) < MAX_WATCHED_FROM_ERROR:
        if isinstance(cause, SyntaxError) and cause.filename:
            files.append(cause.filename)
        files += [f.filename for f in traceback.extract_tb(cause.__traceback__)]
        cause = cause.__cause__ or cause.__context__
    return [path for path in dict.fromkeys(files) if os.path.isfile(path)]


def app_that_failed_to_load(
    environ: wsgi.Environ, start_response: wsgi.StartResponse
) -> list[bytes]:
    """What a worker serves under ``reload`` while its application cannot load.

    The reason is in the error log, not in the response: a traceback tells a
    client more about the server than it should know.
    """
    body = b"The application failed to load; the error log says why.\n"
    start_response(
        "500 Internal Server Error",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _error_paragraph(error: BaseException) -> str:
    """A minigun error's message alone; anyone else's with its traceback."""
    if isinstance(error, AppImportError):
        return str(error)
    buffer = io.StringIO()
    traceback.print_exception(error, file=buffer)
    return buffer.getvalue().rstrip()
