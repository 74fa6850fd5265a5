"""The signals that neither stop, reload, resize nor upgrade: USR1 reopens the log
files, WINCH stops the workers of a daemon. Every test runs a real master, sends it
real signals, and looks only at what an operator could see.

The other signals' tests are found by their chapter: TERM, INT and QUIT in
test_shutdown.py, HUP in test_reload.py, TTIN and TTOU in test_manage_workers.py,
USR2 in test_upgrade.py.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from conftest import FAST, wait_until


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


def open_files(pid: int) -> set[str]:
    """The paths a process has open (its /proc/PID/fd links)."""
    paths = set()
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            paths.add(os.readlink(link))
        except OSError:
            continue
    return paths
