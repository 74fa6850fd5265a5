"""What the connection's exchange decides, seen from a client's raw socket.

Each case was found by sending the same bytes to gunicorn and to minigun: an
application that ignores a body the client is still uploading, a response cut off
half-way, a client that declares a body and stalls. gunicorn resets the first, and
lets its master kill the worker in the last.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from test_http_wire import read_to_close, status_and_headers

HERE = Path(__file__).parent
APPS = ("--pythonpath", str(HERE))
WORKERS = ["sync", "gthread"]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def post_head(length: int, *lines: str) -> bytes:
    fields = "".join(f"{line}\r\n" for line in lines)
    head = f"POST / HTTP/1.1\r\nHost: x\r\n{fields}Content-Length: {length}\r\n\r\n"
    return head.encode()


def upload_slowly(sock: socket.socket, body: bytes, pieces: int, pause: float) -> None:
    """Send ``body`` in ``pieces`` pieces, ``pause`` seconds apart, as a slow link."""
    size = -(-len(body) // pieces)
    for at in range(0, len(body), size):
        time.sleep(pause)
        sock.sendall(body[at : at + size])


@pytest.mark.parametrize("worker", WORKERS)
def test_an_unread_slow_upload_is_drained_not_reset(serve, worker):
    """hello never reads the body; the client is still uploading when the answer
    comes. The worker reads past the rest of the body before it closes or waits
    for the next request, so the client's sends succeed and no reset eats the
    response it was sent."""
    server = serve("examples.hello:app", "-k", worker)
    body = b"u" * 200_000
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body), "Connection: close"))
        upload_slowly(sock, body, pieces=10, pause=0.1)  # raises if reset
        answer = read_to_close(sock)  # swallows a reset: the answer must be whole
    status, headers = status_and_headers(answer)
    assert status == 200
    length = int(headers["content-length"])
    assert len(answer.partition(b"\r\n\r\n")[2]) == length, answer[-200:]


def test_a_kept_alive_connection_starts_the_next_request_after_the_unread_body(serve):
    server = serve("examples.hello:app", "-k", "gthread")
    body = b"u" * 50_000
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body)))
        upload_slowly(sock, body, pieces=5, pause=0.1)
        sock.sendall(b"GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = read_to_close(sock)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2, answer


@pytest.mark.parametrize("worker", WORKERS)
def test_a_response_cut_off_by_the_application_never_looks_complete(serve, worker):
    """The connection closes after it (the sync worker always closes), and still
    the body is chunked: without the last chunk a client knows it was cut off,
    where a body ended by the close would look whole."""
    server = serve("http_wire_apps:fails_after_first_chunk", *APPS, "-k", worker)
    with connect(server.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = read_to_close(sock)
    status, headers = status_and_headers(answer)
    assert (status, headers["transfer-encoding"]) == (200, "chunked")
    assert answer.endswith(b"C\r\nfirst piece\n\r\n"), answer
    assert not answer.endswith(b"0\r\n\r\n")
    server.wait_for(r"Error handling request \(response already started\)")


@pytest.mark.parametrize("worker", WORKERS)
def test_a_stalled_body_is_408_before_a_short_timeout_kills_the_worker(serve, worker):
    """``-t 4`` with the default ``body_idle_timeout`` (10 s): the worker waits for
    the client at most half its timeout, answers 408, and lives on."""
    server = serve("examples.app_echo:app", "-k", worker, "--timeout", "4")
    pids = server.worker_pids()
    start = time.monotonic()
    with connect(server.port) as sock:
        sock.sendall(post_head(10) + b"ab")  # and then nothing
        answer = read_to_close(sock)
    elapsed = time.monotonic() - start
    status, headers = status_and_headers(answer)
    assert (status, headers["connection"]) == (408, "close")
    assert elapsed < 4, f"answered after {elapsed:.1f}s: the master's timeout is 4 s"
    time.sleep(1)
    assert "WORKER TIMEOUT" not in server.log.text
    assert server.worker_pids() == pids, "the worker that answered still serves"
