"""Counting, reaping and replacing workers (the manage-workers chapter): TTIN and
TTOU change the count, a killed worker is reaped and replaced, and killing an idle
worker under load fails no request. Crash loops are in test_crash_loop.py."""

from __future__ import annotations

import os
import platform
import signal
import time
from pathlib import Path

from conftest import BOOTING, FAST, Load, wait_until


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


def test_a_killed_worker_is_reaped_logged_and_replaced(serve):
    server = serve("examples.app_pid:app", *FAST)
    victim = server.booted_pids()[0]
    os.kill(victim, signal.SIGKILL)
    server.wait_for(f"Worker \\(pid:{victim}\\) was sent SIGKILL")
    server.wait_for("Booting worker", count=2)
    assert server.get_pid() == server.booted_pids()[1]


def test_killing_an_idle_worker_under_load_fails_no_request(serve):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server, pause=0.005) as load:
        load.wait_for_successes(20)  # the stream is flowing
        victim = stop_while_idle(server.booted_pids())
        os.kill(victim, signal.SIGKILL)
        replacement = int(server.wait_for(BOOTING, count=3)[2].group(1))
        wait_until(lambda: replacement in load.pids, message="(the new one serving)")
        load.wait_for_successes(100)
    load.assert_all_succeeded(minimum=100)


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
