"""Unreaders: bounded lines, push-back, and a deadline a slow client cannot stretch."""

import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from minigun.http.errors import LimitRequestLine, NoMoreData, RequestTimeout
from minigun.http.unreader import IterUnreader, SocketUnreader


def test_read_never_returns_more_than_asked_and_unread_pushes_back() -> None:
    unreader = IterUnreader([b"hello ", b"world"])
    assert unreader.read(3) == b"hel"
    unreader.unread(b"HEL")
    assert unreader.read(100) == b"HELlo "
    assert unreader.read() == b"world"
    assert unreader.read() == b""


def test_read_line_splits_on_crlf_and_a_split_crlf_is_still_one() -> None:
    unreader = IterUnreader([b"abc\r", b"\nrest"])
    assert unreader.read_line(100, LimitRequestLine) == b"abc"
    assert unreader.read() == b"rest"


def test_a_bare_lf_or_cr_ends_the_line_with_the_byte_kept() -> None:
    # The caller's grammar refuses the control byte: no waiting for a CRLF.
    unreader = IterUnreader([b"a\nb\rc\r\n"])
    assert unreader.read_line(100, LimitRequestLine) == b"a\n"
    assert unreader.read_line(100, LimitRequestLine) == b"b\r"
    assert unreader.read_line(100, LimitRequestLine) == b"c"


def test_a_line_with_a_bare_lf_is_returned_before_more_bytes_arrive() -> None:
    def then_hang() -> Iterator[bytes]:
        yield b"GET / HTTP/1.1\n"
        raise AssertionError("read_line asked for more after a bare LF")

    unreader = IterUnreader(then_hang())
    assert unreader.read_line(100, LimitRequestLine) == b"GET / HTTP/1.1\n"


def test_read_line_allows_exactly_the_limit() -> None:
    unreader = IterUnreader([b"12345\r\n"])
    assert unreader.read_line(5, LimitRequestLine) == b"12345"
    with pytest.raises(LimitRequestLine):
        IterUnreader([b"123456\r\n"]).read_line(5, LimitRequestLine)


def test_read_line_gives_up_while_reading_not_after_buffering() -> None:
    # An endless line: the limit must bite after about `limit` bytes.
    pieces_read = 0

    def endless() -> Iterator[bytes]:
        nonlocal pieces_read
        for _ in itertools.count():
            pieces_read += 1
            yield b"x" * 10

    with pytest.raises(LimitRequestLine):
        IterUnreader(endless()).read_line(100, LimitRequestLine)
    assert pieces_read <= 11


def test_read_line_at_the_end_of_the_source_is_no_more_data() -> None:
    with pytest.raises(NoMoreData):
        IterUnreader([b"GET / HTTP/1.1"]).read_line(100, LimitRequestLine)


def test_peek_does_not_consume() -> None:
    unreader = IterUnreader([b"a", b"b", b"c"])
    assert unreader.peek(2) == b"ab"
    assert unreader.read() == b"ab"
    assert unreader.peek(5) == b"c"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    client, server = socket.socketpair()
    yield client, server
    client.close()
    server.close()


def test_a_silent_client_meets_the_deadline(pair) -> None:
    _client, server = pair
    unreader = SocketUnreader(server)
    start = time.monotonic()
    unreader.set_limits(start + 0.3, None)
    with pytest.raises(RequestTimeout):
        unreader.read_line(100, LimitRequestLine)
    assert 0.25 < time.monotonic() - start < 2
    assert server.gettimeout() is None, "the socket's own timeout was not restored"


def test_a_trickling_client_meets_the_deadline_counted_from_the_start(pair) -> None:
    # One byte every 50 ms would reset a per-read timeout forever.
    client, server = pair
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            client.sendall(b"x")
            time.sleep(0.05)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    unreader = SocketUnreader(server)
    start = time.monotonic()
    unreader.set_limits(start + 0.5, None)
    try:
        with pytest.raises(RequestTimeout):
            unreader.read_line(100_000, LimitRequestLine)
    finally:
        stop.set()
        thread.join(2)
    assert time.monotonic() - start < 2


def test_without_a_deadline_a_socket_read_waits_for_data(pair) -> None:
    client, server = pair
    client.sendall(b"GET / HTTP/1.1\r\n")
    unreader = SocketUnreader(server)
    assert unreader.read_line(100, LimitRequestLine) == b"GET / HTTP/1.1"
    client.close()
    assert unreader.read() == b""


class TimeoutCountingSocket(socket.socket):
    """A socket that counts the calls that change its timeout."""

    settimeout_calls = 0

    def settimeout(self, value: float | None) -> None:
        self.settimeout_calls += 1
        super().settimeout(value)


def test_bytes_already_there_are_read_without_a_timer(pair) -> None:
    client, server = pair
    counted = TimeoutCountingSocket(fileno=server.detach())
    try:
        unreader = SocketUnreader(counted)
        unreader.set_limits(time.monotonic() + 5, None)
        client.sendall(b"GET / HTTP/1.1\r\n")
        assert unreader.read_line(100, LimitRequestLine) == b"GET / HTTP/1.1"
        assert counted.settimeout_calls == 0, "a read with bytes waiting set a timer"
        threading.Timer(0.1, client.sendall, [b"Host: x\r\n"]).start()
        assert unreader.read_line(100, LimitRequestLine) == b"Host: x"
        assert counted.settimeout_calls == 2, "a read that waited had no timeout"
        assert counted.gettimeout() is None
    finally:
        counted.close()


def test_a_socket_with_a_timeout_of_its_own_still_meets_the_deadline(pair) -> None:
    _client, server = pair
    server.settimeout(5)
    unreader = SocketUnreader(server)
    start = time.monotonic()
    unreader.set_limits(start + 0.3, None)
    with pytest.raises(RequestTimeout):
        unreader.read(10)
    assert 0.25 < time.monotonic() - start < 2
    assert server.gettimeout() == 5, "the socket's own timeout was not restored"


def test_a_timeout_set_after_the_reader_was_made_does_not_replace_the_deadline(pair):
    # An application may set a timeout on the raw socket (minigun.socket) before
    # it reads the body: the reader's own clock still decides.
    _client, server = pair
    unreader = SocketUnreader(server)
    server.settimeout(5)
    start = time.monotonic()
    unreader.set_limits(None, 0.3)
    with pytest.raises(RequestTimeout):
        unreader.read(10)
    assert time.monotonic() - start < 2
    assert server.gettimeout() == 5
