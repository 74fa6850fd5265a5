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
import select
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import setproctitle

from minigun import __version__, sock
from minigun.config import Config
from minigun.errors import (
    APP_FACTORY_ERROR,
    APP_LOAD_ERROR,
    APP_NOT_FOUND,
    WORKER_BOOT_ERROR,
    HaltServer,
)
from minigun.glogging import Logger
from minigun.pidfile import Pidfile
from minigun.workers.base import Worker

MASTER_TICK = 1.0  # seconds the loop sleeps when nothing happens
WAKE_SLACK = 0.01  # seconds past a deadline the loop wakes, so the deadline has passed
# Crash loops: a worker that dies young is replaced after a growing delay.
FIRST_RESPAWN_DELAY = 0.1  # seconds; doubled for every young crash in a row
MAX_RESPAWN_DELAY = 5.0  # seconds; the delay grows no further
STABLE_LIFETIME = 10.0  # seconds: a worker that lived this long was not crash-looping
STOP_POLL = 0.1  # seconds between checks while waiting for workers to stop
MAX_QUEUED_SIGNALS = 5  # more would only repeat what the loop will do anyway
WAKE_BYTE = b"."
# USR2: how a new master learns about its parent and inherits the listeners.
ENV_FDS = "MINIGUN_FD"
ENV_PID = "MINIGUN_PID"
SYSTEMD_FIRST_FD = 3  # sd_listen_fds(3): inherited sockets start at descriptor 3
BOOT_FAILURES = {
    WORKER_BOOT_ERROR: "Worker failed to boot.",
    APP_LOAD_ERROR: "App failed to load.",
    APP_NOT_FOUND: "App failed to load: no such application object.",
    APP_FACTORY_ERROR: "App failed to load: the app factory failed.",
}


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


