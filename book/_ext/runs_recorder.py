"""Real runs of minigun, recorded while the book is built.

Each scenario starts a real ``minigun`` on a free port of 127.0.0.1, in a temporary
folder, drives it the way an operator would (requests with ``curl``, signals with
``kill``, ``ps`` to look at the processes) and records what happened: every command
typed, what it printed, and every line of the server's log, each with the moment it
arrived. The chapters show that record (``{recorded-run}``, book/_ext/minigun_runs.py)
and a timeline drawn from it (book/_ext/runs_timeline.py), so the pids, ports and
times on a page are those of the build that made the page.

The commands are the ones a reader types in the repository's root: the temporary
folder holds a link to ``examples/``, so ``examples.hello:app`` and
``-c examples/hooks_log.conf.py`` mean the same there, and the pid file and the
sockets stay out of the repository.

A scenario also checks its story (the slow request was answered after ``TERM``, no
request failed during ``HUP``): a run that did not show what the chapter says fails
the build instead of printing a wrong record. Every wait is bounded (:data:`WAIT`),
and every process a scenario started is stopped by its pid when it ends, whatever
happened.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's bin, where `minigun` is
WAIT = 20.0  # seconds: the longest one step waits (a loaded, shared CI machine)
STOP_WAIT = 5.0  # seconds a leftover process gets between TERM and KILL
LOG_LINE = re.compile(r"^\[[^\]]+\] \[(\d+)\] \[[A-Z]+\] (.*)$")
LISTENING = re.compile(r"Listening at: \S+ \((\d+)\)")
BOOTING = re.compile(r"Booting worker with pid: (\d+)")


class RecordingError(RuntimeError):
    """A scenario could not run, or did not show what the chapter says."""


@dataclass
class Event:
    """One line of a run: a command, what it printed, a line of the server's log,
    another line the server wrote ("server": systemd-socket-activate's, a traceback),
    or a process's exit.

    ``t`` is seconds since the scenario started. ``pid`` is, for a log line, the
    process that wrote it; for a ``kill``, the process it signals. ``signal`` is the
    signal's name (``TTIN``) for a ``kill``; ``background`` marks a command that runs
    while the next ones are typed (``&``), ``ends`` the moment it finished.
    """

    t: float
    kind: str  # "command", "output" (a command's), "log", "server" or "exit"
    text: str
    pid: int | None = None
    signal: str | None = None
    background: bool = False
    ends: float | None = None


@dataclass
class Run:
    """What one scenario recorded, in the order it happened."""

    scenario: str
    events: list[Event]
    seconds: float

    def transcript(self) -> str:
        """The record as the book shows it: commands after ``$``, log lines as is."""
        lines = []
        for event in self.events:
            if event.kind == "command":
                lines.append(f"$ {event.text}" + (" &" if event.background else ""))
            else:
                lines.append(event.text)
        return "\n".join(lines)

    def logs(self, pattern: str) -> list[Event]:
        """The log lines whose message matches ``pattern``."""
        regex = re.compile(pattern)
        return [e for e in self.events if e.kind == "log" and regex.search(e.text)]

    def commands(self) -> list[Event]:
        return [e for e in self.events if e.kind == "command"]


@dataclass
class Background:
    """A command left running (``&``): its process and its line in the record."""

    process: subprocess.Popen[str]
    event: Event


# /proc/net/tcp's states: a connection, the server's end of one it closed, a listener.
ESTABLISHED, TIME_WAIT, LISTEN = "01", "06", "0A"


def sockets_on(port: int) -> list[tuple[str, int]]:
    """The kernel's IPv4 sockets whose local port is ``port``: (state, queue). For a
    listener, the queue is its backlog: connections no worker has accepted yet."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            found.append((fields[3], int(fields[4].split(":")[1], 16)))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that is not us to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children_of(parents: set[int]) -> set[int]:
    """Every living descendant of ``parents``, read from /proc."""
    found: set[int] = set()
    frontier = set(parents)
    while frontier:
        now = set()
        for pid in (int(name) for name in os.listdir("/proc") if name.isdigit()):
            # Not Path.glob: it stats each match itself, and a process that exits
            # in between makes that stat fail with ESRCH, which glob lets through.
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) in frontier and fields[0] != "Z":
                now.add(pid)
        frontier = now - found
        found |= now
    return found


