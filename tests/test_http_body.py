"""Body framing: where a body ends, and the file-like Body the application reads."""

import itertools
import os
import socket
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

from minigun.config import Config
from minigun.http.body import (
    Body,
    ChunkedReader,
    LengthReader,
    parse_chunk_size_line,
)
from minigun.http.errors import (
    ChunkMissingTerminator,
    InvalidChunkExtension,
    InvalidChunkSize,
    LimitRequestBody,
    NoMoreData,
)
from minigun.http.message import ParseRules
from minigun.http.parser import RequestParser
from minigun.http.unreader import IterUnreader, Unreader


def no_trailers(unreader: Unreader) -> list[tuple[str, str]]:
    """A trailer reader for chunked bodies that end with an empty trailer section."""
    line = unreader.read_line(100, InvalidChunkExtension)
    assert line == b"", f"unexpected trailer line {line!r}"
    return []


def chunked(*pieces: bytes, limit: int = 0) -> ChunkedReader:
    return ChunkedReader(IterUnreader(pieces), no_trailers, limit)


def test_length_reader_stops_at_the_length_and_leaves_the_rest() -> None:
    unreader = IterUnreader([b"helloGET /next"])
    body = Body(LengthReader(unreader, 5))
    assert body.read() == b"hello"
    assert body.read() == b""
    assert unreader.read() == b"GET /next"


def test_a_body_short_of_its_length_raises_instead_of_ending() -> None:
    body = Body(LengthReader(IterUnreader([b"hel"]), 5))
    with pytest.raises(NoMoreData):
        body.read()


