"""The arbiter: the master process that keeps the right workers alive.

The chapter's question: how does one process keep N others serving, through crashes,
hangs, reloads and upgrades, without ever serving a request itself? The arbiter binds
the listeners, forks the workers, and then only *manages*: its loop sleeps until a
signal or a timer wakes it, reaps dead children, kills silent ones and spawns
replacements.

Rules of the master:

- A signal handler does nothing but put the signal in a queue and wake the loop
  (:meth:`Arbiter.signal`); the loop then runs the handler named in one table,
  :meth:`Arbiter.signal_table`. Nothing complicated ever runs inside a handler.
- Workers are plain children: ``SIGCHLD`` means "call ``waitpid``"
  (:meth:`Arbiter.reap_workers`), a dead worker is replaced by
  :meth:`Arbiter.manage_workers`.
- What the master knows about a child is its own record (:class:`WorkerRecord`):
  a fork copies, so nothing the child does to its worker object comes back. What
  happens in the child is the worker's code (:meth:`Worker.run_in_child
  <minigun.workers.base.Worker.run_in_child>`); this module holds only what the
  master does.
- A worker that exits with ``WORKER_BOOT_ERROR`` (3) or an app load error (4 to 6,
  :mod:`minigun.errors`) would fail again if respawned: the master halts once with
  the reason, and with the worker's code as its own exit status.
- Every worker belongs to a *generation*. A reload (``HUP``) starts a new one and
  retires an old worker only after a new one has booted, so capacity never drops.
- The only way out is :meth:`Arbiter.halt`, which raises ``SystemExit``.

Where minigun goes beyond gunicorn, and why:

- HUP keeps capacity: an old worker retires only when a new one has booted (its
  first heartbeat), and a new version that cannot load leaves the old workers
  serving with the old configuration, instead of halting the server.
- TERM loses no queued client: workers drain the listen backlog before they exit
  (:mod:`minigun.workers.sync`), where gunicorn resets those connections.
- A timed-out worker gets ``abort_grace`` seconds for its ``worker_abort`` hook
  before SIGKILL; a retired worker gets ``graceful_timeout``.
"""

from __future__ import annotations

import contextlib
import enum
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import setproctitle

from minigun import __version__, reloader, sock, systemd, util
from minigun.app.base import BaseApplication
from minigun.backoff import RespawnBackoff
from minigun.config import Config
from minigun.errors import BOOT_FAILURES, ConfigError, HaltServer
from minigun.glogging import Logger
from minigun.pidfile import Pidfile
from minigun.wakepipe import WakePipe
from minigun.workers.base import Closable, Inheritance, Worker
from minigun.workers.workertmp import WorkerTmp

MASTER_TICK = 1.0  # seconds the loop sleeps when nothing happens
WAKE_SLACK = 0.01  # seconds past a deadline the loop wakes, so the deadline has passed
STOP_POLL = 0.1  # seconds between checks while waiting for workers to stop
MAX_QUEUED_SIGNALS = 5  # more would only repeat what the loop will do anyway
# USR2: how a new master learns about its parent and inherits the listeners.
ENV_FDS = "MINIGUN_FD"
ENV_PID = "MINIGUN_PID"


class Stop(enum.Enum):
    """What a signal means for the workers it stops."""

    GRACEFUL = "graceful: the request in hand finishes"
    QUICK = "quick: workers leave at once"
    NONE = "stops nothing"


@dataclass(frozen=True)
class SignalAction:
    """One row of the signal table: what the master does on a signal."""

    handler: Callable[[], None]
    stop: Stop
    meaning: str


