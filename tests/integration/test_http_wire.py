"""minigun's HTTP on the wire: real sockets against a real server on 127.0.0.1.

Every malformed request gets its status and ``Connection: close``, slow clients are cut
off at ``header_timeout`` or ``body_idle_timeout``, and after thousands of bad requests
every worker still answers a good one.
"""

from __future__ import annotations

import http.client
import io
import random
import socket
import struct
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SHORT = ("--timeout", "10", "--graceful-timeout", "3")
REQUEST_TIMEOUT = 1.0
SLOW = (
    *("--header-timeout", str(REQUEST_TIMEOUT)),
    *("--body-idle-timeout", str(REQUEST_TIMEOUT)),
)
GOOD = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
FUZZ_REQUESTS = 5000
FUZZ_SECONDS = 60.0


def exchange(
    port: int, raw: bytes, half_close: bool = True, timeout: float = 10.0
) -> bytes:
    """Send ``raw`` on a new connection; return everything until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before reading everything
        return read_to_close(sock)


def read_to_close(sock: socket.socket) -> bytes:
    data = b""
    try:
        while piece := sock.recv(65536):
            data += piece
    except ConnectionResetError:
        pass  # closed with unread input: what was sent before still counts
    return data


def status_and_headers(raw: bytes) -> tuple[int, dict[str, str]]:
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    status_line, *lines = head.split("\r\n")
    assert status_line.startswith("HTTP/1.1 "), f"not a response: {raw[:200]!r}"
    headers = {}
    for line in lines:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return int(status_line.split()[1]), headers


def worker_pid(port: int) -> int:
    """The pid in examples.hello's answer: which worker served the request."""
    raw = exchange(port, GOOD)
    status, _ = status_and_headers(raw)
    assert status == 200, raw
    return int(raw.rsplit(b" ", 1)[1])


