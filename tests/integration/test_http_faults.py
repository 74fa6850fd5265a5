"""Faults in request bodies and framing, over real sockets against a real server.

A slow upload that keeps coming is served; one that stalls is answered 408, whatever
the application made of the failed read; reading a body whole costs about the body;
every malformed shape gets its 4xx and a close within the deadline, and the worker
that answered is the one still serving.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from test_http_wire import exchange, read_to_close, status_and_headers

HERE = Path(__file__).parent
APPS = ("--pythonpath", str(HERE))
DEADLINE = 1.0  # seconds: the head deadline and the body idle timeout of these tests
SLOW = (
    *("--header-timeout", str(DEADLINE)),
    *("--body-idle-timeout", str(DEADLINE)),
)
SHORT = ("--timeout", "10", "--graceful-timeout", "3", *SLOW)
MARGIN = 1.5  # seconds a loaded machine may add before an answer arrives


def post_head(length: int, path: str = "/") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    )


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


# -- Request bodies ------------------------------------------------------------------


def test_a_steady_upload_may_take_longer_than_the_head_deadline(serve):
    server = serve("examples.app_echo:app", *SHORT)
    body = bytes(range(256)) * 4
    pieces = [body[at : at + 32] for at in range(0, len(body), 32)]  # 32 pieces
    start = time.monotonic()
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body)))
        for piece in pieces:  # 0.1 s apart: 3.2 s in all, never idle for 1 s
            time.sleep(0.1)
            sock.sendall(piece)
        answer = read_to_close(sock)
    assert time.monotonic() - start > 3 * DEADLINE
    assert status_and_headers(answer)[0] == 200
    assert answer.endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_an_upload_longer_than_the_worker_timeout_is_not_a_stuck_worker(serve, worker):
    server = serve("examples.app_echo:app", *SHORT, "--timeout", "2", "-k", worker)
    body = b"y" * 40
    with connect(server.port) as sock:
        sock.sendall(post_head(len(body)))
        for at in range(len(body)):  # 0.1 s apart: 4 s, twice the worker timeout
            time.sleep(0.1)
            sock.sendall(body[at : at + 1])
        answer = read_to_close(sock)
    assert status_and_headers(answer)[0] == 200
    assert answer.endswith(b"\r\n\r\n" + body)
    assert "WORKER TIMEOUT" not in server.log.text


@pytest.mark.parametrize(
    "app",
    [
        "examples.app_echo:app",  # lets the read's error go
        "http_wire_apps:wrapped_read_error",  # raises its own error instead
        "examples.flaskapp:app",  # answers 500 itself
    ],
)
def test_a_stalled_body_is_408_whatever_the_app_made_of_it(serve, app):
    server = serve(app, *SHORT, *APPS, "--log-level", "debug")
    start = time.monotonic()
    with connect(server.port) as sock:
        sock.sendall(post_head(10, "/echo") + b"ab")  # and then nothing
        answer = read_to_close(sock)
    elapsed = time.monotonic() - start
    status, headers = status_and_headers(answer)
    assert (status, headers["connection"]) == (408, "close")
    assert DEADLINE * 0.8 < elapsed < DEADLINE + MARGIN
    server.wait_for(
        r"Invalid request from ip=127\.0\.0\.1: Request not received in time"
    )
    assert "Error handling request" not in server.log.text


@pytest.mark.parametrize(
    ("worker", "app"),
    [
        ("sync", "http_wire_apps:answer_then_read"),
        ("gthread", "http_wire_apps:answer_then_read"),
        ("gthread", "examples.hello:app"),  # never reads: the worker drains the body
    ],
)
def test_a_body_that_stalls_after_the_answer_began_is_logged_as_the_clients(
    serve, worker, app
):
    server = serve(app, *SHORT, *APPS, "-k", worker, "--log-level", "debug")
    with connect(server.port) as sock:
        sock.sendall(post_head(10) + b"ab")  # and then nothing
        answer = read_to_close(sock)
    assert status_and_headers(answer)[0] == 200  # sent before the body stalled
    server.wait_for(r"Invalid request from ip=127\.0\.0\.1 after the response started")
    assert "Error handling request" not in server.log.text


def test_readline_after_a_partial_read_gets_the_rest_of_the_line(serve):
    server = serve("http_wire_apps:read_then_readline", *SHORT, *APPS)
    status, body = server.request("/", method="POST", body=b"abc\ndef\n")
    assert (status, body) == (200, b"b'ab'\nb'c\\n'\nb'def\\n'\n")


@pytest.mark.timeout(60)
def test_reading_a_body_whole_in_a_real_worker_costs_about_the_body(serve):
    server = serve("http_wire_apps:measured_read", *SHORT, *APPS)
    size = 8 * 1024 * 1024
    status, answer = server.request("/", method="POST", body=b"x" * size)
    received, ratio = answer.split()
    assert (status, int(received)) == (200, size)
    assert float(ratio) < 1.2, f"wsgi.input.read() peaked at {ratio}x the body"


# -- HTTP framing --------------------------------------------------------------------

CHUNKED_HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
REFUSED = [
    ("raw non-ASCII target", b"GET /\xc3\xa0%20k HTTP/1.1\r\nHost: x\r\n\r\n"),
    (
        "identity with Content-Length",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n"
        b"Content-Length: 5\r\n\r\nhello",
    ),
    (
        "Content-Type repeated in the trailer",
        CHUNKED_HEAD + b"5\r\nhello\r\n0\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n",
    ),
    (
        "Content-Length repeated in the trailer",
        CHUNKED_HEAD + b"0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
    ),
    ("Host in the trailer", CHUNKED_HEAD + b"0\r\nHost: evil\r\n\r\n"),
]


@pytest.mark.parametrize(("name", "raw"), REFUSED, ids=[name for name, _ in REFUSED])
def test_smuggling_shapes_are_refused_with_400(serve, name, raw):
    server = serve("examples.app_echo:app", *SHORT)
    status, headers = status_and_headers(exchange(server.port, raw))
    assert (status, headers["connection"]) == (400, "close")


@pytest.mark.parametrize("status", ["204", "304", "103"])
def test_a_bodyless_status_goes_out_without_framing_or_body(serve, status):
    server = serve("http_wire_apps:status_from_path", *SHORT, *APPS)
    raw = f"GET /{status} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    for _ in range(2):
        answer = exchange(server.port, raw)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status} ".encode())
        assert b"content-length" not in head.lower()
        assert b"transfer-encoding" not in head.lower()
        assert body == b""
    warning = rf"\[WARNING\] The application framed a {status} with Content-Length"
    assert len(server.wait_for(warning)) == 1
    assert len(server.wait_for(rf"wrote a body for a {status}")) == 1


# Shapes the parser cannot accept, sent without closing the sending side: the server
# must answer and close by itself, never wait for bytes that will not come. A shape
# whose bytes already show the fault is answered 400 at once; one that is merely
# unfinished is answered 408 at the deadline.
AT_ONCE, AT_DEADLINE = 400, 408
MALFORMED_SHAPES = [
    ("bare LF after the request line", b"GET / HTTP/1.1\nHost: x\r\n\r\n", AT_ONCE),
    ("bare LF ending everything", b"GET / HTTP/1.1\nHost: x\n\n", AT_ONCE),
    ("bare LF, nothing after", b"GET / HTTP/1.1\n", AT_ONCE),
    ("bare CR after the request line", b"GET / HTTP/1.1\rHost: x\r\n\r\n", AT_ONCE),
    ("bare CR ending a header", b"GET / HTTP/1.1\r\nHost: x\rA: b\r\n\r\n", AT_ONCE),
    ("CR inside a header value", b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n", AT_ONCE),
    ("LF inside a header value", b"GET / HTTP/1.1\r\nHost: x\r\nA: b\nc\r\n", AT_ONCE),
    ("bare LF ending the head", b"GET / HTTP/1.1\r\nHost: x\r\n\n", AT_ONCE),
    ("a NUL in the request line", b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", AT_ONCE),
    ("bare LF after a chunk size", CHUNKED_HEAD + b"5\nhello\r\n", AT_ONCE),
    ("bare CR after a chunk size", CHUNKED_HEAD + b"5\rhello\r\n", AT_ONCE),
    ("chunk data without its CRLF", CHUNKED_HEAD + b"5\r\nhelloXY", AT_ONCE),
    ("chunk data ended by a bare LF", CHUNKED_HEAD + b"5\r\nhello\n0\r\n", AT_ONCE),
    ("a trailer ended by bare LFs", CHUNKED_HEAD + b"0\r\nX-T: 1\n\n", AT_ONCE),
    (
        "a lone CR before the head's end",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r",
        AT_DEADLINE,
    ),
    ("an unfinished request line", b"GET / HTTP/1.1", AT_DEADLINE),
    ("an unfinished header block", b"GET / HTTP/1.1\r\nHost: x\r\n", AT_DEADLINE),
    ("a truncated chunk size", CHUNKED_HEAD + b"5", AT_DEADLINE),
    ("a truncated chunk", CHUNKED_HEAD + b"5\r\nhel", AT_DEADLINE),
    ("no last chunk", CHUNKED_HEAD + b"5\r\nhello\r\n", AT_DEADLINE),
    ("a trailer without its end", CHUNKED_HEAD + b"0\r\nX-T: 1\r\n", AT_DEADLINE),
    ("a short Content-Length body", post_head(10) + b"abc", AT_DEADLINE),
]


@pytest.mark.timeout(120)
def test_every_malformed_shape_is_answered_and_closed_within_the_deadline(serve):
    server = serve("examples.app_echo:app", *SHORT)
    booted = server.booted_pids()
    wrong = []
    for name, raw, expected in MALFORMED_SHAPES:
        start = time.monotonic()
        answer = exchange(server.port, raw, half_close=False)  # ends at the close
        elapsed = time.monotonic() - start
        status, headers = status_and_headers(answer)
        assert headers["connection"] == "close", name
        in_time = DEADLINE / 2 if expected == AT_ONCE else DEADLINE + MARGIN
        if status != expected or elapsed > in_time:
            wrong.append(f"{name}: {status} after {elapsed:.1f}s")
    assert not wrong, "not answered as expected: " + "; ".join(wrong)
    assert exchange(server.port, post_head(2) + b"ok").endswith(b"\r\n\r\nok")
    assert server.booted_pids() == booted, "a worker died and was replaced"
    assert server.worker_pids() == set(booted)