def test_chunked_reader_decodes_and_leaves_the_next_request() -> None:
    unreader = IterUnreader([b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nNEXT"])
    body = Body(ChunkedReader(unreader, no_trailers))
    assert body.read() == b"hello world"
    assert unreader.read() == b"NEXT"


@pytest.mark.parametrize(
    ("line", "size"),
    [
        (b"0", 0),
        (b"a", 10),
        (b"0005", 5),
        (b"A ; name=value", 10),
        (b'1;q="a b"', 1),
        (b'1;q="a\\"b";r', 1),
        (b"1;a;b=c ; d = e", 1),
    ],
)
def test_chunk_size_lines(line: bytes, size: int) -> None:
    assert parse_chunk_size_line(line) == size


@pytest.mark.parametrize(
    "line", [b"", b" 5", b"5 ", b"+5", b"-5", b"0x5", b"5_0", b"g", b"1" * 17]
)
def test_chunk_sizes_are_strict_bounded_hex(line: bytes) -> None:
    with pytest.raises(InvalidChunkSize):
        parse_chunk_size_line(line)


@pytest.mark.parametrize("line", [b"5;", b"5;a=", b"5;a\rb", b'5;a="x', b"5;a=b c"])
def test_malformed_chunk_extensions(line: bytes) -> None:
    with pytest.raises(InvalidChunkExtension):
        parse_chunk_size_line(line)


def test_a_chunk_line_is_bounded_while_reading() -> None:
    endless = itertools.chain([b"5;"], itertools.repeat(b"a=b;"))
    with pytest.raises(InvalidChunkExtension):
        ChunkedReader(IterUnreader(endless), no_trailers).read(10)


def test_chunk_data_must_end_with_crlf() -> None:
    with pytest.raises(ChunkMissingTerminator):
        Body(chunked(b"5\r\nhelloXX0\r\n\r\n")).read()


def test_a_crlf_split_across_reads_is_still_a_crlf() -> None:
    body = Body(chunked(b"5\r\nhello\r", b"\n0\r\n", b"\r\n"))
    assert body.read() == b"hello"


def test_a_closed_connection_inside_a_chunk_is_no_more_data() -> None:
    with pytest.raises(NoMoreData):
        Body(chunked(b"a\r\nhello")).read()


def test_the_body_limit_bites_on_the_declared_size_before_reading_it() -> None:
    def only_the_size_line() -> Iterator[bytes]:
        yield b"FFFFFFFF\r\n"
        raise AssertionError("the chunk data was read despite the limit")

    reader = ChunkedReader(IterUnreader(only_the_size_line()), no_trailers, 100)
    with pytest.raises(LimitRequestBody):
        reader.read(10)


def test_the_body_limit_counts_across_chunks() -> None:
    body = Body(chunked(b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limit=9))
    assert body.read(5) == b"hello"
    with pytest.raises(LimitRequestBody):
        body.read()


def test_trailers_are_kept_on_the_reader() -> None:
    def trailers(unreader: Unreader) -> list[tuple[str, str]]:
        assert unreader.read_line(100, InvalidChunkExtension) == b"X-Sum: 1"
        assert unreader.read_line(100, InvalidChunkExtension) == b""
        return [("X-SUM", "1")]

    reader = ChunkedReader(IterUnreader([b"0\r\nX-Sum: 1\r\n\r\n"]), trailers)
    assert Body(reader).read() == b""
    assert reader.trailers == [("X-SUM", "1")]


def test_a_closed_connection_after_the_last_chunk_is_a_missing_terminator() -> None:
    with pytest.raises(ChunkMissingTerminator):
        Body(chunked(b"0\r\n")).read()


def lines_body() -> Body:
    data = b"one\ntwo\n\nthree"
    return Body(LengthReader(IterUnreader([data[:5], data[5:]]), len(data)))


def test_readline_with_and_without_a_size() -> None:
    body = lines_body()
    assert body.readline() == b"one\n"
    assert body.readline(2) == b"tw"
    assert body.readline(10) == b"o\n"
    assert body.readline() == b"\n"
    assert body.readline() == b"three"
    assert body.readline() == b""


def test_readlines_iteration_and_hint() -> None:
    assert lines_body().readlines() == [b"one\n", b"two\n", b"\n", b"three"]
    assert list(lines_body()) == [b"one\n", b"two\n", b"\n", b"three"]
    assert lines_body().readlines(5) == [b"one\n", b"two\n"]


def test_read_with_a_size_never_returns_more() -> None:
    body = lines_body()
    assert [body.read(4) for _ in range(5)] == [
        b"one\n",
        b"two\n",
        b"\nthr",
        b"ee",
        b"",
    ]


def test_before_first_read_is_called_once_on_the_first_read() -> None:
    calls = []
    body = Body(LengthReader(IterUnreader([b"abc"]), 3), lambda: calls.append(1))
    assert body.awaiting_first_read
    assert body.read(1) == b"a"
    assert body.read() == b"bc"
    assert calls == [1]
    assert not body.awaiting_first_read


def test_discarding_a_body_is_not_the_application_reading_it() -> None:
    calls = []
    unreader = IterUnreader([b"abcNEXT"])
    body = Body(LengthReader(unreader, 3), lambda: calls.append(1))
    assert body.discard(10)
    assert calls == []
    assert unreader.read() == b"NEXT"


def test_discarding_stops_at_its_limit() -> None:
    unreader = IterUnreader([b"abc", b"def", b"ghi"])
    assert not Body(LengthReader(unreader, 9)).discard(5), "9 bytes promised"
    assert unreader.read() == b"abc", "nothing read: the length alone was too much"
    chunks = IterUnreader([b"3\r\nabc\r\n", b"3\r\ndef\r\n", b"3\r\nghi\r\n0\r\n\r\n"])
    assert not Body(ChunkedReader(chunks, lambda _: [])).discard(5)


@pytest.mark.parametrize(
    "pieces",
    [[b"abc\ndef\n"], [b"ab", b"c\nd", b"ef\n"], [b"a", b"b", b"c", b"\ndef\n"]],
)
def test_readline_after_a_partial_read_returns_the_rest_of_the_line(pieces) -> None:
    body = Body(LengthReader(IterUnreader(pieces), 8))
    assert body.read(2) == b"ab"
    assert body.readline() == b"c\n"
    assert body.readline() == b"def\n"
    assert body.readline() == b""


# -- What reading a body whole costs, over a real socket -------------------------------

BIG_BODY = 8 * 1024 * 1024
CHUNK = 1024 * 1024


def peak_of_reading_whole(
    head: bytes, wire: bytes
) -> tuple[bytes, float, list[tuple[int, int]]]:
    """Send ``head`` and ``wire`` over a socketpair; read the body with ``read()``.

    Returns the body, the peak of Python memory allocated while reading it as a
    multiple of its size (tracemalloc), and for each ``recv`` how much it asked for
    and how much it got.
    """
    client, server = socket.socketpair()
    asked: list[tuple[int, int]] = []
    spy = RecordingSocket(server, asked)
    try:
        client.sendall(head)
        req = next(
            RequestParser(ParseRules.from_config(Config()), spy, ("127.0.0.1", 1))
        )
        asked.clear()
        sender = threading.Thread(target=client.sendall, args=(wire,))
        tracemalloc.start()
        try:
            sender.start()
            body = req.body.read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            sender.join(10)
    finally:
        client.close()
        server.close()
    return body, peak / BIG_BODY, asked


class RecordingSocket(socket.socket):
    """The server's end of the pair, remembering the size of every ``recv``."""

    def __init__(self, sock: socket.socket, asked: list[tuple[int, int]]) -> None:
        super().__init__(
            sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno())
        )
        self.asked = asked

    def recv(self, size: int, flags: int = 0) -> bytes:
        data = super().recv(size, flags)
        self.asked.append((size, len(data)))
        return data


@pytest.mark.timeout(30)
def test_reading_a_sized_body_whole_costs_about_the_body() -> None:
    payload = bytes(range(256)) * (BIG_BODY // 256)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % BIG_BODY
    body, peak, asked = peak_of_reading_whole(head, payload)
    assert body == payload
    assert peak < 1.2, f"read() peaked at {peak:.2f}x the body's size"
    left = BIG_BODY
    for size, got in asked:  # never a small recv while much is still to come
        assert size >= min(65536, left), f"recv({size}) with {left} bytes to come"
        left -= got


@pytest.mark.timeout(30)
def test_reading_a_chunked_body_whole_costs_about_the_body() -> None:
    payload = bytes(range(256)) * (BIG_BODY // 256)
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire = b"".join(
        b"%X\r\n%s\r\n" % (CHUNK, payload[at : at + CHUNK])
        for at in range(0, BIG_BODY, CHUNK)
    )
    body, peak, _ = peak_of_reading_whole(head, wire + b"0\r\n\r\n")
    assert body == payload
    # Growing chunk by chunk, io.BytesIO keeps up to an eighth in reserve.
    assert peak < 1.25, f"read() peaked at {peak:.2f}x the body's size"


def test_a_failed_read_is_kept_as_the_bodys_failure() -> None:
    body = Body(LengthReader(IterUnreader([b"abc"]), 10))
    assert body.failure is None
    with pytest.raises(NoMoreData) as caught:
        body.read()
    assert body.failure is caught.value


def test_on_progress_is_called_whenever_body_bytes_arrive() -> None:
    calls = []
    body = Body(LengthReader(IterUnreader([b"ab", b"cd", b"e"]), 5))
    body.on_progress = lambda: calls.append(1)
    assert body.read() == b"abcde"
    assert len(calls) == 3


def test_a_declared_length_costs_nothing_until_the_bytes_come() -> None:
    # A client that announces a gigabyte and sends a kilobyte must not cost a gigabyte.
    body = Body(LengthReader(IterUnreader([b"x" * 1024]), 1024**3))
    tracemalloc.start()
    try:
        with pytest.raises(NoMoreData):
            body.read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"read() of 1 KiB peaked at {peak} bytes"