class RespawnBackoff:
    """How long the master waits before it replaces workers that keep dying young.

    A worker that exits by itself with an error soon after it was forked (it crashes
    while importing the app, say, with an ordinary exit code) would otherwise be
    replaced at once, forever: a respawn storm that fills the log and burns a core.
    The first crash is replaced at once, because one crash is news, not a loop; each
    young crash after it doubles the wait, from ``FIRST_RESPAWN_DELAY`` up to
    ``MAX_RESPAWN_DELAY``. A crash after ``STABLE_LIFETIME`` seconds of life, or after
    that long without a crash, starts again from nothing.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.delay = 0.0
        self.crashes = 0  # young crashes in a row
        self.last_crash: float | None = None
        self.not_before = 0.0  # no spawning before this (on ``clock``)

    def crashed(self, lifetime: float) -> float:
        """Note one crash of a worker that lived ``lifetime`` seconds; return how
        long spawning now waits."""
        now = self.clock()
        if lifetime >= STABLE_LIFETIME or self.quiet_since_last_crash(now):
            self.crashes, self.delay = 0, 0.0
        elif self.crashes:
            self.delay = min(
                MAX_RESPAWN_DELAY, max(FIRST_RESPAWN_DELAY, self.delay * 2)
            )
        self.crashes += 1
        self.last_crash = now
        self.not_before = now + self.delay
        return self.delay

    def quiet_since_last_crash(self, now: float) -> bool:
        if self.last_crash is None:
            return True
        return now - self.last_crash >= STABLE_LIFETIME + self.delay

    def seconds_left(self) -> float:
        """How long until spawning may go on (0.0: now)."""
        return max(0.0, self.not_before - self.clock())


class Arbiter:
    """The master process. ``Arbiter(app).run()`` never returns."""

    def __init__(self, app: Any) -> None:
        self.pid = os.getpid()
        self.log: Logger | None = None
        self.workers: dict[int, Worker] = {}
        self.listeners: list[sock.BaseSocket] = []
        self.pidfile: Pidfile | None = None
        self.signal_queue: deque[int] = deque()
        self.wake_fds: tuple[int, int] | None = None
        self.worker_age = 0
        self.generation = 0
        self.boot_failures: list[tuple[Worker, int]] = []
        self.backoff = RespawnBackoff(time.monotonic)
        self.previous_cfg: Config | None = None  # the config before the last HUP
        self.stopping = False
        self.num_workers = 0  # how many current-generation workers to keep alive
        self.reexec_pid = 0  # the new master we forked on USR2
        self.master_pid = 0  # our old master, if we are the new one of a USR2
        self.master_name = "Master"
        self.systemd = False
        self.start_dir = os.getcwd()
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

    def setup(self, app: Any) -> None:
        """Take settings from ``app.cfg``: at start-up and again on every HUP."""
        self.app = app
        self.cfg = app.cfg
        if self.log is None:
            self.log = Logger(self.cfg)
        else:
            self.log.setup(self.cfg)
        self.worker_class = self.cfg.worker_class
        self.timeout = self.cfg.timeout
        self.proc_name = self.cfg.proc_name
        if self.cfg.preload_app:
            self.app.wsgi()

    def change_num_workers(self, value: int, first: bool = False) -> None:
        """Keep ``value`` workers from now on, and tell the ``nworkers_changed`` hook.

        gunicorn calls the hook from a property setter, so any assignment runs user
        code; minigun calls it here, by name, where the number is decided: at
        start-up (``first``: the old value is ``None``), on TTIN, TTOU, WINCH, and on
        every HUP, even when the number stays the same.
        """
        old_value = None if first else self.num_workers
        self.num_workers = value
        self.call_hook(
            "nworkers_changed", self.cfg.nworkers_changed, self, value, old_value
        )

    # Hooks. Which failures abort: on_starting, when_ready and pre_fork (through
    # call_startup_hook: logged by name, then the master halts); in the child,
    # post_fork and post_worker_init (Worker.call_hook_or_raise: the worker fails to
    # boot, exit 3); pre_request fails only its own request (500). Any other hook
    # that raises is logged by name and the server carries on. See
    # book/hooks-timeline.md.

    def call_hook(self, name: str, hook: Callable[..., Any], *args: Any) -> None:
        """Call ``hook``; one that raises is logged by ``name`` and ignored."""
        try:
            hook(*args)
        except Exception:
            self.log.exception("Exception in %s hook", name)

    def call_startup_hook(
        self, name: str, hook: Callable[..., Any], *args: Any
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
            setproctitle.setproctitle(f"minigun: master [{self.proc_name}]")
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
            self.pidfile = Pidfile(self.pidfile_name())
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
        if os.environ.get("LISTEN_PID") == str(self.pid):
            self.systemd = True
            count = int(os.environ.pop("LISTEN_FDS", "0"))
            del os.environ["LISTEN_PID"]
            return list(range(SYSTEMD_FIRST_FD, SYSTEMD_FIRST_FD + count))
        return None

    def pidfile_name(self) -> str:
        """A new master writes ``<pidfile>.2`` until its old master is gone."""
        return f"{self.cfg.pidfile}.2" if self.master_pid else self.cfg.pidfile

    def init_signals(self) -> None:
        """Make the wake-up pipe and route every signal in the table to the queue."""
        self.wake_fds = os.pipe()
        for fd in self.wake_fds:
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
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
        if self.wake_fds is None:
            return
        with contextlib.suppress(BlockingIOError):  # a full pipe wakes the loop too
            os.write(self.wake_fds[1], WAKE_BYTE)

    def sleep(self) -> None:
        """Wait for a wake-up byte, or until the loop has something to do by itself
        (:meth:`sleep_seconds`), whichever comes first.

        A signal's byte ends the wait at once, so a master that is backing off from a
        crash loop still answers ``TERM`` straight away.
        """
        assert self.wake_fds is not None
        ready, _, _ = select.select([self.wake_fds[0]], [], [], self.sleep_seconds())
        if not ready:
            return
        try:
            while os.read(self.wake_fds[0], 64):
                pass
        except BlockingIOError:
            pass

    def sleep_seconds(self) -> float:
        """``MASTER_TICK``, or less when a deadline comes sooner: the end of a respawn
        back-off, or the moment a worker's heartbeat goes stale (so a timed-out
        request is answered at about ``timeout``, not up to a tick later)."""
        waits = [MASTER_TICK]
        if self.backoff.seconds_left() > 0:
            waits.append(self.backoff.seconds_left())
        if self.timeout > 0:
            now = time.time()
            for worker in self.workers.values():
                if not worker.aborted:
                    last_sign_of_life = max(worker.tmp.last_update(), worker.spawned_at)
                    waits.append(last_sign_of_life + self.timeout - now)
        return max(0.0, min(waits)) + WAKE_SLACK

    def handle_queued_signals(self) -> None:
        """Run the table's handler for each queued signal, in arrival order."""
        while self.signal_queue:
            sig = signal.Signals(self.signal_queue.popleft())
            if sig != signal.SIGCHLD:
                self.log.info("Handling signal: %s", sig.name[len("SIG") :].lower())
            self.signal_handlers[sig].handler()

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
        keep_unix_files = bool(self.reexec_pid or self.master_pid or self.systemd)
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
        if self.pidfile is not None:
            self.pidfile.rename(self.cfg.pidfile)
        setproctitle.setproctitle(f"minigun: master [{self.proc_name}]")

    def reload(self) -> None:
        """HUP: re-read the configuration, then start a new generation of workers.

        The old generation is retired by :meth:`retire_old_generation` as the new
        workers boot; if the new application cannot be loaded, the old workers keep
        serving (see :meth:`raise_if_boot_failed`).
        """
        old_address = self.cfg.address
        old_cfg = self.previous_cfg = self.cfg
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
            self.restore_config(old_cfg)
            return
        self.change_num_workers(self.cfg.workers)
        self.call_hook("on_reload", self.cfg.on_reload, self)
        setproctitle.setproctitle(f"minigun: master [{self.proc_name}]")
        self.manage_workers()

    def restore_config(self, cfg: Config) -> None:
        """Go back to ``cfg`` after a reload that failed: the one place the master
        itself gives the application a config (a HUP's new one comes from
        ``app.reload()``)."""
        self.app.cfg = cfg
        self.setup(self.app)
        self.change_num_workers(cfg.workers)

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
        for worker in current[: max(0, len(current) - self.num_workers)]:
            self.retire_worker(worker)
        # end-exercise: manage-workers
        self.retire_old_generation()

    def active_workers(self, generation: int) -> list[Worker]:
        """The workers of ``generation`` not yet asked to leave, oldest first."""
        workers = [
            worker
            for worker in self.workers.values()
            if worker.generation == generation and worker.retire_deadline is None
        ]
        return sorted(workers, key=lambda worker: worker.age)

    def retire_old_generation(self) -> None:
        """Retire old-generation workers one for one as new ones finish booting."""
        booted = sum(worker.booted for worker in self.active_workers(self.generation))
        old = sorted(
            (
                worker
                for worker in self.workers.values()
                if worker.generation < self.generation
                and worker.retire_deadline is None
            ),
            key=lambda worker: worker.age,
        )
        keep = max(0, self.num_workers - booted)
        for worker in old[: max(0, len(old) - keep)]:
            self.retire_worker(worker)

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
        """Fork one worker; in the child, run it and never come back."""
        self.worker_age += 1
        worker = self.worker_class(
            self.worker_age,
            self.pid,
            self.listeners,
            self.app,
            self.timeout,
            self.cfg,
            self.log,
        )
        worker.generation = self.generation
        # exercise: hook-calls
        self.call_startup_hook("pre_fork", self.cfg.pre_fork, self, worker)
        pid = os.fork()
        if pid != 0:
            worker.pid = pid
            self.workers[pid] = worker
            return pid
        # end-exercise: hook-calls
        worker.run_in_child(self)  # post_fork, boot, serve, exit: never returns

    def notice_booted_workers(self) -> None:
        """A worker's first heartbeat means it has booted: tell the hook, and let
        the old generation shrink (:meth:`retire_old_generation`)."""
        for worker in list(self.workers.values()):
            if not worker.booted and worker.tmp.has_notified():
                worker.booted = True
                self.call_hook("worker_ready", self.cfg.worker_ready, self, worker)

    def murder_workers(self) -> None:
        """Abort workers silent for ``timeout`` seconds (``timeout = 0``: never);
        SIGKILL those that outlive their grace period."""
        for worker in list(self.workers.values()):
            # exercise: murder-workers
            last_sign_of_life = max(worker.tmp.last_update(), worker.spawned_at)
            silent_for = time.time() - last_sign_of_life
            if self.timeout > 0 and silent_for > self.timeout and not worker.aborted:
                self.abort_worker(worker)
            # end-exercise: murder-workers
            self.kill_lingering(worker)

    def abort_worker(self, worker: Worker) -> None:
        """SIGABRT a silent worker: its ``worker_abort`` hook gets ``abort_grace``
        seconds before :meth:`kill_lingering` sends SIGKILL."""
        self.log.critical("WORKER TIMEOUT (pid:%s)", worker.pid)
        worker.aborted = True
        worker.abort_deadline = time.monotonic() + self.cfg.abort_grace
        self.kill_worker(worker.pid, signal.SIGABRT)

    def kill_lingering(self, worker: Worker) -> None:
        """SIGKILL a worker past its deadline: aborted, or retired and still busy."""
        deadlines = (worker.abort_deadline, worker.retire_deadline)
        now = time.monotonic()
        if any(deadline is not None and now >= deadline for deadline in deadlines):
            self.log.warning(
                "Worker (pid:%s) did not stop in time: SIGKILL", worker.pid
            )
            self.kill_worker(worker.pid, signal.SIGKILL)

    def retire_worker(self, worker: Worker) -> None:
        """Ask one worker to finish its request and leave (TERM)."""
        worker.retire_deadline = time.monotonic() + self.cfg.graceful_timeout
        self.kill_worker(worker.pid, signal.SIGTERM)

    def kill_workers(self, sig: int) -> None:
        for pid in list(self.workers):
            self.kill_worker(pid, sig)

    def kill_worker(self, pid: int | None, sig: int) -> None:
        """Send ``sig`` to one worker; one that is already gone will be reaped."""
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    # Reaping.

    def reap_workers(self) -> None:
        """Collect every child that has exited, without blocking (SIGCHLD)."""
        # exercise: reap-workers
        while (child := self.wait_child()) is not None:
            pid, status = child
            worker = self.workers.pop(pid, None)
            if worker is not None:
                self.on_worker_exit(worker, status)
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

    def on_worker_exit(self, worker: Worker, status: int) -> None:
        """Log how the worker ended, note a boot failure, call ``child_exit``."""
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            self.log_killed_worker(worker, signal.Signals(-code))
        elif code:
            self.log.error("Worker (pid:%s) exited with code %s", worker.pid, code)
        if code in BOOT_FAILURES:
            self.boot_failures.append((worker, code))
        elif code and self.died_unasked(worker):
            self.back_off_if_crash_looping(worker)
        worker.tmp.close()
        self.call_hook("child_exit", self.cfg.child_exit, self, worker)

    def died_unasked(self, worker: Worker) -> bool:
        """Whether a worker's exit was its own doing, not a stop we asked for."""
        asked = worker.retire_deadline is not None or worker.aborted
        return not (asked or self.stopping)

    def back_off_if_crash_looping(self, worker: Worker) -> None:
        """Count the crash; if workers keep dying young, say so and wait."""
        lifetime = max(0.0, time.time() - worker.spawned_at)
        delay = self.backoff.crashed(lifetime)
        if delay:
            self.log.warning(
                "Workers keep dying young (pid:%s lived %.1f s, %s crashes in a row):"
                " backing off, the next worker starts in %.1f s",
                worker.pid,
                lifetime,
                self.backoff.crashes,
                delay,
            )

    def log_killed_worker(self, worker: Worker, sig: signal.Signals) -> None:
        """A signal we sent (retiring, stopping, timeout) is news; any other is an
        error, and a SIGKILL nobody here sent is usually the kernel's OOM killer."""
        if worker.retire_deadline is not None or self.stopping or worker.aborted:
            self.log.info("Worker (pid:%s) was sent %s!", worker.pid, sig.name)
            return
        self.log.error("Worker (pid:%s) was sent %s!", worker.pid, sig.name)
        if sig == signal.SIGKILL:
            self.log.error("Perhaps out of memory?")

    def raise_if_boot_failed(self) -> None:
        """Halt on a boot failure, unless a reload failed while old workers serve:
        then :meth:`roll_back_reload`, and nothing is respawned from the broken
        version."""
        failures, self.boot_failures = self.boot_failures, []
        if not failures or self.stopping:
            return
        worker, code = failures[0]
        old = [w for w in self.workers.values() if w.generation < worker.generation]
        if not old:
            raise HaltServer(BOOT_FAILURES[code], code)
        self.log.error(
            "Reload failed (%s) Old workers keep serving.", BOOT_FAILURES[code]
        )
        self.roll_back_reload(worker.generation, old)

    def roll_back_reload(self, failed_generation: int, old: list[Worker]) -> None:
        """Abandon the generation that failed to boot: its workers are killed, the
        old workers become current again, and the config before the HUP is back
        (with, for example, its number of workers)."""
        for failed in self.active_workers(failed_generation):
            self.kill_worker(failed.pid, signal.SIGKILL)
        self.generation = max(w.generation for w in old)
        for survivor in old:
            survivor.generation = self.generation
        if self.previous_cfg is not None:
            self.restore_config(self.previous_cfg)
