"""Every worker class keeps the same promises, checked from outside.

The same behaviour tests run against the sync worker, the threaded worker and the
custom asyncio worker of the "write your own worker" chapter, loaded by dotted path:
what the master and the clients rely on does not depend on how a worker serves.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
from pathlib import Path

import pytest
from conftest import FAST, REQUEST_STARTED, wait_until

WORKER_ARGS = {
    "sync": ("-k", "sync"),
    "gthread": ("-k", "sync", "--threads", "4"),  # sync with threads > 1 is gthread
    "asyncio": ("-k", "examples.asyncio_worker.AsyncioWorker"),
}
WORKER_NAMES = {
    "sync": "sync",
    "gthread": "gthread",
    "asyncio": "examples.asyncio_worker.AsyncioWorker",
}

HOOKS = """
def post_fork(server, worker):
    print("hook post_fork", flush=True)

def post_worker_init(worker):
    print("hook post_worker_init", flush=True)

def pre_request(worker, req):
    print("hook pre_request", req.path, flush=True)

def post_request(worker, req, environ, resp):
    print("hook post_request", req.path, resp.status_code, flush=True)

def worker_exit(server, worker):
    print("hook worker_exit", flush=True)
"""


@pytest.fixture(params=list(WORKER_ARGS))
def kind(request) -> str:
    return request.param


@pytest.fixture
def pool():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def test_hello(serve, kind):
    server = serve("examples.hello:app", *WORKER_ARGS[kind], *FAST)
    status, body = server.request("/")
    assert status == 200
    assert body == f"Hello from minigun worker {server.booted_pids()[0]}\n".encode()
    assert f"Using worker: {WORKER_NAMES[kind]}" in server.log.text


def test_body_round_trip(serve, kind):
    server = serve("examples.app_echo:app", *WORKER_ARGS[kind], *FAST)
    payload = bytes(range(256)) * 400  # 100 KiB, every byte value
    assert server.request("/", method="POST", body=payload) == (200, payload)
    chunked = server.request(
        "/", method="POST", body=iter([b"one ", b"two"]), timeout=5
    )
    assert chunked == (200, b"one two")


def test_app_error_is_a_500_and_the_worker_lives_on(serve, kind):
    server = serve("examples.app_raise:app", *WORKER_ARGS[kind], *FAST)
    assert server.request("/boom")[0] == 500
    assert server.request("/") == (200, str(server.booted_pids()[0]).encode())
    server.wait_for("boom: a bug in the application")  # the worker may log it late


def test_term_finishes_the_request_in_flight(serve, kind, pool):
    server = serve(
        "examples.app_slow:app", *WORKER_ARGS[kind], *FAST, "--log-level", "debug"
    )
    in_flight = pool.submit(server.request, "/?sleep=1")
    server.wait_for(REQUEST_STARTED)
    server.kill(signal.SIGTERM)
    worker = server.booted_pids()[0]
    assert in_flight.result(timeout=10) == (200, f"slept 1.0 in {worker}".encode())
    assert server.wait_exit() == 0


def test_a_stuck_request_gets_the_worker_killed(serve, kind, pool):
    server = serve(
        "examples.app_slow:app", *WORKER_ARGS[kind], "--timeout", "1",
        "--abort-grace", "0.5",
    )  # fmt: skip
    stuck = server.booted_pids()[0]
    hung = pool.submit(server.request, "/?sleep=10")
    server.wait_for(f"WORKER TIMEOUT \\(pid:{stuck}\\)", timeout=10)
    server.wait_for("Booting worker", count=2)
    if kind == "gthread":  # its requests run on threads ABRT does not interrupt
        with pytest.raises(OSError):
            hung.result(timeout=10)
    else:  # the sync worker's loop (the asyncio example inherits it) answers 500
        assert hung.result(timeout=10)[0] == 500
    assert server.request("/?sleep=0")[0] == 200


def test_max_requests_retires_the_worker(serve, kind):
    server = serve("examples.app_pid:app", *WORKER_ARGS[kind], "--max-requests", "3")
    pids = [server.get_pid() for _ in range(4)]
    assert pids[:3] == [pids[0]] * 3
    assert pids[3] != pids[0]
    server.wait_for("Autorestarting worker after current request.")


def test_hooks_fire_around_the_worker_and_the_request(serve, kind, tmp_path):
    config = tmp_path / "hooks.conf.py"
    config.write_text(HOOKS)
    server = serve("examples.hello:app", *WORKER_ARGS[kind], "-c", str(config))
    assert server.request("/hooked")[0] == 200
    server.wait_for("hook post_request /hooked 200")
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    lines = [line for line in server.log.text.splitlines() if "hook " in line]
    assert [line.split()[1] for line in lines] == [
        "post_fork",
        "post_worker_init",
        "pre_request",
        "post_request",
        "worker_exit",
    ]


def test_workers_leave_when_their_master_is_gone(serve, kind):
    server = serve("examples.app_pid:app", *WORKER_ARGS[kind], *FAST)
    worker = server.booted_pids()[0]
    os.kill(server.master_pid, signal.SIGKILL)
    wait_until(
        lambda: not Path(f"/proc/{worker}").exists(),
        message="(the orphaned worker kept running)",
    )


def test_check_config_names_a_worker_path_that_does_not_load(run_to_exit):
    code, output = run_to_exit("--check-config", "-k", "bad.path.Worker", "app:app")
    assert code != 0
    assert "bad.path.Worker" in output