class Session:
    """One scenario being recorded: the server, the commands, the log, the clock."""

    def __init__(self, scenario: str, folder: Path) -> None:
        self.scenario = scenario
        self.folder = folder
        self.port = free_port()
        self.start_time = time.monotonic()
        self.events: list[Event] = []
        self.changed = threading.Condition()
        self.output_closed = False
        self.masters: list[int] = []  # every master pid, the first one first
        self.processes: list[subprocess.Popen[str]] = []
        self.readers: list[threading.Thread] = []
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}

    # The record.

    def now(self) -> float:
        return round(time.monotonic() - self.start_time, 3)

    def add(self, kind: str, text: str, **fields: object) -> Event:
        with self.changed:
            event = Event(self.now(), kind, text, **fields)  # type: ignore[arg-type]
            self.events.append(event)
            self.changed.notify_all()
            return event

    def fail(self, why: str) -> RecordingError:
        with self.changed:
            record = Run(self.scenario, list(self.events), self.now()).transcript()
        return RecordingError(f"recorded run {self.scenario!r}: {why}\n{record}")

    def expect(self, condition: object, why: str) -> None:
        """The story the chapter tells must have happened in this run."""
        if not condition:
            raise self.fail(why)

    # The server.

    def start(self, command: str) -> int:
        """Start the server in the foreground of the first terminal; its pid."""
        self.add("command", command)
        process = subprocess.Popen(
            shlex.split(command),
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes.append(process)
        self.masters.append(process.pid)
        reader = threading.Thread(target=self.read_output, args=(process,), daemon=True)
        reader.start()
        self.readers.append(reader)
        return process.pid

    def read_output(self, process: subprocess.Popen[str]) -> None:
        """Every line the server writes, as it arrives (a new master's too: the
        exec keeps the pipe)."""
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            parsed = LOG_LINE.match(line)
            if parsed:
                self.add("log", line, pid=int(parsed[1]))
            else:
                self.add("server", line)  # systemd-socket-activate's, a traceback
        with self.changed:
            self.output_closed = True
            self.changed.notify_all()

    def log_matches(self, pattern: str, kind: str = "log") -> list[re.Match[str]]:
        """The server's log lines (or, with ``kind="server"``, its other lines)
        that match ``pattern``, among those read so far: a line written just before
        an answer or an exit may not be read yet: a check waits (:meth:`wait_for`)."""
        regex = re.compile(pattern)
        with self.changed:
            found = (regex.search(e.text) for e in self.events if e.kind == kind)
            return [m for m in found if m]

    def wait_for(
        self, pattern: str, count: int = 1, kind: str = "log"
    ) -> list[re.Match[str]]:
        """Wait (at most :data:`WAIT` seconds) until the log matched ``count`` times."""
        deadline = time.monotonic() + WAIT
        while True:
            matches = self.log_matches(pattern, kind)
            if len(matches) >= count:
                return matches
            with self.changed:
                left = deadline - time.monotonic()
                if left <= 0 or self.output_closed:
                    raise self.fail(f"never saw {pattern!r} {count} time(s)")
                self.changed.wait(min(left, 0.2))

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Poll ``condition`` (at most :data:`WAIT` seconds): a file, not a log line."""
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                raise self.fail(f"{what} never happened")
            time.sleep(0.02)

    def wait_exit(self, process_index: int = 0, name: str = "minigun") -> int:
        """Wait for a server started by :meth:`start` to exit; record its status."""
        process = self.processes[process_index]
        try:
            status = process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            raise self.fail(f"{name} {process.pid} did not exit") from None
        self.add("exit", f"({name} {process.pid} exited with status {status})")
        return status

    def wait_gone(self, pid: int, name: str = "minigun") -> None:
        """Wait for a process that is not our child (a promoted master, an orphan)
        to end."""
        deadline = time.monotonic() + WAIT
        while is_alive(pid):
            if time.monotonic() > deadline:
                raise self.fail(f"process {pid} did not exit")
            time.sleep(0.05)
        self.add("exit", f"({name} {pid} exited)")

    # The second terminal.

    def kill(self, signal_name: str, pid: int) -> None:
        self.add("command", f"kill -{signal_name} {pid}", pid=pid, signal=signal_name)
        os.kill(pid, getattr(signal, f"SIG{signal_name}"))

    def shell(self, command: str) -> str:
        """Run ``command`` in bash in the run's folder; record what it printed."""
        self.add("command", command)
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )
        output = (done.stdout + done.stderr).rstrip("\n")
        for line in output.splitlines():
            self.add("output", line)
        return output

    def background(self, command: str) -> Background:
        """Start ``command`` as ``command &`` would; :meth:`finish` collects it."""
        event = self.add("command", command, background=True)
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: a stuck loop is stopped whole
        )
        return Background(process, event)

    def finish(self, job: Background) -> str:
        """Wait for a background command; its output joins the record now."""
        try:
            output, _ = job.process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(job.process.pid, signal.SIGKILL)  # the group is the job's pid
            job.process.communicate()
            raise self.fail(f"`{job.event.text}` did not finish") from None
        job.event.ends = self.now()
        output = output.rstrip("\n")
        for line in output.splitlines():
            self.add("output", line)
        return output

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def curl(self, path: str = "/") -> str:
        return self.shell(f"curl -sS {shlex.quote(self.url(path))}")

    def ps(self) -> str:
        """The process tree of the server's own processes, and nothing else."""
        roots = {pid for pid in self.masters if is_alive(pid)}
        pids = sorted(roots | children_of(roots))
        listed = ",".join(str(pid) for pid in pids)
        return self.shell(f"ps -o pid,ppid,args --forest -p {listed}")

    def booted_workers(self) -> list[int]:
        return [int(m[1]) for m in self.log_matches(BOOTING.pattern)]

    # The end: every process stopped by its pid.

    def stop_everything(self) -> list[int]:
        """TERM, then KILL, whatever the scenario left running; the pids it left."""
        seen = {e.pid for e in self.events if e.kind == "log" and e.pid}
        left = sorted(
            pid
            for pid in seen | set(self.masters) | children_of(set(self.masters))
            if is_alive(pid)
        )
        for pid in left:
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT
        while any(is_alive(pid) for pid in left) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=STOP_WAIT)
        for reader in self.readers:
            reader.join(timeout=STOP_WAIT)
        return left