@dataclass
class WorkerRecord:
    """The master's ledger entry for one child: what it knows of it and has asked.

    The hooks the master calls still get ``worker`` itself, the object the child was
    forked from, with its ``pid`` set: gunicorn's hooks receive a worker, not a record.
    """

    pid: int
    worker: Worker
    generation: int  # the configuration (HUP) it was started with
    spawned_at: float  # on time.time(): its last sign of life until it beats
    booted: bool = False  # its first heartbeat was seen
    abort_deadline: float | None = None  # SIGKILL after this, once aborted
    retire_deadline: float | None = None  # SIGKILL after this, once TERMed

    @property
    def age(self) -> int:
        """The order of its fork: the oldest workers are retired first."""
        return self.worker.age

    @property
    def tmp(self) -> WorkerTmp:
        """The heartbeat file, the one thing master and child share after the fork."""
        return self.worker.tmp

    @property
    def aborted(self) -> bool:
        """Whether the master has sent it ABRT for a timeout."""
        return self.abort_deadline is not None

    def last_sign_of_life(self) -> float:
        """Its last heartbeat, or its fork while it boots and has not beaten yet
        (on ``time.time()``, the heartbeat file's clock)."""
        return max(self.tmp.last_update(), self.spawned_at)


class Arbiter:
    """The master process. ``Arbiter(app).run()`` never returns."""

    def __init__(self, app: BaseApplication) -> None:
        self.pid = os.getpid()
        self.log: Logger = app.cfg.logger_class(app.cfg)
        self.workers: dict[int, WorkerRecord] = {}  # pid to the master's record
        self.listeners: list[sock.BaseSocket] = []
        self.pidfile: Pidfile | None = None
        self.signal_queue: deque[int] = deque()
        self.wake_pipe: WakePipe | None = None  # made by init_signals
        self.worker_age = 0
        self.generation = 0
        self.boot_failures: list[tuple[WorkerRecord, int]] = []
        self.backoff = RespawnBackoff(time.monotonic)
        self.previous_cfg: Config | None = None  # the config before the last HUP
        self.stopping = False
        self.num_workers = 0  # how many current-generation workers to keep alive
        self.reported_worker_count: int | None = None  # the last "N workers" logged
        self.reexec_pid = 0  # the new master we forked on USR2
        self.master_pid = 0  # our old master, if we are the new one of a USR2
        self.master_name = "Master"
        self.systemd = False
        self.start_dir = util.getcwd()  # $PWD, symlinks kept: USR2 re-execs there
        self.setup(app)
        self.change_num_workers(self.cfg.workers, first=True)
        self.signal_handlers = self.signal_table()

    def signal_table(self) -> dict[signal.Signals, SignalAction]:
        """Every signal the master handles, its handler, and how it stops workers."""
        row = SignalAction
        # fmt: off
        return {
            signal.SIGHUP:   row(self.handle_hup,   Stop.GRACEFUL, "reload"),
            signal.SIGTERM:  row(self.handle_term,  Stop.GRACEFUL, "shut down"),
            signal.SIGINT:   row(self.handle_int,   Stop.QUICK,    "shut down now"),
            signal.SIGQUIT:  row(self.handle_quit,  Stop.QUICK,    "shut down now"),
            signal.SIGTTIN:  row(self.handle_ttin,  Stop.NONE,     "one worker more"),
            signal.SIGTTOU:  row(self.handle_ttou,  Stop.GRACEFUL, "one worker fewer"),
            signal.SIGUSR1:  row(self.handle_usr1,  Stop.NONE,     "reopen the logs"),
            signal.SIGUSR2:  row(self.handle_usr2,  Stop.NONE,     "exec a new master"),
            signal.SIGWINCH: row(self.handle_winch, Stop.GRACEFUL, "daemon: stop all"),
            signal.SIGCHLD:  row(self.handle_chld,  Stop.NONE,     "reap children"),
        }
        # fmt: on

    def setup(self, app: BaseApplication) -> None:
        """Take the settings of ``app.cfg``: at start-up, on every HUP, and when a
        reload is rolled back (:meth:`restore_config`).

        The one place the master's ``self.cfg`` changes; what the master derives from
        it (the logs, the worker class) is rebuilt here, with it.
        """
        self.app = app
        self.cfg = app.cfg
        if self.log.cfg is not self.cfg:  # a new config: rebuild the logs from it
            self.log.setup(self.cfg)
        self.worker_class: type[Worker] = self.cfg.worker_class
        # A worker class written for gunicorn (uvicorn's) may lack the hook
        check_config = getattr(self.worker_class, "check_config", None)
        if check_config is not None:
            check_config(self.cfg, self.log)
        if self.cfg.reload:
            self.check_reload_engine()
        # raw_env in the master's own environment, before a preloaded app reads it
        # at import (the workers inherit it; they set it again, for a HUP's new one)
        os.environ.update(self.cfg.env)
        if self.cfg.preload_app:
            self.app.wsgi()

    def check_reload_engine(self) -> None:
        """Under ``reload``, log how the workers will watch the code.

        Checked here, once, rather than in each worker: ``inotify`` asked for by
        name and unable to run is a :class:`ConfigError` (one line and exit 1 at
        start-up; a HUP is rolled back), never workers failing to boot one by one.
        """
        try:
            choice = reloader.check_engine(self.cfg.reload_engine)
        except reloader.EngineUnavailable as error:
            raise ConfigError(
                f"reload_engine is 'inotify', but inotify cannot run here: {error}"
            ) from None
        self.log.info("Reload engine: %s (%s)", choice.engine, choice.reason)

    def change_num_workers(self, value: int, first: bool = False) -> None:
        """Keep ``value`` workers from now on, and tell the ``nworkers_changed`` hook.

        Called by name wherever the number is decided (``first``: at start-up, the old
        value is ``None``), even when a HUP keeps the number or is rolled back.
        """
        old_value = None if first else self.num_workers
        self.num_workers = value
        self.call_hook(
            "nworkers_changed", self.cfg.nworkers_changed, self, value, old_value
        )

    # Hooks. Which failures abort: in the master, on_starting, when_ready and
    # pre_fork (call_startup_hook: logged by name, then the master halts); in the
    # child, post_fork and post_worker_init (Worker.call_hook_or_raise: the worker
    # fails to boot, exit 3); pre_request, in the child, fails only its request
    # (500). Any other hook that raises is logged by name and the server carries
    # on. The full table: book/hooks-timeline.md.

    def call_hook(self, name: str, hook: Callable[..., object], *args: object) -> None:
        """Call ``hook``; one that raises is logged by ``name`` and ignored."""
        try:
            hook(*args)
        except Exception:
            self.log.exception("Exception in %s hook", name)

    def call_startup_hook(
        self, name: str, hook: Callable[..., object], *args: object
    ) -> None:
        """Call a start-up hook; if it raises, the server does not start."""
        try:
            hook(*args)
        except Exception as error:
            self.log.exception("Exception in %s hook", name)
            raise HaltServer(f"{name} hook failed: {error}") from error

    # The main loop.

    def run(self) -> None:
        """Start, then loop: handle signals, sleep, kill the silent, fill the gaps."""
        try:
            self.start()
            setproctitle.setproctitle(f"minigun: master [{self.cfg.proc_name}]")
            self.manage_workers()
            while True:
                self.maybe_promote_master()
                self.handle_queued_signals()
                self.sleep()
                self.notice_booted_workers()
                self.murder_workers()
                self.manage_workers()
        except HaltServer as halt:
            self.halt(reason=halt.reason, exit_status=halt.exit_status)
        except KeyboardInterrupt:
            self.halt(graceful=False)
        except SystemExit:
            raise
        except Exception:
            self.log.exception("Unhandled exception in main loop")
            self.halt(reason="Unhandled exception in main loop", exit_status=1)

    def start(self) -> None:
        """Bind, write the pidfile, and announce ourselves; no worker exists yet.

        ``on_starting`` and ``when_ready`` raising aborts the start-up: a server
        whose start-up hook failed is not one the operator asked for.
        """
        self.log.info("Starting minigun %s", __version__)
        self.call_startup_hook("on_starting", self.cfg.on_starting, self)
        self.init_signals()
        fds = self.inherited_fds()
        if self.cfg.pidfile:
            self.pidfile = Pidfile(self.pidfile_name(self.cfg.pidfile))
            self.pidfile.create(self.pid)
        if not self.listeners:
            self.listeners = sock.create_sockets(self.cfg, self.log, fds)
        listening = ",".join(str(listener) for listener in self.listeners)
        self.log.info("Listening at: %s (%s)", listening, self.pid)
        self.log.info("Using worker: %s", self.cfg.worker_class_str)
        self.call_startup_hook("when_ready", self.cfg.when_ready, self)

    def inherited_fds(self) -> list[int] | None:
        """Listener descriptors handed down by an old master (USR2) or systemd."""
        if ENV_FDS in os.environ:
            self.master_pid = int(os.environ.pop(ENV_PID, "0"))
            self.master_name = "Master (new)" if self.master_pid else "Master"
            return [int(fd) for fd in os.environ.pop(ENV_FDS).split(",") if fd]
        fds = systemd.listen_fds()
        self.systemd = fds is not None  # the socket files are systemd's to remove
        return fds

    def pidfile_name(self, pidfile: str) -> str:
        """A new master writes ``<pidfile>.2`` until its old master is gone."""
        return f"{pidfile}.2" if self.master_pid else pidfile

    def init_signals(self) -> None:
        """Make the wake-up pipe and route every signal in the table to the queue."""
        self.wake_pipe = WakePipe()
        for sig in self.signal_handlers:
            signal.signal(sig, self.signal)

    def signal(self, sig: int, frame: FrameType | None) -> None:
        """The one handler for every signal: enqueue it and wake the loop."""
        # exercise: signal-queue
        if len(self.signal_queue) < MAX_QUEUED_SIGNALS:
            self.signal_queue.append(sig)
        # end-exercise: signal-queue
        self.wakeup()

    def wakeup(self) -> None:
        """Write a byte to the pipe the loop sleeps on, so ``select`` returns."""
        if self.wake_pipe is not None:
            self.wake_pipe.wake()

    def sleep(self) -> None:
        """Wait for a wake-up byte, or until the loop has something to do by itself
        (:meth:`sleep_seconds`), whichever comes first.

        A signal's byte ends the wait at once, so a master that is backing off from a
        crash loop still answers ``TERM`` straight away.
        """
        assert self.wake_pipe is not None
        self.wake_pipe.wait(self.sleep_seconds())

    def sleep_seconds(self) -> float:
        """``MASTER_TICK``, or less when a deadline comes sooner: the end of a respawn
        back-off, or the moment a worker's heartbeat goes stale (so a timed-out
        request is answered at about ``timeout``, not up to a tick later)."""
        waits = [MASTER_TICK]
        if self.backoff.seconds_left() > 0:
            waits.append(self.backoff.seconds_left())
        timeout = self.cfg.timeout
        if timeout > 0:
            now = time.time()
            for record in self.workers.values():
                if not record.aborted:
                    waits.append(record.last_sign_of_life() + timeout - now)
        return max(0.0, min(waits)) + WAKE_SLACK

    def handle_queued_signals(self) -> None:
        """Run the table's handler for each queued signal, in arrival order; the
        log line says what the table says of it (its meaning, how it stops)."""
        while self.signal_queue:
            sig = signal.Signals(self.signal_queue.popleft())
            action = self.signal_handlers[sig]
            if sig != signal.SIGCHLD:
                name = sig.name[len("SIG") :].lower()
                self.log.info(
                    "Handling signal: %s (%s; %s)",
                    name,
                    action.meaning,
                    action.stop.value,
                )
            action.handler()

    # The signal handlers, in the table's order.

    def handle_hup(self) -> None:
        self.log.info("Hang up: %s", self.master_name)
        self.reload()

    def handle_term(self) -> None:
        self.halt()

    def handle_int(self) -> None:
        self.halt(graceful=False)

    def handle_quit(self) -> None:
        self.halt(graceful=False)

    def handle_ttin(self) -> None:
        self.change_num_workers(self.num_workers + 1)
        self.manage_workers()

    def handle_ttou(self) -> None:
        """One worker fewer, but never fewer than one: TTOU is not a shutdown."""
        if self.num_workers <= 1:
            self.log.info("TTOU ignored: already at one worker")
            return
        self.change_num_workers(self.num_workers - 1)
        self.manage_workers()

    def handle_usr1(self) -> None:
        """Reopen the master's log files, then ask every worker to do the same."""
        self.log.reopen_files()
        self.kill_workers(signal.SIGUSR1)

    def handle_usr2(self) -> None:
        self.reexec()

    def handle_winch(self) -> None:
        """Daemonized, WINCH stops every worker but keeps the listeners (USR2's
        step two); in the foreground it is only a terminal being resized."""
        if not self.cfg.daemon:
            self.log.info("SIGWINCH ignored. Not daemonized")
            return
        self.log.info("graceful stop of workers")
        self.change_num_workers(0)
        self.kill_workers(signal.SIGTERM)

    def handle_chld(self) -> None:
        self.reap_workers()

    # Shutting down.

    def halt(
        self, reason: str | None = None, exit_status: int = 0, graceful: bool = True
    ) -> None:
        """Stop the workers, clean up, and leave the process: the master's only exit."""
        self.stop(graceful)
        self.log.info("Shutting down: %s", self.master_name)
        if reason is not None:
            log_reason = self.log.error if exit_status else self.log.info
            log_reason("Reason: %s", reason)
        if self.pidfile is not None:
            self.pidfile.unlink()
        self.call_hook("on_exit", self.cfg.on_exit, self)
        raise SystemExit(exit_status)

    def stop(self, graceful: bool = True) -> None:
        """Stop every worker: TERM (graceful) or QUIT (quick), SIGKILL at the deadline.

        The master closes its copy of the listeners first; the workers keep theirs
        until they have drained the backlog (see :mod:`minigun.workers.sync`). An
        INT or QUIT arriving during a graceful wait turns it quick.
        """
        self.stopping = True
        # The socket file is not ours to remove when another master will serve
        # on it (USR2, either side), when systemd owns it, or when, with
        # reuse_port, another server may have bound the same path.
        keep_unix_files = bool(
            self.reexec_pid or self.master_pid or self.systemd or self.cfg.reuse_port
        )
        sock.close_sockets(self.listeners, unlink=not keep_unix_files)
        self.listeners = []
        # exercise: graceful-stop
        deadline = time.monotonic() + self.cfg.graceful_timeout
        self.kill_workers(signal.SIGTERM if graceful else signal.SIGQUIT)
        while self.workers and time.monotonic() < deadline:
            if self.quick_stop_requested() and graceful:
                graceful = False
                self.kill_workers(signal.SIGQUIT)
            time.sleep(STOP_POLL)
            self.reap_workers()
        self.kill_workers(signal.SIGKILL)
        # end-exercise: graceful-stop
        self.reap_workers()

    def quick_stop_requested(self) -> bool:
        """Whether an INT or QUIT arrived while we wait for a graceful stop.

        Takes every queued signal: the SIGCHLDs of exiting workers must not fill
        the bounded queue and crowd out an INT, and nothing else means anything
        to a master that is stopping.
        """
        queued = [self.signal_queue.popleft() for _ in range(len(self.signal_queue))]
        return signal.SIGINT in queued or signal.SIGQUIT in queued

    # USR2 and HUP.

    def reexec(self) -> None:
        """Fork and exec a new master that inherits our listeners (USR2).

        Both masters serve until the operator TERMs one of them. The new one writes
        ``<pidfile>.2`` and takes over the pidfile's name when we are gone.
        """
        if self.reexec_pid:
            self.log.warning("USR2 signal ignored. Child exists.")
            return
        if self.master_pid:
            self.log.warning("USR2 signal ignored. Parent exists.")
            return
        master_pid = os.getpid()
        self.reexec_pid = os.fork()
        if self.reexec_pid:
            return
        self.call_hook("pre_exec", self.cfg.pre_exec, self)
        # exercise: reexec
        environ = dict(os.environ)
        environ[ENV_PID] = str(master_pid)
        environ[ENV_FDS] = ",".join(
            str(listener.fileno()) for listener in self.listeners
        )
        for listener in self.listeners:
            os.set_inheritable(listener.fileno(), True)
        os.chdir(self.start_dir)
        # end-exercise: reexec
        try:
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
        except OSError:
            self.log.exception("USR2: could not exec the new master")
            os._exit(1)

    def maybe_promote_master(self) -> None:
        """A new master whose old master exited becomes *the* master: it takes the
        pidfile's name. We notice because we were reparented."""
        if not self.master_pid or self.master_pid == os.getppid():
            return
        self.log.info("Master has been promoted.")
        self.master_name = "Master"
        self.master_pid = 0
        if self.pidfile is not None and self.cfg.pidfile is not None:
            self.pidfile.rename(self.cfg.pidfile)
        setproctitle.setproctitle(f"minigun: master [{self.cfg.proc_name}]")

    def reload(self) -> None:
        """HUP: re-read the configuration, then start a new generation of workers.

        The old generation is retired by :meth:`retire_old_generation` as the new
        workers boot; if the new configuration cannot be used, or the new
        application cannot be loaded, the old workers keep serving with the old
        configuration (:meth:`restore_config`, :meth:`roll_back_reload`).
        """
        old_address = self.cfg.address
        self.previous_cfg = self.cfg
        try:
            # exercise: hup-reload
            self.app.reload()
            self.setup(self.app)
            self.log.reopen_files()
            if self.cfg.address != old_address:
                self.rebind()
            self.generation += 1
            # end-exercise: hup-reload
        except Exception:
            self.log.exception("Reload failed; the old workers keep serving")
            self.restore_config()
            return
        self.change_num_workers(self.cfg.workers)
        self.call_hook("on_reload", self.cfg.on_reload, self)
        setproctitle.setproctitle(f"minigun: master [{self.cfg.proc_name}]")
        self.manage_workers()

    def restore_config(self) -> None:
        """Go back to the configuration from before the last HUP, and its number of
        workers, and take its settings again (:meth:`setup`), so that master and
        application never disagree.
        """
        if self.previous_cfg is not None:
            self.app.cfg = self.previous_cfg
            self.setup(self.app)
        self.change_num_workers(self.cfg.workers)

    def rebind(self) -> None:
        """Bind the new addresses, then let go of the old ones (so a bind that fails
        leaves the master as it was). Old workers keep serving on the old sockets,
        which close for good when the last of them exits."""
        listeners = sock.create_sockets(self.cfg, self.log)
        sock.close_sockets(self.listeners)
        self.listeners = listeners
        listening = ",".join(str(listener) for listener in self.listeners)
        self.log.info("Listening at: %s", listening)

    # Keeping the right workers alive.

    def manage_workers(self) -> None:
        """Spawn or retire current-generation workers to match ``num_workers``."""
        # exercise: manage-workers
        current = self.active_workers(self.generation)
        if len(current) < self.num_workers:
            self.spawn_workers(self.num_workers - len(current))
        for record in current[: max(0, len(current) - self.num_workers)]:
            self.retire_worker(record)
        # end-exercise: manage-workers
        self.retire_old_generation()
        self.report_worker_count()

    def report_worker_count(self) -> None:
        """Log the number of worker processes when it changes, with the
        ``gunicorn.workers`` gauge in ``extra`` for an instrumenting logger."""
        count = len(self.workers)
        if count == self.reported_worker_count:
            return
        self.reported_worker_count = count
        gauge = {"metric": "gunicorn.workers", "value": count, "mtype": "gauge"}
        self.log.debug("%d workers", count, extra=gauge)

    def active_workers(self, generation: int) -> list[WorkerRecord]:
        """The workers of ``generation`` not yet asked to leave, oldest first."""
        return [r for r in self.serving() if r.generation == generation]

    def serving(self) -> list[WorkerRecord]:
        """Every worker not yet asked to leave, of any generation, oldest first."""
        records = [r for r in self.workers.values() if r.retire_deadline is None]
        return sorted(records, key=lambda record: record.age)

    def retire_old_generation(self) -> None:
        """Retire old-generation workers one for one as new ones finish booting."""
        booted = sum(r.booted for r in self.active_workers(self.generation))
        old = [r for r in self.serving() if r.generation < self.generation]
        keep = max(0, self.num_workers - booted)
        for record in old[: max(0, len(old) - keep)]:
            self.retire_worker(record)

    def spawn_workers(self, count: int) -> None:
        """Fork ``count`` workers, unless the master is backing off from a crash
        loop: then the gap stays open, and the loop's :meth:`sleep` ends when the
        back-off does, so the next :meth:`manage_workers` fills it.

        The master's signals are blocked across the forks: a ``TERM`` that reaches a
        new child before it has dropped the master's handlers would otherwise run
        the master's handler there and be lost, and the worker would serve on. The
        child unblocks them once it has reset them
        (:meth:`~minigun.workers.base.Worker.forget_master_state`)."""
        if self.backoff.seconds_left() > 0:
            return
        signal.pthread_sigmask(signal.SIG_BLOCK, self.signal_handlers)
        try:
            for _ in range(count):
                self.spawn_worker()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self.signal_handlers)

    def spawn_worker(self) -> int:
        """Fork one worker and record it; the child never comes back from here."""
        self.worker_age += 1
        worker = self.worker_class(
            self.worker_age,
            self.pid,
            self.listeners,
            self.app,
            self.cfg.timeout,
            self.cfg,
            self.log,
        )
        # exercise: hook-calls
        self.call_startup_hook("pre_fork", self.cfg.pre_fork, self, worker)
        pid = os.fork()
        if pid != 0:
            worker.pid = pid
            self.workers[pid] = WorkerRecord(pid, worker, self.generation, time.time())
            return pid
        # end-exercise: hook-calls
        # post_fork, boot, serve, exit: never returns
        worker.run_in_child(self, self.inheritance())

    def inheritance(self) -> Inheritance:
        """What a new child is handed, explicitly: it reads nothing else of ours.

        Called in the child right after the fork, so the siblings it lists are
        exactly those the fork copied (the child itself is not recorded yet).
        """
        files: list[Closable] = [record.tmp for record in self.workers.values()]
        if self.wake_pipe is not None:
            files.append(self.wake_pipe)
        return Inheritance(
            proc_name=self.cfg.proc_name,
            master_signals=tuple(self.signal_handlers),
            master_files=tuple(files),
        )

    def notice_booted_workers(self) -> None:
        """A worker's first heartbeat means it has booted: note it, tell the hook,
        and let the old generation shrink (:meth:`retire_old_generation`)."""
        for record in list(self.workers.values()):
            if not record.booted and record.tmp.has_notified():
                record.booted = True
                self.call_hook(
                    "worker_ready", self.cfg.worker_ready, self, record.worker
                )

    def murder_workers(self) -> None:
        """Abort workers silent for ``timeout`` seconds (``timeout = 0``: never);
        SIGKILL those that outlive their grace period."""
        timeout = self.cfg.timeout
        for record in list(self.workers.values()):
            # exercise: murder-workers
            silent_for = time.time() - record.last_sign_of_life()
            if timeout > 0 and silent_for > timeout and not record.aborted:
                self.abort_worker(record)
            # end-exercise: murder-workers
            self.kill_lingering(record)

    def abort_worker(self, record: WorkerRecord) -> None:
        """SIGABRT a silent worker: its ``worker_abort`` hook gets ``abort_grace``
        seconds before :meth:`kill_lingering` sends SIGKILL."""
        self.log.critical("WORKER TIMEOUT (pid:%s)", record.pid)
        record.abort_deadline = time.monotonic() + self.cfg.abort_grace
        self.kill_worker(record.pid, signal.SIGABRT)

    def kill_lingering(self, record: WorkerRecord) -> None:
        """SIGKILL a worker past its deadline: aborted, or retired and still busy."""
        deadlines = (record.abort_deadline, record.retire_deadline)
        now = time.monotonic()
        if any(deadline is not None and now >= deadline for deadline in deadlines):
            self.log.warning(
                "Worker (pid:%s) did not stop in time: SIGKILL", record.pid
            )
            self.kill_worker(record.pid, signal.SIGKILL)

    def retire_worker(self, record: WorkerRecord) -> None:
        """Ask one worker to finish its request and leave (TERM)."""
        record.retire_deadline = time.monotonic() + self.cfg.graceful_timeout
        self.kill_worker(record.pid, signal.SIGTERM)

    def kill_workers(self, sig: int) -> None:
        for pid in list(self.workers):
            self.kill_worker(pid, sig)

    def kill_worker(self, pid: int, sig: int) -> None:
        """Send ``sig`` to one worker; one that is already gone will be reaped."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    # Reaping.

    def reap_workers(self) -> None:
        """Collect every child that has exited, without blocking (SIGCHLD)."""
        # exercise: reap-workers
        while (child := self.wait_child()) is not None:
            pid, status = child
            record = self.workers.pop(pid, None)
            if record is not None:
                self.on_worker_exit(record, status)
            elif pid == self.reexec_pid:
                self.reexec_pid = 0
                self.log.info("The new master (pid: %s) has exited", pid)
        # end-exercise: reap-workers
        self.raise_if_boot_failed()

    @staticmethod
    def wait_child() -> tuple[int, int] | None:
        """One exited child as ``(pid, status)``, or ``None`` if none is waiting."""
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        return (pid, status) if pid else None

    def on_worker_exit(self, record: WorkerRecord, status: int) -> None:
        """Log how the worker ended, note a boot failure, call ``child_exit``."""
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            self.log_killed_worker(record, -code)
        elif code:
            self.log.error("Worker (pid:%s) exited with code %s", record.pid, code)
        if code in BOOT_FAILURES:
            self.boot_failures.append((record, code))
        elif code and self.died_unasked(record):
            self.back_off_if_crash_looping(record)
        record.tmp.close()
        self.call_hook("child_exit", self.cfg.child_exit, self, record.worker)

    def died_unasked(self, record: WorkerRecord) -> bool:
        """Whether a worker's exit was its own doing, not a stop we asked for."""
        asked = record.retire_deadline is not None or record.aborted
        return not (asked or self.stopping)

    def back_off_if_crash_looping(self, record: WorkerRecord) -> None:
        """Count the crash; if workers keep dying young, say so and wait."""
        lifetime = max(0.0, time.time() - record.spawned_at)
        delay = self.backoff.crashed(lifetime)
        if delay:
            self.log.warning(
                "Workers keep dying young (pid:%s lived %.1f s, %s crashes in a row):"
                " backing off, the next worker starts in %.1f s",
                record.pid,
                lifetime,
                self.backoff.crashes,
                delay,
            )

    def log_killed_worker(self, record: WorkerRecord, signum: int) -> None:
        """A signal we sent (retiring, stopping, timeout) is news; any other is an
        error, and a SIGKILL nobody here sent is usually the kernel's OOM killer.

        (``signum`` is an ``int`` because, in this class, ``signal`` is the name of
        the master's handler, which hides the module in an annotation.)"""
        name = signal.Signals(signum).name
        if not self.died_unasked(record):
            self.log.info("Worker (pid:%s) was sent %s!", record.pid, name)
            return
        self.log.error("Worker (pid:%s) was sent %s!", record.pid, name)
        if signum == signal.SIGKILL:
            self.log.error("Perhaps out of memory?")

    def raise_if_boot_failed(self) -> None:
        """Halt on a boot failure, unless a reload failed while old workers serve:
        then the reload is undone (:meth:`roll_back_reload`) and nothing is
        respawned from the broken version."""
        failures, self.boot_failures = self.boot_failures, []
        if not failures or self.stopping:
            return
        record, code = failures[0]
        if not any(r.generation < record.generation for r in self.workers.values()):
            raise HaltServer(BOOT_FAILURES[code], code)
        self.log.error(
            "Reload failed (%s) Old workers keep serving.", BOOT_FAILURES[code]
        )
        self.roll_back_reload(record.generation)

    def roll_back_reload(self, failed: int) -> None:
        """Abandon generation ``failed``, which cannot boot: kill its workers, make
        the old ones current again, and go back to the old configuration (its
        number of workers, for one)."""
        for record in self.active_workers(failed):
            self.kill_worker(record.pid, signal.SIGKILL)
        old = [r for r in self.workers.values() if r.generation < failed]
        self.generation = max(record.generation for record in old)
        for record in old:
            record.generation = self.generation
        self.restore_config()