MALFORMED = [
    ("bad method", b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("relative target", b"GET foo HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("bad version", b"GET / HTTP/x\r\nHost: x\r\n\r\n", 400),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ("bare LF in a header", b"GET / HTTP/1.1\r\nHost: x\r\nA: b\nC: d\r\n\r\n", 400),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", 400),
    ("CTL in a value", b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x07c\r\n\r\n", 400),
    ("no Host on 1.1", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
    (
        "two Content-Lengths",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        b"Content-Length: 1\r\n\r\nx",
        400,
    ),
    (
        "Content-Length +1",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\nx",
        400,
    ),
    (
        "chunked with Content-Length",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "chunked not last",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        400,
    ),
    (
        "chunked on HTTP/1.0",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    (
        "unknown transfer coding",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br, chunked\r\n\r\n",
        501,
    ),
    ("unknown expectation", b"GET / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n", 417),
    ("request line too long", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", 414),
    (
        "header too long",
        b"GET / HTTP/1.1\r\nHost: x\r\nA: " + b"b" * 9000 + b"\r\n\r\n",
        431,
    ),
    (
        "too many headers",
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"A: b\r\n" * 101 + b"\r\n",
        431,
    ),
]


@pytest.mark.timeout(120)
def test_each_malformed_request_gets_its_status_and_the_worker_lives_on(serve):
    server = serve("examples.hello:app", *SHORT)
    pid = worker_pid(server.port)
    for name, raw, expected in MALFORMED:
        status, headers = status_and_headers(exchange(server.port, raw))
        assert status == expected, name
        assert headers["connection"] == "close", name
    assert worker_pid(server.port) == pid
    assert server.booted_pids() == [pid]


CHUNKED = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
BAD_BODIES = [
    ("bad chunk size", CHUNKED + b"+5\r\nhello\r\n0\r\n\r\n"),
    ("bare CR in an extension", CHUNKED + b"5;a=b\rc\r\nhello\r\n0\r\n\r\n"),
    ("chunk without CRLF", CHUNKED + b"5\r\nhelloXX0\r\n\r\n"),
    ("no last chunk", CHUNKED + b"5\r\nhello\r\n"),
]


@pytest.mark.parametrize(("name", "raw"), BAD_BODIES)
def test_a_malformed_body_is_a_400_when_the_app_reads_it(serve, name, raw):
    server = serve("examples.app_echo:app", *SHORT)
    status, headers = status_and_headers(exchange(server.port, raw))
    assert (status, headers["connection"]) == (400, "close")


def test_nothing_is_parsed_after_a_malformed_request(serve):
    server = serve("examples.hello:app", *SHORT)
    raw = exchange(server.port, b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n" + GOOD)
    assert raw.count(b"HTTP/1.1 ") == 1
    assert status_and_headers(raw)[0] == 400


def test_limit_request_body_answers_413_up_front_and_mid_chunked(serve):
    server = serve("examples.app_echo:app", *SHORT, "--limit-request-body", "100")
    declared = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"
    assert status_and_headers(exchange(server.port, declared))[0] == 413
    chunks = b"".join(b"20\r\n" + b"x" * 32 + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
    chunked = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    )
    status, headers = status_and_headers(exchange(server.port, chunked))
    assert status == 413
    assert headers["connection"] == "close"


def test_a_body_short_of_its_content_length_never_reaches_the_app_as_complete(serve):
    server = serve("examples.app_echo:app", *SHORT)
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
    response = exchange(server.port, raw)  # the client closes after 3 bytes
    assert status_and_headers(response)[0] == 400
    assert not response.endswith(b"abc")


def test_a_client_that_disconnects_mid_request_does_not_hurt_the_worker(serve):
    server = serve("examples.hello:app", *SHORT)
    pid = worker_pid(server.port)
    for partial in (b"GET / HT", b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(partial)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert worker_pid(server.port) == pid


def test_trickled_headers_are_cut_off_at_the_deadline(serve):
    server = serve("examples.hello:app", *SHORT, *SLOW)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    start = time.monotonic()
    answer = b""
    try:
        # One byte every 50 ms would reset a per-read timeout forever.
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"y" * 1000:
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - start > 5 * REQUEST_TIMEOUT:
                break
    except OSError:
        pass  # the server closed on us: expected
    finally:
        sock.settimeout(5)
        answer = read_to_close(sock)
        sock.close()
    elapsed = time.monotonic() - start
    assert elapsed < 3 * REQUEST_TIMEOUT + 1, f"still connected after {elapsed:.1f}s"
    if answer:
        assert status_and_headers(answer)[0] == 408


def test_a_stalled_body_is_answered_408_within_the_deadline(serve):
    server = serve("examples.app_echo:app", *SHORT, *SLOW)
    start = time.monotonic()
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"
    answer = exchange(server.port, raw, half_close=False)
    elapsed = time.monotonic() - start
    status, headers = status_and_headers(answer)
    assert (status, headers["connection"]) == (408, "close")
    assert REQUEST_TIMEOUT * 0.8 < elapsed < REQUEST_TIMEOUT + 2


def test_expect_100_continue_over_the_wire(serve):
    server = serve("examples.app_echo:app", *SHORT)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = read_to_close(sock)
    assert status_and_headers(answer)[0] == 200
    assert answer.endswith(b"\r\n\r\nhello")


def mutate(rng: random.Random, raw: bytes) -> bytes:
    """A random small damage to a good request: flip, insert, delete, duplicate."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        action = rng.choice(("flip", "insert", "delete", "repeat"))
        if action == "flip":
            data[at] = rng.randrange(256)
        elif action == "insert":
            data[at:at] = bytes([rng.choice(b"\r\n\x00 :;\t,-_\x7f\xff0")])
        elif action == "delete" and len(data) > 1:
            del data[at]
        else:
            data[at:at] = data[at : at + rng.randint(1, 20)]
    return bytes(data)


SEEDS = [
    b"GET /path?q=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]


@pytest.mark.timeout(FUZZ_SECONDS + 60)
def test_thousands_of_malformed_requests_leave_every_worker_serving(serve):
    server = serve("examples.hello:app", *SHORT, *SLOW, workers=2)
    booted = server.booted_pids()
    rng = random.Random(20261122)
    deadline = time.monotonic() + FUZZ_SECONDS
    sent = answered = 0
    while sent < FUZZ_REQUESTS and time.monotonic() < deadline:
        raw = mutate(rng, rng.choice(SEEDS))
        answer = exchange(server.port, raw, timeout=5)
        sent += 1
        if answer:
            status_and_headers(answer)  # whatever it is, it is a well-formed response
            answered += 1
    assert sent >= FUZZ_REQUESTS / 4, f"only {sent} requests in {FUZZ_SECONDS}s"
    assert answered == sent, "a request got no response at all"
    pids = set()
    for _ in range(100):
        pids.add(worker_pid(server.port))
        if pids == set(booted):
            break
    assert pids == set(booted), "not every worker answered a good request"
    assert server.booted_pids() == booted, "a worker died and was replaced"
    assert server.worker_pids() == set(booted)


def test_the_example_flask_app_under_wsgiref_validate(serve):
    server = serve("http_wire_apps:validated_flask", *SHORT, "--pythonpath", str(HERE))
    status, body = server.request("/")
    assert (status, body) == (200, b"Hello from Flask on minigun\n")
    status, body = server.request("/echo", method="POST", body=b"x" * 100_000)
    assert (status, body) == (200, b"x" * 100_000)
    assert "AssertionError" not in server.log.text
    assert "WSGIWarning" not in server.log.text


class KeptOpen(io.BytesIO):
    """A stream ``http.client`` cannot close after one response."""

    def close(self) -> None:
        pass


class SharedFile:
    """One byte stream that successive ``http.client`` responses read in turn."""

    def __init__(self, data: bytes) -> None:
        self.file = KeptOpen(data)

    def makefile(self, mode: str) -> io.BytesIO:
        return self.file


def responses_in(raw: bytes, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Decode ``count`` responses sent back to back on one connection."""
    sock = SharedFile(raw)
    decoded = []
    for _ in range(count):
        response = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        decoded.append((response.status, headers, response.read()))
    assert sock.file.read() == b"", "more bytes than the responses"
    return decoded


def test_pipelined_requests_on_one_keep_alive_connection(serve):
    server = serve("examples.app_echo:app", *SHORT, "-k", "gthread", "--threads", "2")
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nde\r\n1;ext=1\r\nf\r\n0\r\nX-Trailer: 1\r\n\r\n"
        b"POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\ng"
        b"GET /never HTTP/1.1\r\nHost: x\r\n\r\n"  # after an HTTP/1.0 close
    )
    answer = exchange(server.port, raw)
    (s1, h1, b1), (s2, h2, b2), (s3, h3, b3) = responses_in(answer, 3)
    assert (s1, b1, "connection" in h1) == (200, b"abc", False)
    assert (s2, b2, "connection" in h2) == (200, b"def", False)
    assert (s3, b3, h3["connection"]) == (200, b"g", "close")


def test_a_malformed_request_in_a_pipeline_ends_the_connection(serve):
    server = serve("examples.app_echo:app", *SHORT, "-k", "gthread", "--threads", "2")
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na"
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        b"Content-Length: 2\r\n\r\nbc"
        b"POST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nd"
    )
    (s1, _, b1), (s2, h2, _) = responses_in(exchange(server.port, raw), 2)
    assert (s1, b1) == (200, b"a")
    assert (s2, h2["connection"]) == (400, "close")


@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_a_wrapped_file_is_served_whole(serve, tmp_path, worker):
    data = bytes(random.Random(7).randrange(256) for _ in range(300_000))
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    server = serve(
        "http_wire_apps:file_app",
        *SHORT,
        "-k",
        worker,
        "--pythonpath",
        str(HERE),
        env={"MINIGUN_WIRE_FILE": str(path)},
    )
    status, body = server.request("/")
    assert (status, len(body), body == data) == (200, len(data), True)