# The scenarios. Each drives one session; the chapter that includes it says what it
# shows. Short timeouts keep a run fast without changing its story.

FAST = "--graceful-timeout 5"
TINY_CHILD = re.compile(r"\[(\d+)\] \[INFO\] Child accepting")


def tiny_prefork(s: Session) -> None:
    """The prefork chapter's build-up: the 40-line server (examples/tiny_prefork.py)
    serves, loses a child for good, and outlives its master's TERM."""
    master = s.start(f"python examples/tiny_prefork.py {s.port}")
    s.wait_for(TINY_CHILD.pattern, count=3)
    children = [int(m[1]) for m in s.log_matches(TINY_CHILD.pattern)]
    answers = [s.curl() for _ in range(3)]
    s.expect(
        all(a.startswith("Hello from child ") for a in answers), "a request failed"
    )
    s.ps()
    victim, *survivors = children
    s.kill("KILL", victim)
    s.wait_for(f"Child {victim} exited with status -9")
    s.expect(s.curl().startswith("Hello from child "), "the others stopped answering")
    s.expect(len(s.ps().splitlines()) == 4, "the dead child was replaced")
    s.kill("TERM", master)
    s.expect(s.wait_exit(name="python") == -signal.SIGTERM, "TERM did not kill it")
    listed = ",".join(str(pid) for pid in survivors)
    orphans = s.shell(f"ps -o pid,ppid,args -p {listed}")
    s.expect(len(orphans.splitlines()) == 3, "the children died with their master")
    answer = s.curl()
    s.expect(answer.startswith("Hello from child "), "the orphans do not answer")
    for pid in survivors:
        s.kill("TERM", pid)
        s.wait_gone(pid, name="child")


def start_request_ps_term(s: Session) -> None:
    """The prefork and arbiter chapters: start, a request, the processes, TERM."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 2 examples.hello:app"
    )
    s.wait_for(BOOTING.pattern, count=2)
    answer = s.curl()
    s.expect(answer.startswith("Hello from minigun worker"), "the request failed")
    s.expect(len(s.ps().splitlines()) == 4, "ps does not show a master and 2 workers")
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")
    s.wait_for("Worker exiting", count=2)


def kill_worker(s: Session) -> None:
    """The prefork chapter: a worker dies, the server answers on, the master forks
    a replacement."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 2 examples.hello:app"
    )
    s.wait_for(BOOTING.pattern, count=2)
    s.expect(s.curl().startswith("Hello from minigun worker"), "the request failed")
    s.ps()
    victim = s.booted_workers()[0]
    s.kill("KILL", victim)
    s.wait_for(BOOTING.pattern, count=3)
    s.expect(s.log_matches(f"Worker \\(pid:{victim}\\) was sent SIGKILL"), "not reaped")
    answer = s.curl()
    s.expect(
        answer.startswith("Hello from minigun worker"), "the server stopped answering"
    )
    s.expect(str(victim) not in answer, "the dead worker answered")
    s.ps()
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")


