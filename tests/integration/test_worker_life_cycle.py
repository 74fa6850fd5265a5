"""A worker's life as the worker chapter tells it: retired after max_requests
without failing a request, and gone when its master is gone."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from conftest import FAST, wait_until


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


def test_a_booted_worker_ignores_the_signals_only_a_master_answers(serve):
    """HUP, USR2, TTIN and TTOU mean something to the master only; a worker that gets
    one (``pkill -TTIN minigun`` reaches them all) keeps serving."""
    server = serve("examples.app_pid:app", *FAST)
    worker = server.get_pid()
    for sig in (signal.SIGHUP, signal.SIGUSR2, signal.SIGTTIN, signal.SIGTTOU):
        os.kill(worker, sig)
    assert [server.get_pid() for _ in range(3)] == [worker] * 3
