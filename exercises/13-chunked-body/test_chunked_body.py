"""Exercise 13: ChunkedReader decodes a chunked body and stops at its last byte."""

import socket
from pathlib import Path

import pytest

import minigun
from minigun.config import Config
from minigun.http.errors import ChunkMissingTerminator, HTTPError, NoMoreData
from minigun.http.parser import RequestParser

HEAD = b"POST /upload HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNKS = b"4\r\nWiki\r\n6\r\npedia \r\nB\r\nin chunks.\n\r\n0\r\n\r\n"
BODY = b"Wikipedia in chunks.\n"
NEXT = b"GET /next HTTP/1.1\r\nHost: example\r\n\r\n"


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def connection():
    """Both ends of a connected socket pair: (client, server)."""
    client, server = socket.socketpair()
    yield client, server
    client.close()
    server.close()


def requests_after_sending(connection, data: bytes) -> RequestParser:
    """The client sends ``data`` and closes its side; the server parses."""
    client, server = connection
    client.sendall(data)
    client.shutdown(socket.SHUT_WR)
    return RequestParser(Config(), server, ("127.0.0.1", 50000))


def read_whole(body, sent: bytes) -> bytes:
    """body.read() until the end; a parse error fails the test with what was sent."""
    try:
        return body.read()
    except HTTPError as error:
        pytest.fail(f"reading the chunked body {sent!r} raised {error!r}")


def test_chunks_are_joined_and_the_next_request_is_intact(connection):
    parser = requests_after_sending(connection, HEAD + CHUNKS + NEXT)
    body = read_whole(next(parser).body, CHUNKS)
    assert body == BODY, (
        f"reading the body of {CHUNKS!r} gave {body!r}, expected {BODY!r}"
    )
    following = next(parser, None)
    path = following.path if following else None
    assert path == "/next", (
        f"the request after the chunked body has path {path!r}, expected '/next': "
        "the reader must stop right after the last chunk's empty line"
    )


def test_small_reads_return_at_most_what_was_asked(connection):
    body = next(requests_after_sending(connection, HEAD + CHUNKS)).body
    pieces = []
    try:
        while piece := body.read(3):
            pieces.append(piece)
    except HTTPError as error:
        pytest.fail(f"read(3) raised {error!r} after returning {pieces}")
    too_big = [piece for piece in pieces if len(piece) > 3]
    assert not too_big and b"".join(pieces) == BODY, (
        f"read(3) until b'' returned {pieces}; expected pieces of at most 3 bytes "
        f"joining to {BODY!r}"
    )


def test_trailers_are_read_after_the_last_chunk(connection):
    trailer = b"4\r\nWiki\r\n0\r\nX-Checksum: 1234\r\n\r\n"
    request = next(requests_after_sending(connection, HEAD + trailer))
    body = read_whole(request.body, trailer)
    assert (body, request.trailers) == (b"Wiki", [("X-CHECKSUM", "1234")]), (
        f"a body {trailer!r} gave {body!r} with trailers {request.trailers}; "
        "expected b'Wiki' and [('X-CHECKSUM', '1234')]"
    )


def test_a_connection_closed_mid_chunk_is_an_error(connection):
    body = next(requests_after_sending(connection, HEAD + b"A\r\nonly six")).body
    with pytest.raises(NoMoreData):
        short = body.read()
        pytest.fail(
            f"a chunk of 10 bytes cut after 8 read as {short!r}; expected NoMoreData, "
            "never a shorter body handed to the application"
        )


def test_a_chunk_without_its_crlf_is_an_error(connection):
    body = next(requests_after_sending(connection, HEAD + b"4\r\nWikiXX0\r\n\r\n")).body
    with pytest.raises(ChunkMissingTerminator):
        wrong = body.read()
        pytest.fail(
            f"a 4-byte chunk followed by 'XX' instead of CRLF read as {wrong!r}; "
            "expected ChunkMissingTerminator"
        )