def worker_retires(s: Session) -> None:
    """The worker chapter: a worker boots, serves, retires after max_requests, and
    the master replaces it."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 1 --max-requests 2 "
        "examples.hello:app"
    )
    s.wait_for(BOOTING.pattern)
    answers = [s.curl() for _ in range(3)]
    s.wait_for(BOOTING.pattern, count=2)
    first, second = s.booted_workers()[:2]
    s.expect(
        answers
        == [f"Hello from minigun worker {pid}" for pid in (first, first, second)],
        "the first worker did not serve two requests and leave to the second",
    )
    s.expect(s.log_matches("Autorestarting worker"), "the worker did not retire")
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")


def ttin_ttou(s: Session) -> None:
    """The signals chapter: one worker more, then fewer, never fewer than one."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 2 examples.hello:app"
    )
    s.wait_for(BOOTING.pattern, count=2)
    s.kill("TTIN", master)
    s.wait_for(BOOTING.pattern, count=3)
    s.ps()
    for exited in (1, 2):
        s.kill("TTOU", master)
        s.wait_for("Worker exiting", count=exited)
    s.kill("TTOU", master)
    s.wait_for("TTOU ignored")
    s.ps()
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")


LOAD = "for i in $(seq 40); do curl -sS {url}; sleep 0.05; done"


def hup_under_load(s: Session) -> None:
    """The signals chapter: HUP replaces the workers while requests keep coming."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 2 examples.hello:app"
    )
    s.wait_for(BOOTING.pattern, count=2)
    old = set(s.booted_workers())
    load = s.background(LOAD.format(url=s.url()) + " | sort | uniq -c")
    s.wait_until(  # the server closes first: a TIME_WAIT is an answered request
        lambda: [state for state, _ in sockets_on(s.port)].count(TIME_WAIT) >= 3,
        "three answers from the first generation",
    )
    s.kill("HUP", master)
    s.wait_for(BOOTING.pattern, count=4)
    s.wait_for("Worker exiting", count=2)
    answers = s.finish(load)
    s.expect("curl:" not in answers, "a request failed during the reload")
    served = {int(pid) for pid in re.findall(r"worker (\d+)", answers)}
    counts = [int(n) for n in re.findall(r"^\s*(\d+) ", answers, re.MULTILINE)]
    s.expect(sum(counts) == 40, "not every request of the loop was answered")
    s.expect(served & old and served - old, "not both generations answered")
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")


def in_flight(port: int) -> tuple[int, int]:
    """How many connections the server's side has open, and how many of them wait
    in the listener's backlog."""
    sockets = sockets_on(port)
    connections = sum(1 for state, _ in sockets if state == ESTABLISHED)
    backlog = sum(queue for state, queue in sockets if state == LISTEN)
    return connections, backlog


