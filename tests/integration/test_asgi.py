"""The asgi worker from outside: real FastAPI and Starlette apps, real processes.

The apps are in ``framework_apps/asgi_site.py``; what they do besides answering (the
lifespan events, background tasks, a stream that ended) they write, with the worker's
pid, to the file ``ASGI_EVENTS`` names, which the tests read.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import (
    BOOTING,
    FAST,
    REQUEST_STARTED,
    ROOT,
    STOP_TIMEOUT,
    Background,
    Load,
    LogBuffer,
    term_cuts_a_request_past_the_graceful_timeout,
    wait_until,
)

APPS = Path(__file__).resolve().parent / "framework_apps"
FASTAPI = "asgi_site:app"
STARLETTE = "asgi_site:starlette_app"
UPLOAD_SIZE = 8 * 1024 * 1024
PIECE = 64 * 1024


@pytest.fixture
def events(tmp_path) -> Path:
    return tmp_path / "events.txt"


@pytest.fixture
def asgi(serve, events):
    """``asgi(APP, *ARGS)``: minigun -k asgi serving ``APP`` from asgi_site."""

    def start(app: str = FASTAPI, *args: str, **kwargs):
        return serve(
            app, "-k", "asgi", "--pythonpath", str(APPS),
            "-e", f"ASGI_EVENTS={events}", *FAST, *args, **kwargs,
        )  # fmt: skip

    return start


def read_events(events: Path) -> list[str]:
    return events.read_text().splitlines() if events.exists() else []


def get_json(server, path: str, **kwargs) -> dict:
    status, body = server.request(path, **kwargs)
    assert status == 200, (status, body)
    return json.loads(body)


def test_fastapi_json_with_the_lifespan_state(asgi):
    server = asgi()
    assert get_json(server, "/json") == {
        "ok": True,
        "items": [1, 2, 3],
        "greeting": "hello from the lifespan",
    }


def test_starlette_app_and_its_lifespan(asgi):
    server = asgi(STARLETTE)
    assert server.request("/") == (
        200,
        b"hello from starlette, hello from the lifespan",
    )
    status, body = server.request("/echo", method="POST", body=b"x" * 1000)
    assert (status, json.loads(body)) == (200, {"length": 1000, "method": "POST"})


def test_a_streamed_response_is_chunked_on_http_1_1(asgi):
    server = asgi()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/stream")
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read() == b"".join(f"piece {n}\n".encode() for n in range(5))
    conn.request("GET", "/pid")  # the same connection: kept alive
    assert json.loads(conn.getresponse().read())["pid"] in server.worker_pids()
    conn.close()


def test_a_large_upload_streams_into_the_app(asgi):
    server = asgi()
    data = os.urandom(PIECE) * (UPLOAD_SIZE // PIECE)

    def pieces():
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]

    for headers in ({"Content-Length": str(len(data))}, {}):  # length, then chunked
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/upload", body=pieces(), headers=headers)
        answer = json.loads(conn.getresponse().read())
        conn.close()
        assert answer == {
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }


def read_response(client: socket.socket, ending: bytes) -> bytes:
    """Read from ``client`` until what came ends with ``ending``."""
    received = b""
    while not received.endswith(ending):
        data = client.recv(65536)
        assert data, f"closed after {received!r}"
        received += data
    return received


def test_a_head_and_a_chunked_body_that_arrive_in_pieces(asgi):
    """Each piece is a separate read: the parser step that needs the next one is
    run again when it comes (the head from its start, the body where it stopped)."""
    server = asgi()
    request = (
        b"POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(request), 7):
            client.sendall(request[start : start + 7])
            time.sleep(0.01)  # no condition to await: only that the pieces go apart
        response = read_response(client, b"}")
    digest = hashlib.sha256(b"hello world").hexdigest()
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.endswith(b'{"bytes":11,"sha256":"%s"}' % digest.encode())


def test_100_continue_is_sent_when_the_app_reads_the_body(asgi):
    server = asgi()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(
            b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert read_response(client, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(b"hello")
        response = read_response(client, b"}")
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b'"bytes":5' in response


def test_pipelined_requests_are_answered_in_order(asgi):
    server = asgi()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(
            b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n"
            b"GET /pid HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
        )
        response = read_response(client, b"}")
    first, second = response.split(b"HTTP/1.1 200 OK", 2)[1:]
    assert b"piece 4\n" in first
    assert b'{"pid":%d}' % server.booted_pids()[0] in second
    assert b"Connection: close" in second


def test_a_background_task_runs_after_the_response(asgi, events):
    server = asgi()
    assert get_json(server, "/background?name=mail", method="POST") == {
        "queued": "mail"
    }
    pid = server.booted_pids()[0]
    wait_until(lambda: f"background mail {pid}" in read_events(events))


def test_startup_before_the_first_request_and_shutdown_on_term(asgi, events):
    server = asgi()
    pid = server.booted_pids()[0]
    server.wait_for("Application startup complete.")
    assert read_events(events) == [f"startup {pid}"]
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert read_events(events) == [f"startup {pid}", f"shutdown {pid}"]
    assert "Application shutdown complete." in server.log.text


def test_a_failed_startup_is_a_boot_error_and_the_master_halts(
    run_to_exit, events, monkeypatch
):
    monkeypatch.setenv("ASGI_FAIL_STARTUP", "1")
    code, text = run_to_exit(
        "-k", "asgi", "--pythonpath", str(APPS), "-e", f"ASGI_EVENTS={events}",
        "-w", "2", FASTAPI,
    )  # fmt: skip
    assert code == 3, text
    assert "Application startup failed: " in text
    assert "the database is not there" in text
    assert "Reason: Worker failed to boot." in text
    assert text.count("Booting worker") <= 2, "the master respawned a failing worker"


def test_asking_for_uvloop_without_it_is_a_boot_error(run_to_exit, events):
    if importlib.util.find_spec("uvloop") is not None:
        pytest.skip("uvloop is installed here: this test needs it absent")
    code, text = run_to_exit(
        "-k", "asgi", "--asgi-loop", "uvloop", "--pythonpath", str(APPS),
        "-e", f"ASGI_EVENTS={events}", FASTAPI,
    )  # fmt: skip
    assert code == 3, text
    assert "asgi_loop is 'uvloop', but uvloop is not installed" in text


def test_a_client_that_leaves_mid_stream_ends_the_stream(asgi, events):
    server = asgi()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(b"GET /forever HTTP/1.1\r\nHost: test\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200 OK")
    pid = server.booted_pids()[0]
    wait_until(lambda: f"stream closed {pid}" in read_events(events))
    assert get_json(server, "/pid") == {"pid": pid}  # the worker serves on
    assert "Traceback" not in server.log.text


def test_a_client_that_resets_an_idle_connection_is_routine(asgi):
    # The reset arrives while the worker waits for the next request on a kept-alive
    # connection; it used to escape the connection's task, which asyncio printed to
    # stderr as "Task exception was never retrieved".
    server = asgi(FASTAPI, "--log-level", "debug")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(b"GET /pid HTTP/1.1\r\nHost: test\r\n\r\n")
        assert read_response(client, b"}").startswith(b"HTTP/1.1 200 OK")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    server.wait_for("Client went away")
    pid = server.booted_pids()[0]
    assert get_json(server, "/pid") == {"pid": pid}  # the worker serves on
    assert "never retrieved" not in server.log.text
    assert "Traceback" not in server.log.text


def test_term_under_load_loses_nothing(asgi):
    """Every request a worker took reaches its client. A client may be refused, or
    reset if the kernel queued its connection in the instant between the last
    worker's last accept and its close of the listener (ASGIWorker.stop_gracefully
    says why that instant exists): such a connection was never taken. The access
    log tells the two apart: it counts what the workers answered, and that must be
    exactly what the clients received."""
    server = asgi(
        FASTAPI, "--graceful-timeout", "5", "--access-logfile", "-", workers=2
    )
    with Load(server) as load:
        load.wait_for_successes(20)
        server.kill(signal.SIGTERM)
        assert server.wait_exit() == 0
    never_taken = ("ConnectionRefusedError", "ConnectionResetError")
    failures = [f for f in load.failures if not f.startswith(never_taken)]
    assert not failures, failures
    log = server.log.text
    answered = log.count('"GET / HTTP/1.1" 200 ')
    assert answered == load.successes, (
        f"the workers answered {answered} requests, the clients received "
        f"{load.successes}: a request taken was lost"
    )
    assert "Cancelled" not in log, "a request was cut at the stop deadline"
    assert load.successes >= 20


def test_term_lets_a_request_in_flight_finish(asgi):
    server = asgi(FASTAPI, "--log-level", "debug")
    slow = Background(server.request, "/slow?sleep=1")
    server.wait_for(REQUEST_STARTED)
    server.kill(signal.SIGTERM)
    status, body = slow.result()
    assert status == 200
    assert json.loads(body)["slept"] == 1
    assert server.wait_exit() == 0


def test_term_ends_what_outlives_the_graceful_timeout(asgi):
    server = asgi(FASTAPI, "--graceful-timeout", "1", "--log-level", "debug")
    term_cuts_a_request_past_the_graceful_timeout(server, "/slow?sleep=30")


def test_hup_new_workers_serve(asgi, events):
    server = asgi()
    old_pid = get_json(server, "/pid")["pid"]
    server.kill(signal.SIGHUP)
    server.wait_for(BOOTING, count=2)
    wait_until(lambda: old_pid not in server.worker_pids())
    new_pid = get_json(server, "/pid")["pid"]
    assert new_pid != old_pid
    wait_until(lambda: f"shutdown {old_pid}" in read_events(events))
    assert f"startup {new_pid}" in read_events(events)


def test_max_requests_replaces_the_worker(asgi):
    server = asgi(FASTAPI, "--max-requests", "3")
    first = server.booted_pids()[0]
    pids = [get_json(server, "/pid")["pid"] for _ in range(3)]
    assert pids == [first] * 3
    server.wait_for(BOOTING, count=2)
    wait_until(lambda: get_json(server, "/pid")["pid"] != first)
    assert "Autorestarting worker after current request." in server.log.text


def test_hooks_and_the_access_log(asgi, tmp_path):
    config = tmp_path / "hooks.py"
    config.write_text(
        "def pre_request(worker, req):\n"
        "    worker.log.info('pre %s %s', req.method, req.path)\n"
        "def post_request(worker, req, environ, resp):\n"
        "    worker.log.info('post %s %s', req.path, resp.status_code)\n"
    )
    server = asgi(FASTAPI, "-c", str(config), "--access-logfile", "-")
    assert get_json(server, "/pid")["pid"] == server.booted_pids()[0]
    server.wait_for("post /pid 200")
    assert "pre GET /pid" in server.log.text
    server.wait_for(re.compile(r'"GET /pid HTTP/1.1" 200 \d+'))


def test_root_path_and_a_trusted_proxys_scheme(asgi):
    server = asgi(FASTAPI, "--root-path", "/api", "--forwarded-allow-ips", "127.0.0.1")
    scope = get_json(server, "/scope", headers={"X-Forwarded-Proto": "https"})
    assert scope == {
        "root_path": "/api",
        "path": "/api/scope",
        "scheme": "https",
        "client": "127.0.0.1",
    }


def test_a_blocked_loop_is_logged(asgi):
    server = asgi(FASTAPI, "--timeout", "30")
    assert get_json(server, "/block-async?seconds=2.5", timeout=20) == {"blocked": 2.5}
    server.wait_for("The event loop was blocked for")


def test_a_stalled_loop_is_killed_by_the_masters_timeout(asgi):
    server = asgi(FASTAPI, "--timeout", "2")
    stuck = Background(server.request, "/block-async?seconds=60")
    server.wait_for("WORKER TIMEOUT", timeout=20)
    server.wait_for(BOOTING, count=2, timeout=20)
    # The ABRT unwinds the blocked coroutine and the loop with it: nothing answers.
    assert isinstance(stuck.error(), OSError)
    assert get_json(server, "/pid")["pid"] == server.booted_pids()[-1]


# --- a third-party worker class: uvicorn-worker's UvicornWorker -----------------------


def test_uvicorn_worker_runs_under_minigun(serve, events):
    server = serve(
        FASTAPI, "-k", "uvicorn_worker.UvicornWorker", "--pythonpath", str(APPS),
        "-e", f"ASGI_EVENTS={events}", *FAST,
    )  # fmt: skip
    assert get_json(server, "/json")["greeting"] == "hello from the lifespan"
    pid = get_json(server, "/pid")["pid"]
    assert pid in server.worker_pids()
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert read_events(events) == [f"startup {pid}", f"shutdown {pid}"]


# --- the same answers as gunicorn's own ASGI worker ----------------------------------

SAME_REQUESTS = [
    ("GET", "/json", None),
    ("GET", "/stream", None),
    ("POST", "/upload", b"y" * 100_000),
    ("GET", "/scope", None),
    ("GET", "/nowhere", None),
    ("HEAD", "/pid", None),
]


def answers(port: int) -> list[tuple[int, str | None, bytes]]:
    """Status, content type and body of each of :data:`SAME_REQUESTS`."""
    seen = []
    for method, path, body in SAME_REQUESTS:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(method, path, body=body)
        response = conn.getresponse()
        seen.append(
            (response.status, response.getheader("Content-Type"), response.read())
        )
        conn.close()
    return seen


@pytest.fixture
def gunicorn_asgi(events):
    """gunicorn -k asgi (gunicorn comes with uvicorn-worker, a test extra) serving
    the same FastAPI app; stopped by its pid."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-k", "asgi", "-b", "127.0.0.1:0",
         "--no-control-socket",
         "--pythonpath", str(APPS), "-e", f"ASGI_EVENTS={events}", FASTAPI],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log = LogBuffer(proc.stdout)
    try:
        match = log.wait_for(re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)"))[0]
        log.wait_for("ASGI server listening on")
        yield int(match.group(1))
    finally:
        proc.terminate()
        proc.wait(STOP_TIMEOUT)


def test_the_same_answers_as_gunicorns_asgi_worker(asgi, gunicorn_asgi):
    server = asgi()
    assert answers(server.port) == answers(gunicorn_asgi)
