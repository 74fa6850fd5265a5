"""RequestParser: one request head after another, and the deadlines that bound them.

When the connection closes and where the next request starts: test_http_exchange.
"""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors
from minigun.http.message import ParseRules
from minigun.http.parser import RequestParser

PEER = ("127.0.0.1", 40000)


def rules(**settings: Any) -> ParseRules:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return ParseRules.from_config(cfg)


def parser_for(*pieces: bytes, **settings: Any) -> RequestParser:
    return RequestParser(rules(**settings), iter(pieces), PEER)


def test_request_heads_come_out_one_by_one() -> None:
    parser = parser_for(
        b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"
    )
    first = next(parser)
    assert first.body.read() == b"abc"  # the exchange reads past it in a server
    assert [first.path] + [req.path for req in parser] == ["/a", "/b", "/c"]


def test_a_client_that_closes_between_requests_ends_the_iteration() -> None:
    assert [req.path for req in parser_for(b"GET /a HTTP/1.1\r\n\r\n")] == ["/a"]
    assert list(parser_for()) == []


def test_a_client_that_closes_inside_a_request_is_no_more_data() -> None:
    with pytest.raises(errors.NoMoreData):
        next(parser_for(b"GET /a HTTP/1.1\r\nHost: x"))


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    yield client, server
    client.close()
    server.close()


def test_the_deadline_bounds_the_head(pair) -> None:
    client, server = pair
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the empty line
    parser = RequestParser(rules(header_timeout=0.3), server, PEER)
    start = time.monotonic()
    with pytest.raises(errors.RequestTimeout):
        next(parser)
    assert time.monotonic() - start < 2


def test_a_stalled_body_meets_the_idle_timeout(pair) -> None:
    client, server = pair
    client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
    parser = RequestParser(rules(body_idle_timeout=0.3), server, PEER)
    req = next(parser)
    start = time.monotonic()
    with pytest.raises(errors.RequestTimeout, match="no body bytes"):
        req.body.read()
    assert 0.25 < time.monotonic() - start < 2


def test_a_steady_body_may_take_longer_than_the_head_deadline(pair) -> None:
    client, server = pair
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
    settings = {"header_timeout": 0.2, "body_idle_timeout": 0.3}
    client.sendall(head)
    parser = RequestParser(rules(**settings), server, PEER)
    req = next(parser)

    def trickle() -> None:  # a byte every 0.1 s: 1 s in all, never idle for 0.3 s
        for byte in b"0123456789":
            time.sleep(0.1)
            client.sendall(bytes([byte]))

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        assert req.body.read() == b"0123456789"
    finally:
        sender.join(5)


def test_each_request_gets_its_own_deadline(pair) -> None:
    client, server = pair
    client.sendall(b"GET /a HTTP/1.1\r\n\r\n")
    parser = RequestParser(rules(header_timeout=0.4), server, PEER)
    assert next(parser).path == "/a"
    time.sleep(0.3)  # the first request's deadline passes meanwhile
    sender = threading.Timer(0.1, client.sendall, [b"GET /b HTTP/1.1\r\n\r\n"])
    sender.start()
    try:
        assert next(parser).path == "/b"
    finally:
        sender.join(2)


def test_the_owners_wait_limit_bounds_a_longer_body_idle_timeout(pair) -> None:
    client, server = pair
    client.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
    slow = rules(body_idle_timeout=30)
    req = next(RequestParser(slow, server, PEER, wait_limit=0.3))
    start = time.monotonic()
    with pytest.raises(errors.RequestTimeout, match="no body bytes"):
        req.body.read()
    assert 0.25 < time.monotonic() - start < 2


def test_the_owners_wait_limit_bounds_the_head_too(pair) -> None:
    client, server = pair
    client.sendall(b"GET / HTTP/1.1\r\n")
    parser = RequestParser(rules(header_timeout=30), server, PEER, wait_limit=0.3)
    start = time.monotonic()
    with pytest.raises(errors.RequestTimeout):
        next(parser)
    assert time.monotonic() - start < 2