def term_in_flight(s: Session) -> None:
    """The shutdown chapter: TERM while a slow request is in flight and another
    waits in the backlog; both are answered before the worker leaves."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 1 {FAST} examples.app_slow:app"
    )
    s.wait_for(BOOTING.pattern)
    slow = s.background(f"curl -sS '{s.url('/?sleep=2')}'")
    s.wait_until(lambda: in_flight(s.port) == (1, 0), "the slow request's accept")
    queued = s.background(f"curl -sS {s.url('/')}")
    s.wait_until(lambda: in_flight(s.port) == (2, 1), "the second one in the backlog")
    s.kill("TERM", master)
    term_at = s.now()
    slow_answer, queued_answer = s.finish(slow), s.finish(queued)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")
    s.expect(slow_answer.startswith("slept 2.0 in "), "the slow request was cut")
    s.expect(queued_answer.startswith("slept 0.0 in "), "the queued request was lost")
    s.expect(slow.event.ends and slow.event.ends > term_at, "answered before TERM")
    s.wait_for("Accepted 1 queued")  # the backlog was drained


def usr2_upgrade(s: Session) -> None:
    """The upgrade chapter: USR2, both generations, TERM the old master, promotion."""
    old = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 2 --pid app.pid {FAST} "
        "examples.hello:app"
    )
    s.wait_for(BOOTING.pattern, count=2)
    s.kill("USR2", old)
    new = int(s.wait_for(LISTENING.pattern, count=2)[1][1])
    s.masters.append(new)
    s.wait_for(BOOTING.pattern, count=4)
    s.shell("cat app.pid app.pid.2")
    s.ps()
    s.kill("TERM", old)
    s.expect(s.wait_exit() == 0, "the old master did not stop cleanly")
    s.wait_for("Master has been promoted")
    pidfile = s.folder / "app.pid"  # renamed just after the log line
    s.wait_until(
        lambda: pidfile.exists() and pidfile.read_text().strip() == str(new),
        "the rename of app.pid.2 to app.pid",
    )
    s.expect(s.shell("cat app.pid") == str(new), "app.pid does not name the new master")
    s.ps()
    served_by = s.curl()
    new_workers = {f"Hello from minigun worker {pid}" for pid in s.booted_workers()[2:]}
    s.expect(served_by in new_workers, "the new generation did not answer")
    s.kill("TERM", new)
    s.wait_gone(new)


def hooks_log(s: Session) -> None:
    """The hooks chapter: every hook logs a line, in the process it runs in."""
    master = s.start(
        f"minigun --bind 127.0.0.1:{s.port} --workers 1 -c examples/hooks_log.conf.py "
        "examples.hello:app"
    )
    s.wait_for("hook worker_ready")
    s.curl()
    s.wait_for("hook post_request")
    s.kill("TTIN", master)
    s.wait_for("hook worker_ready", count=2)
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")
    s.wait_for("hook on_exit")


def socket_activation(s: Session) -> None:
    """The deploy chapter: systemd's way. systemd-socket-activate plays systemd: it
    binds the socket, and at the first connection starts minigun with the socket as
    descriptor 3; that request waits in the socket's queue while minigun boots."""
    master = s.start(
        f"systemd-socket-activate -l 127.0.0.1:{s.port} "
        "minigun --workers 2 examples.hello:app"
    )
    s.wait_for(f"Listening on 127.0.0.1:{s.port} as 3", kind="server")
    s.expect(s.curl().startswith("Hello from minigun worker"), "the request failed")
    s.wait_for(f"Listening at: http://127.0.0.1:{s.port} ")  # the socket of fd 3
    s.wait_for(BOOTING.pattern, count=2)
    s.ps()
    s.kill("TERM", master)
    s.expect(s.wait_exit() == 0, "TERM did not stop the server cleanly")


SCENARIOS: dict[str, Callable[[Session], None]] = {
    "tiny-prefork": tiny_prefork,
    "start": start_request_ps_term,
    "kill-worker": kill_worker,
    "worker-retires": worker_retires,
    "ttin-ttou": ttin_ttou,
    "hup": hup_under_load,
    "term-in-flight": term_in_flight,
    "usr2-upgrade": usr2_upgrade,
    "hooks": hooks_log,
    "socket-activation": socket_activation,
}


# A scenario binds a port it found free; on a busy machine (the test suite runs
# several builds and servers at once) another process can take that port first, or a
# step can outlast its wait. A second and third try, each with a new port, tell such
# an accident from a story that does not happen, which fails every time.
ATTEMPTS = 3


def record(scenario: str) -> Run:
    """Record one scenario, trying again (up to :data:`ATTEMPTS`) after a failure."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return record_once(scenario)
        except RecordingError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def record_once(scenario: str) -> Run:
    """Run one scenario in a fresh folder; every process stopped by pid at the end."""
    drive = SCENARIOS[scenario]
    with tempfile.TemporaryDirectory(prefix=f"minigun-run-{scenario}-") as folder:
        (Path(folder) / "examples").symlink_to(ROOT / "examples")
        session = Session(scenario, Path(folder))
        try:
            drive(session)
        finally:
            left = session.stop_everything()
        if left:
            raise session.fail(f"processes left running and killed: {left}")
        return Run(scenario, session.events, session.now())


def record_all(scenarios: list[str]) -> dict[str, Run]:
    """Record several scenarios at once: each waits mostly on its server."""
    if not scenarios:
        return {}
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        return dict(zip(scenarios, pool.map(record, scenarios), strict=True))


if __name__ == "__main__":  # python book/_ext/runs_recorder.py [SCENARIO...]
    for name, run in record_all(sys.argv[1:] or list(SCENARIOS)).items():
        print(f"== {name} ({run.seconds:.1f} s)\n{run.transcript()}\n")
