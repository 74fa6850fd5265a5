"""The systemd units book/deploy.md shows, run the way systemd would run them.

There is no systemd in a test, so the test plays its part: it makes the socket
``minigun.socket`` describes, and starts ``minigun.service``'s ``ExecStart`` with
that socket at descriptor 3, ``LISTEN_FDS=1`` and ``LISTEN_PID`` naming minigun.
Only the program path changes (this checkout's Python for
``/srv/app/.venv/bin/minigun``) and the socket's path (one in a temporary folder).

The unit's ``User=`` is systemd's to apply, and this machine's Python is not
readable by other users, so the command runs as the user running the tests; the
last test shows minigun's own way down from root, ``--user`` and ``--group``.
"""

from __future__ import annotations

import configparser
import http.client
import os
import pwd
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, LogBuffer, children_of, stop_started

UNITS = ROOT / "examples" / "systemd"
WAIT = 15.0
STAND_IN_USER = "nobody"
LAUNCHER = (
    "import os, sys\n"
    "os.dup2(int(sys.argv[1]), 3)\n"
    "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'minigun', *sys.argv[2:]])\n"
)


def read_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(UNITS / name)
    return unit


SOCKET_UNIT = read_unit("minigun.socket")
SERVICE_UNIT = read_unit("minigun.service")


def exec_start_arguments() -> list[str]:
    """``ExecStart`` without its program: the arguments minigun is given."""
    program, *arguments = shlex.split(SERVICE_UNIT["Service"]["ExecStart"])
    assert program.endswith("/bin/minigun"), program
    return arguments


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket, as nginx talks to minigun."""

    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=WAIT)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(WAIT)
        self.sock.connect(self.path)


def get(path: Path) -> tuple[int, bytes]:
    conn = UnixHTTPConnection(path)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Systemd:
    """The socket unit's socket, and the service started on it, maybe again."""

    def __init__(self, folder: Path, processes) -> None:
        self.path = folder / "minigun.sock"
        self.processes = processes
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(128)
        self.running: list[tuple[subprocess.Popen, LogBuffer]] = []

    def start_service(self) -> tuple[subprocess.Popen, LogBuffer]:
        fd = self.listener.fileno()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(fd), *exec_start_arguments()],
            cwd=ROOT,  # the unit's WorkingDirectory
            pass_fds=[fd],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.processes.extra_pids.add(proc.pid)
        log = LogBuffer(proc.stdout)
        self.running.append((proc, log))
        log.wait_for(r"Listening at: unix:", timeout=WAIT)
        log.wait_for(r"Booting worker", count=2, timeout=WAIT)
        return proc, log

    def stop_service(self, proc: subprocess.Popen) -> int:
        """``systemctl stop`` with ``KillMode=mixed``: TERM to the master alone."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(WAIT)

    def close(self) -> None:
        for proc, _log in self.running:
            stop_started(proc)
        self.listener.close()


@pytest.fixture
def systemd(tmp_path, processes):
    manager = Systemd(tmp_path, processes)
    try:
        yield manager
    finally:
        manager.close()


def test_the_units_say_what_the_chapter_says():
    service = SERVICE_UNIT["Service"]
    assert SOCKET_UNIT["Socket"]["ListenStream"] == "/run/minigun/minigun.sock"
    assert SERVICE_UNIT["Unit"]["Requires"] == "minigun.socket"
    assert service["User"] != "root"
    assert service["KillMode"] == "mixed"
    assert service["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    graceful = exec_start_arguments().index("--graceful-timeout") + 1
    assert int(service["TimeoutStopSec"]) > int(exec_start_arguments()[graceful])


def test_socket_activation_adopts_the_socket_and_binds_nothing(systemd):
    proc, log = systemd.start_service()
    status, body = get(systemd.path)
    assert status == 200
    assert body.startswith(b"Hello from minigun worker")
    assert int(body.split()[-1]) in children_of(proc.pid)
    assert f"Listening at: unix:{systemd.path} ({proc.pid})" in log.text


def test_a_restart_loses_no_request_because_systemd_keeps_the_socket(systemd):
    """``systemctl restart``: connections arriving between the old master's exit
    and the new one's start wait in the socket's queue, which systemd holds."""
    old, _log = systemd.start_service()
    outcomes: list[int | str] = []
    stopping = threading.Event()

    def client() -> None:
        while not stopping.is_set():
            try:
                outcomes.append(get(systemd.path)[0])
            except (OSError, http.client.HTTPException) as error:
                outcomes.append(repr(error))

    threads = [threading.Thread(target=client, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    wait_for_count(outcomes, 20)
    assert systemd.stop_service(old) == 0
    systemd.start_service()
    wait_for_count(outcomes, len(outcomes) + 20)
    stopping.set()
    for thread in threads:
        thread.join(WAIT)
    assert [o for o in outcomes if o != 200] == []


def test_started_as_root_the_workers_run_as_the_unprivileged_user(serve):
    """The master keeps root (to bind, to reopen logs); workers drop to --user.

    ``--preload``: the master imports the app, so the workers need not read this
    checkout, which may sit in a folder only root can enter (CI's clone does).
    """
    if os.geteuid() == 0:
        server = serve(
            "examples.hello:app", "--preload",
            "--user", STAND_IN_USER, "--group", "nogroup",
        )  # fmt: skip
        expected = pwd.getpwnam(STAND_IN_USER).pw_uid
    else:  # already unprivileged: --user names ourselves, as a unit's User= would
        server = serve("examples.hello:app", "--user", str(os.getuid()))
        expected = os.getuid()
    status, body = server.request("/")
    assert status == 200
    worker = int(body.split()[-1])
    assert uid_of(worker) == expected
    assert uid_of(server.master_pid) == os.geteuid()


def uid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])


def wait_for_count(outcomes: list, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while len(outcomes) < count:
        assert time.monotonic() < deadline, f"only {len(outcomes)} requests answered"
        time.sleep(0.02)
