"""Signals, graceful shutdown and the worker life cycle, observed from outside.

Every test runs a real master, sends it (or a worker) real signals, and looks only at
what an operator could see: responses, worker pids, the pidfile and the log.
"""

from __future__ import annotations

import http.client
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

FAST = ("--timeout", "5", "--graceful-timeout", "3")


def test_term_finishes_requests_in_flight_and_in_the_backlog(serve, tmp_path):
    pidfile = tmp_path / "minigun.pid"
    server = serve(
        "examples.app_slow:app", "--graceful-timeout", "6", "--pid", str(pidfile)
    )
    in_flight = Background(server.request, "/?sleep=1.5")
    time.sleep(0.5)  # the only worker is busy now ...
    queued = Background(server.request, "/?sleep=0.5")  # ... so this one waits
    time.sleep(0.3)
    server.kill(signal.SIGTERM)
    assert in_flight.result() == (
        200,
        f"slept 1.5 in {server.booted_pids()[0]}".encode(),
    )
    assert queued.result()[0] == 200
    assert server.wait_exit() == 0
    assert not pidfile.exists()
    assert "Handling signal: term" in server.log.text
    assert "Shutting down: Master" in server.log.text


def test_term_kills_what_outlives_the_graceful_timeout(serve):
    server = serve("examples.app_slow:app", "--graceful-timeout", "1")
    stuck = Background(server.request, "/?sleep=30")
    time.sleep(0.5)
    started = time.monotonic()
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(stuck.error(), OSError)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_int_and_quit_stop_at_once(serve, sig):
    server = serve("examples.app_slow:app", "--graceful-timeout", "20")
    busy = Background(server.request, "/?sleep=10")
    time.sleep(0.5)
    started = time.monotonic()
    server.kill(sig)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(busy.error(), OSError)


def test_a_second_int_turns_a_graceful_stop_quick(serve):
    server = serve("examples.app_slow:app", "--graceful-timeout", "20")
    busy = Background(server.request, "/?sleep=10")
    time.sleep(0.5)
    server.kill(signal.SIGTERM)
    time.sleep(0.5)
    started = time.monotonic()
    server.kill(signal.SIGINT)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(busy.error(), OSError)


def test_hup_starts_new_workers_with_the_new_config(serve, tmp_path):
    config = tmp_path / "conf.py"
    config.write_text("workers = 1\n")
    server = serve("examples.app_pid:app", "-c", str(config), *FAST, workers=None)
    old_pid = server.get_pid()
    config.write_text("workers = 3\n")
    server.kill(signal.SIGHUP)
    server.wait_for("Booting worker", count=4)
    wait_until(
        lambda: len(server.worker_pids()) == 3 and old_pid not in server.worker_pids()
    )
    assert server.get_pid() != old_pid
    assert "Hang up: Master" in server.log.text


