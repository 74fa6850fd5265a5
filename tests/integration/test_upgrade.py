"""The binary upgrade (USR2), its roll-back, Unicorn's daemon procedure with WINCH,
and an upgrade under load that fails no request."""

from __future__ import annotations

import http.client
import os
import re
import signal
from pathlib import Path

from conftest import FAST, Load, wait_until


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


def test_usr2_then_term_under_load_fails_no_request(serve, processes):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server) as load:
        load.wait_for_successes(20)  # the stream is flowing
        server.kill(signal.SIGUSR2)
        match = server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2)[1]
        processes.extra_pids.add(int(match.group(1)))
        server.wait_for("Booting worker", count=4)
        new_workers = set(server.booted_pids()[2:])
        wait_until(lambda: load.pids & new_workers, message="(new workers serving)")
        server.kill(signal.SIGTERM)
        assert server.wait_exit() == 0
        load.wait_for_successes(100)  # the new master's workers, alone now
    load.assert_all_succeeded(minimum=100)


def fetch_pid(port: int) -> int:
    """GET / from an app_pid server on ``port``: the pid of the worker that served."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        return int(conn.getresponse().read())
    finally:
        conn.close()
