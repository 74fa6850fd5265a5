"""Exercise 13: ChunkedReader decodes a chunked body and stops at its last byte."""

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

import minigun
from minigun.config import Config
from minigun.http.body import Body, ChunkedReader
from minigun.http.errors import ChunkMissingTerminator, HTTPError, NoMoreData
from minigun.http.fields import FieldRules, read_trailers
from minigun.http.unreader import SocketUnreader

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


@dataclass
class Received:
    """The server's side: the body the application reads, its reader, the wire."""

    body: Body
    reader: ChunkedReader
    wire: SocketUnreader

    def rest_of_the_connection(self) -> bytes:
        """Whatever the body left unread on the connection, up to the client's close."""
        rest = b""
        while data := self.wire.read():
            rest += data
        return rest


def chunked_body_after_sending(connection, data: bytes) -> Received:
    """The client sends ``data`` and closes its side; the server reads it as the
    chunked body of a request whose head it has just read, as the parser does."""
    client, server = connection
    client.sendall(data)
    client.shutdown(socket.SHUT_WR)
    wire = SocketUnreader(server)
    rules = FieldRules.from_config(Config(), trusted=False)
    reader = ChunkedReader(wire, lambda unreader: read_trailers(unreader, rules))
    return Received(Body(reader), reader, wire)


def read_whole(body, sent: bytes) -> bytes:
    """body.read() until the end; a parse error fails the test with what was sent."""
    try:
        return body.read()
    except HTTPError as error:
        pytest.fail(f"reading the chunked body {sent!r} raised {error!r}")


def test_chunks_are_joined_and_the_next_request_is_intact(connection):
    received = chunked_body_after_sending(connection, CHUNKS + NEXT)
    body = read_whole(received.body, CHUNKS)
    assert body == BODY, (
        f"reading the body of {CHUNKS!r} gave {body!r}, expected {BODY!r}"
    )
    following = received.rest_of_the_connection()
    assert following == NEXT, (
        f"after the chunked body the connection holds {following!r}, expected the "
        f"next request {NEXT!r}: the reader must stop right after the last chunk's "
        "empty line"
    )


def test_small_reads_return_at_most_what_was_asked(connection):
    body = chunked_body_after_sending(connection, CHUNKS).body
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
    received = chunked_body_after_sending(connection, trailer)
    body = read_whole(received.body, trailer)
    trailers = received.reader.trailers
    assert (body, trailers) == (b"Wiki", [("X-CHECKSUM", "1234")]), (
        f"a body {trailer!r} gave {body!r} with trailers {trailers}; "
        "expected b'Wiki' and [('X-CHECKSUM', '1234')]"
    )


def test_a_connection_closed_mid_chunk_is_an_error(connection):
    body = chunked_body_after_sending(connection, b"A\r\nonly six").body
    with pytest.raises(NoMoreData):
        short = body.read()
        pytest.fail(
            f"a chunk of 10 bytes cut after 8 read as {short!r}; expected NoMoreData, "
            "never a shorter body handed to the application"
        )


def test_a_chunk_without_its_crlf_is_an_error(connection):
    body = chunked_body_after_sending(connection, b"4\r\nWikiXX0\r\n\r\n").body
    with pytest.raises(ChunkMissingTerminator):
        wrong = body.read()
        pytest.fail(
            f"a 4-byte chunk followed by 'XX' instead of CRLF read as {wrong!r}; "
            "expected ChunkMissingTerminator"
        )