def test_hup_rebinds_only_when_bind_changed(serve, tmp_path):
    first, second = free_port(), free_port()
    config = tmp_path / "conf.py"
    config.write_text(f"bind = ['127.0.0.1:{first}']\n")
    server = serve("examples.app_pid:app", "-c", str(config), *FAST, bind=None)
    assert server.port == first
    server.kill(signal.SIGHUP)  # same bind: no new listener
    server.wait_for("Booting worker", count=2)
    assert "Listening at" not in server.log.text.split("Hang up")[1]
    config.write_text(f"bind = ['127.0.0.1:{second}']\n")
    server.kill(signal.SIGHUP)
    server.wait_for(f"Listening at: http://127.0.0.1:{second}")
    server.wait_for("Booting worker", count=3)
    server.port = second
    assert server.request("/")[0] == 200
    wait_until(lambda: len(server.worker_pids()) == 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", first), timeout=2)


VERSIONED_APP = """
import os, time
time.sleep({boot_seconds})
def app(environ, start_response):
    body = b"{version} %d" % os.getpid()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


def test_hup_retires_old_workers_only_once_new_ones_have_booted(serve, tmp_path):
    module = tmp_path / "versioned.py"
    module.write_text(VERSIONED_APP.format(boot_seconds=0, version="v1"))
    server = serve("versioned:app", "--pythonpath", str(tmp_path), *FAST, workers=2)
    old_pids = set(server.booted_pids())
    served: set[bytes] = set()
    wait_until(lambda: served.add(server.request("/")[1]) or len(served) == 2)
    module.write_text(VERSIONED_APP.format(boot_seconds=1.5, version="v2"))
    server.kill(signal.SIGHUP)
    server.wait_for("Booting worker", count=4)
    # The new workers are still importing: the old ones serve, all of them alive.
    for _ in range(20):
        status, body = server.request("/")
        assert (status, body.split()[0]) == (200, b"v1")
        time.sleep(0.03)
    assert old_pids <= server.worker_pids()
    wait_until(lambda: server.request("/")[1].startswith(b"v2"))
    wait_until(lambda: not old_pids & server.worker_pids())


def test_hup_with_a_broken_new_version_keeps_the_old_workers(serve, tmp_path):
    module = tmp_path / "hupapp.py"
    module.write_text((Path("examples") / "app_pid.py").read_text())
    server = serve("hupapp:app", "--pythonpath", str(tmp_path), *FAST, workers=2)
    served: set[int] = set()
    old_pids = set(server.booted_pids())
    # Both old workers have loaded the good version once each has answered.
    wait_until(lambda: served.add(server.get_pid()) or served == old_pids)
    module.write_text("raise ImportError('the new version is broken')\n")
    server.kill(signal.SIGHUP)
    server.wait_for("Reload failed")
    assert "the new version is broken" in server.log.text
    for _ in range(10):
        assert server.get_pid() in old_pids
    assert server.proc.poll() is None


def test_ttin_adds_a_worker_and_ttou_retires_the_oldest_but_never_the_last(serve):
    server = serve("examples.app_pid:app", *FAST, workers=1)
    first = server.booted_pids()[0]
    server.kill(signal.SIGTTIN)
    server.wait_for("Booting worker", count=2)
    wait_until(lambda: len(server.worker_pids()) == 2)
    server.kill(signal.SIGTTOU)
    wait_until(lambda: server.worker_pids() == {server.booted_pids()[1]})
    assert first not in server.worker_pids()
    server.kill(signal.SIGTTOU)
    server.wait_for("TTOU ignored")
    assert len(server.worker_pids()) == 1
    assert server.request("/")[0] == 200


def test_usr1_reopens_the_access_log_after_rotation(serve, tmp_path):
    access = tmp_path / "access.log"
    server = serve("examples.app_pid:app", "--access-logfile", str(access), *FAST)
    server.request("/before")
    wait_until(lambda: "/before" in access.read_text())
    access.rename(tmp_path / "access.log.1")
    server.kill(signal.SIGUSR1)
    server.wait_for("Handling signal: usr1")
    wait_until(access.exists)
    worker = server.booted_pids()[0]  # reopens on its own USR1, just after the master
    wait_until(lambda: str(access) in open_files(worker))
    server.request("/after")
    wait_until(lambda: "/after" in access.read_text())
    assert "/after" not in (tmp_path / "access.log.1").read_text()


def test_usr1_does_not_kill_a_worker_still_booting(serve, tmp_path):
    config = tmp_path / "slow_post_fork.py"
    config.write_text(
        "import time\ndef post_fork(server, worker):\n    time.sleep(1)\n"
    )
    server = serve("examples.app_pid:app", "-c", str(config), *FAST)
    worker = server.booted_pids()[0]
    server.kill(signal.SIGUSR1)  # before the worker has its own handlers
    server.wait_for("Handling signal: usr1")
    assert server.get_pid() == worker
    assert server.booted_pids() == [worker]


def test_usr2_then_term_to_the_old_master_upgrades(serve, processes, tmp_path):
    pidfile = tmp_path / "app.pid"
    server = serve("examples.app_pid:app", "--pid", str(pidfile), *FAST)
    old_master = server.master_pid
    server.kill(signal.SIGUSR2)
    new_master = int(
        server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2)[1].group(1)
    )
    processes.extra_pids.add(new_master)
    server.wait_for("Booting worker", count=2)
    wait_until(lambda: Path(f"{pidfile}.2").exists())
    assert Path(f"{pidfile}.2").read_text().strip() == str(new_master)
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    wait_until(
        lambda: pidfile.exists() and pidfile.read_text().strip() == str(new_master)
    )
    assert not Path(f"{pidfile}.2").exists()
    assert server.get_pid() in server.children_of(new_master)
    assert old_master != new_master


def test_usr2_rolled_back_by_term_to_the_new_master(serve, processes, tmp_path):
    pidfile = tmp_path / "app.pid"
    server = serve("examples.app_pid:app", "--pid", str(pidfile), *FAST)
    server.kill(signal.SIGUSR2)
    new_master = int(
        server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2)[1].group(1)
    )
    processes.extra_pids.add(new_master)
    server.wait_for("Booting worker", count=2)
    server.kill(signal.SIGHUP)  # the old master starts fresh workers of its own
    server.wait_for("Booting worker", count=3)
    os.kill(new_master, signal.SIGTERM)
    server.wait_for("The new master .* has exited")
    assert pidfile.read_text().strip() == str(server.master_pid)
    assert server.get_pid() in server.children_of(server.master_pid)
    server.kill(signal.SIGUSR2)  # and it may upgrade again
    assert len(server.wait_for(r"Listening at: \S+ \((\d+)\)", count=3)) == 3
    processes.extra_pids.add(
        int(server.wait_for(r"Listening at: \S+ \((\d+)\)", count=3)[2].group(1))
    )


def test_winch_without_daemon_is_ignored(serve):
    server = serve("examples.app_pid:app", *FAST)
    pid = server.booted_pids()[0]
    server.kill(signal.SIGWINCH)
    server.wait_for("SIGWINCH ignored")
    assert server.get_pid() == pid


def test_winch_in_daemon_mode_stops_the_workers_but_keeps_the_master(
    processes, run_to_exit, tmp_path
):
    pidfile, errors = tmp_path / "d.pid", tmp_path / "error.log"
    code, _ = run_to_exit(
        "--daemon", "--pid", str(pidfile), "--error-logfile", str(errors),
        *FAST, "examples.app_pid:app",
    )  # fmt: skip
    assert code == 0
    wait_until(pidfile.exists)
    master = int(pidfile.read_text())
    processes.extra_pids.add(master)
    wait_until(lambda: "Booting worker" in errors.read_text())
    wait_until(lambda: len(processes.children_of(master)) == 1)
    os.kill(master, signal.SIGWINCH)
    wait_until(lambda: not processes.children_of(master))
    assert "graceful stop of workers" in errors.read_text()
    os.kill(master, signal.SIGTERM)
    wait_until(lambda: not pidfile.exists())


def test_daemon_upgrade_usr2_winch_term(processes, run_to_exit, tmp_path):
    """Unicorn's procedure: USR2, WINCH the old master, check, TERM the old one."""
    pidfile, errors = tmp_path / "d.pid", tmp_path / "error.log"
    code, _ = run_to_exit(
        "--daemon", "--pid", str(pidfile), "--error-logfile", str(errors),
        *FAST, "examples.app_pid:app",
    )  # fmt: skip
    assert code == 0
    wait_until(pidfile.exists)
    old_master = int(pidfile.read_text())
    processes.extra_pids.add(old_master)
    wait_until(lambda: "Booting worker" in errors.read_text())
    port = int(
        re.search(r"Listening at: http://127.0.0.1:(\d+)", errors.read_text())[1]
    )
    os.kill(old_master, signal.SIGUSR2)
    new_pidfile = Path(f"{pidfile}.2")
    wait_until(new_pidfile.exists)
    new_master = int(new_pidfile.read_text())
    processes.extra_pids.add(new_master)
    wait_until(lambda: len(processes.children_of(new_master)) == 1)
    os.kill(old_master, signal.SIGWINCH)
    # The old master's only child left is the new master: its workers are gone.
    wait_until(lambda: processes.children_of(old_master) == {new_master})
    assert fetch_pid(port) in processes.children_of(new_master)
    os.kill(old_master, signal.SIGTERM)
    wait_until(
        lambda: pidfile.exists() and pidfile.read_text().strip() == str(new_master)
    )
    assert not new_pidfile.exists()
    assert fetch_pid(port) in processes.children_of(new_master)
    os.kill(new_master, signal.SIGTERM)
    wait_until(lambda: not pidfile.exists())


def test_a_killed_worker_is_reaped_logged_and_replaced(serve):
    server = serve("examples.app_pid:app", *FAST)
    victim = server.booted_pids()[0]
    os.kill(victim, signal.SIGKILL)
    server.wait_for(f"Worker \\(pid:{victim}\\) was sent SIGKILL")
    server.wait_for("Booting worker", count=2)
    assert server.get_pid() == server.booted_pids()[1]


def test_a_worker_past_its_timeout_is_aborted_and_replaced(serve):
    server = serve("examples.app_slow:app", "--timeout", "1", "--abort-grace", "0.5")
    stuck = server.booted_pids()[0]
    hung = Background(server.request, "/?sleep=10")
    server.wait_for(f"WORKER TIMEOUT \\(pid:{stuck}\\)", timeout=10)
    server.wait_for("Booting worker", count=2)
    assert hung.result()[0] == 500, "a timed-out request is answered 500"
    assert server.request("/?sleep=0")[0] == 200


@pytest.fixture
def app_dir_for_nobody() -> Iterator[Path]:
    """A world-readable folder holding a copy of the hello app.

    The worker imports the app only after switching user, so the app must live where
    "nobody" can read it; a checkout, or pytest's tmp_path, may sit in a 0700 folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="minigun-nobody-"))
    folder.chmod(0o755)
    app_file = folder / "nobody_hello.py"
    shutil.copy(Path(__file__).parents[2] / "examples" / "hello.py", app_file)
    app_file.chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch to another user")
def test_a_worker_that_dropped_privileges_keeps_its_heartbeat(
    serve, app_dir_for_nobody
):
    nobody = pwd.getpwnam("nobody")
    server = serve(
        "nobody_hello:app", "--chdir", str(app_dir_for_nobody),
        "--user", "nobody", "--group", str(nobody.pw_gid), "--timeout", "1",
    )  # fmt: skip
    worker = server.booted_pids()[0]
    uid_line = f"Uid:\t{nobody.pw_uid}\t"  # set in init_process, after "Booting"
    wait_until(lambda: uid_line in Path(f"/proc/{worker}/status").read_text())
    time.sleep(2.5)  # more than twice the timeout: only a working heartbeat survives
    assert server.request("/") == (
        200,
        f"Hello from minigun worker {worker}\n".encode(),
    )
    assert "WORKER TIMEOUT" not in server.log.text


def test_max_requests_retires_a_worker_without_failing_a_request(serve):
    server = serve("examples.app_pid:app", "--max-requests", "3", *FAST)
    pids = [server.get_pid() for _ in range(7)]
    assert pids[:3] == [pids[0]] * 3
    assert pids[3] != pids[0]
    assert len(set(pids)) == 3
    server.wait_for("Autorestarting worker after current request.")


def test_workers_exit_when_their_master_is_gone(serve):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    workers = server.worker_pids()
    os.kill(server.master_pid, signal.SIGKILL)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers))


def test_pidfile_of_a_live_master_refuses_a_second_start(serve, run_to_exit, tmp_path):
    pidfile = tmp_path / "one.pid"
    server = serve("examples.app_pid:app", "--pid", str(pidfile), *FAST)
    code, text = run_to_exit("--pid", str(pidfile), "examples.app_pid:app")
    assert code != 0
    assert f"Already running on PID {server.master_pid}" in text
    assert pidfile.read_text().strip() == str(server.master_pid)


def test_process_titles_name_master_and_workers(serve):
    server = serve("examples.app_pid:app", *FAST)
    master = Path(f"/proc/{server.master_pid}/cmdline").read_bytes()
    worker = Path(f"/proc/{server.booted_pids()[0]}/cmdline").read_bytes()
    assert master.startswith(b"minigun: master [")
    assert worker.startswith(b"minigun: worker [")


# Under load: not one request may fail.


def test_hup_under_load_fails_no_request(serve):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server) as load:
        time.sleep(0.5)
        server.kill(signal.SIGHUP)
        server.wait_for("Booting worker", count=4)
        time.sleep(1.5)
    load.assert_all_succeeded(minimum=100)
    assert load.pids - set(server.booted_pids()[:2]), "no new worker served"


def test_usr2_then_term_under_load_fails_no_request(serve, processes):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server) as load:
        time.sleep(0.5)
        server.kill(signal.SIGUSR2)
        match = server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2)[1]
        processes.extra_pids.add(int(match.group(1)))
        server.wait_for("Booting worker", count=4)
        time.sleep(0.5)
        server.kill(signal.SIGTERM)
        assert server.wait_exit() == 0
        time.sleep(0.5)
    load.assert_all_succeeded(minimum=100)


def test_killing_an_idle_worker_under_load_fails_no_request(serve):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server, pause=0.005) as load:
        time.sleep(0.5)
        victim = stop_while_idle(server.booted_pids())
        os.kill(victim, signal.SIGKILL)
        server.wait_for("Booting worker", count=3)
        time.sleep(1.0)
    load.assert_all_succeeded(minimum=100)


# Helpers.


class Background:
    """Run ``function(*args)`` in a thread; fetch its result or exception later."""

    def __init__(self, function, *args) -> None:
        self.value = None
        self.exception: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(function, *args))
        self.thread.start()

    def _run(self, function, *args) -> None:
        try:
            self.value = function(*args)
        except BaseException as error:  # handed to the test
            self.exception = error

    def result(self, timeout: float = 20.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "request still running"
        if self.exception is not None:
            raise self.exception
        return self.value

    def error(self, timeout: float = 20.0) -> BaseException | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "request still running"
        return self.exception


class Load:
    """A bounded stream of requests from two client threads, recording each outcome."""

    LIMIT = 15.0  # seconds: the stream stops by itself even if the test hangs

    def __init__(self, server, pause: float = 0.0) -> None:
        self.server = server
        self.pause = pause
        self.stop = threading.Event()
        self.successes = 0
        self.failures: list[str] = []
        self.pids: set[int] = set()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client) for _ in range(2)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(self.LIMIT)

    def _client(self) -> None:
        deadline = time.monotonic() + self.LIMIT
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = self.server.request("/", timeout=5)
                outcome = None if status == 200 else f"status {status}: {body!r}"
            except OSError as error:
                outcome = repr(error)
            with self.lock:
                if outcome is None:
                    self.successes += 1
                    self.pids.add(int(body))
                else:
                    self.failures.append(outcome)
            time.sleep(self.pause)

    def assert_all_succeeded(self, minimum: int) -> None:
        assert not self.failures, f"{len(self.failures)} failed: {self.failures[:5]}"
        assert self.successes >= minimum, f"only {self.successes} requests"


# The system call numbers of epoll_wait / epoll_pwait (where an idle worker waits).
EPOLL_WAIT_SYSCALLS = {"x86_64": {"232", "281"}, "aarch64": {"22"}}


def stop_while_idle(pids: list[int], attempts: int = 300) -> int:
    """SIGSTOP a worker caught waiting in ``epoll_wait`` (no request in hand) and
    return its pid, so that killing it cannot fail a request."""
    idle_calls = EPOLL_WAIT_SYSCALLS[platform.machine()]
    for attempt in range(attempts):
        pid = pids[attempt % len(pids)]
        os.kill(pid, signal.SIGSTOP)
        wait_until(lambda pid=pid: _state(pid) == "T")
        if Path(f"/proc/{pid}/syscall").read_text().split()[0] in idle_calls:
            return pid
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("never caught a worker idle")


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(") ")[2].split()[0]


def open_files(pid: int) -> set[str]:
    """The paths a process has open (its /proc/PID/fd links)."""
    paths = set()
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            paths.add(os.readlink(link))
        except OSError:
            continue
    return paths


def fetch_pid(port: int) -> int:
    """GET / from an app_pid server on ``port``: the pid of the worker that served."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        return int(conn.getresponse().read())
    finally:
        conn.close()


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)
