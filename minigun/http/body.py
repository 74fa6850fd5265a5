"""Where a request body ends: the three framings, and the file-like ``Body``.

Chapter question: the header block has ended; how many of the bytes that follow belong
to this request, and which belong to the next one on the same connection?

RFC 9112 section 6.3 answers with one of three framings; a request may use two of
them, each a reader here:

- :class:`LengthReader`: ``Content-Length`` says how many bytes (section 6.2).
- :class:`ChunkedReader`: ``Transfer-Encoding: chunked`` sends the body in chunks, each
  prefixed by its size in hexadecimal, ended by a zero-size chunk and trailer fields
  (section 7.1).
- The third, a body that runs until the connection closes, is for responses only: a
  request without either header has no body at all.

A reader's ``read(size)`` returns at most ``size`` decoded bytes and ``b""`` once the
body is complete; it never reads a byte of the next request. :class:`Body` wraps a
reader in the file-like interface PEP 3333 asks of ``wsgi.input``.
"""

import io
import re
from collections.abc import Callable, Iterator

from minigun.http.errors import (
    ChunkMissingTerminator,
    InvalidChunkExtension,
    InvalidChunkSize,
    LimitRequestBody,
    NoMoreData,
    ParseException,
)
from minigun.http.grammar import TOKEN
from minigun.http.unreader import CRLF, MAX_RECV_SIZE, Unreader

#: How many bytes :class:`Body` asks its reader for while looking for a newline.
READ_SIZE = 65536
#: How many bytes it asks for at a time when it reads the rest of the body.
READ_ALL_SIZE = MAX_RECV_SIZE

#: The longest chunk-size line, extensions included; the size itself is at most 16
#: hex digits (a 64-bit count).
MAX_CHUNK_LINE = 4096
MAX_CHUNK_SIZE_DIGITS = 16

# RFC 9112 section 7.1: chunk-size = 1*HEXDIG
CHUNK_SIZE_RE = re.compile(rb"[0-9A-Fa-f]{1,%d}" % MAX_CHUNK_SIZE_DIGITS)

# RFC 9112 section 7.1.1, one grammar line per regex line (the tokens: grammar.TOKEN):
CHUNK_EXT_RE = re.compile(
    rb"""
    (?:                                     # chunk-ext = *(
        [ \t]* ; [ \t]*                     #   BWS ";" BWS
        %(token)s                           #   chunk-ext-name (a token)
        (?:                                 #   [
            [ \t]* = [ \t]*                 #     BWS "=" BWS
            (?: %(token)s                   #     chunk-ext-val: a token
            | "(?: [\t !#-\[\]-~\x80-\xff]  #       or a quoted-string of qdtext
                | \\[\t -~\x80-\xff] )*"    #       and quoted-pairs
            )
        )?                                  #   ]
    )*                                      # )
    """
    % {b"token": TOKEN},
    re.VERBOSE,
)

#: Reads and parses the trailer section after the last chunk.
TrailerReader = Callable[[Unreader], list[tuple[str, str]]]


class LengthReader:
    """A body of exactly ``length`` bytes (``Content-Length``)."""

    def __init__(self, unreader: Unreader, length: int) -> None:
        self.unreader = unreader
        self.length = length
        self.remaining = length

    @property
    def known_remaining(self) -> int:
        """How many body bytes are still to come, as far as the framing says."""
        return self.remaining

    def read(self, size: int) -> bytes:
        """Return up to ``size`` body bytes; ``b""`` once all ``length`` were read.

        Raises:
            NoMoreData: the client closed before sending ``length`` bytes; a short
                body is never handed to the application as if it were complete.
        """
        if self.remaining == 0 or size <= 0:
            return b""
        data = self.unreader.read(min(size, self.remaining))
        if not data:
            raise NoMoreData(f"{self.length - self.remaining} of {self.length} bytes")
        self.remaining -= len(data)
        return data


class ChunkedReader:
    """A body in chunks (``Transfer-Encoding: chunked``), decoded as it is read.

    Data is read straight from the unreader, never a whole chunk at once, so a chunk
    that claims a gigabyte costs no memory; ``limit_body`` is checked against each
    chunk's declared size, before its data is read.

    Args:
        unreader: where the chunked bytes come from.
        read_trailers: parses the trailer section with the header-field rules.
        limit_body: the most decoded bytes allowed; 0 for no limit.
    """

    def __init__(
        self, unreader: Unreader, read_trailers: TrailerReader, limit_body: int = 0
    ) -> None:
        self.unreader = unreader
        self.read_trailers = read_trailers
        self.limit_body = limit_body
        self.chunk_left = 0  # bytes of the current chunk not yet read
        self.declared = 0  # sum of the chunk sizes seen so far
        self.trailers: list[tuple[str, str]] = []
        self.done = False

    @property
    def known_remaining(self) -> int:
        """The rest of the current chunk: all the framing promises so far."""
        return self.chunk_left

    def read(self, size: int) -> bytes:
        """Return up to ``size`` decoded bytes; ``b""`` after the last chunk."""
        if self.done or size <= 0:
            return b""
        # exercise: chunked-body
        if self.chunk_left == 0:
            self.chunk_left = self.read_chunk_size()
            if self.chunk_left == 0:
                self.trailers = self.read_trailer_section()
                self.done = True
                return b""
        data = self.unreader.read(min(size, self.chunk_left))
        if not data:
            raise NoMoreData(f"{self.chunk_left} bytes missing from a chunk")
        self.chunk_left -= len(data)
        if self.chunk_left == 0:
            self.expect_crlf()
        # end-exercise: chunked-body
        return data

    def read_chunk_size(self) -> int:
        """Read one chunk-size line and return the size it declares."""
        line = self.unreader.read_line(MAX_CHUNK_LINE, InvalidChunkExtension)
        size = parse_chunk_size_line(line)
        self.declared += size
        if 0 < self.limit_body < self.declared:
            raise LimitRequestBody(f"more than {self.limit_body} bytes")
        return size

    def expect_crlf(self) -> None:
        """Consume the CRLF that must follow every chunk's data."""
        terminator = self.unreader.read(len(CRLF))
        if len(terminator) == 1:  # the CRLF may arrive split across reads
            terminator += self.unreader.read(1)
        if terminator != CRLF:
            raise ChunkMissingTerminator(terminator.decode("latin-1"))

    def read_trailer_section(self) -> list[tuple[str, str]]:
        """Read the trailer fields and the empty line that ends the chunked body."""
        try:
            return self.read_trailers(self.unreader)
        except NoMoreData:
            raise ChunkMissingTerminator("closed after the last chunk") from None


def parse_chunk_size_line(line: bytes) -> int:
    """Return the size on a chunk-size line, checking its extensions on the way.

    Whitespace is allowed only before an extension's ``;`` (BWS), never alone around
    the size, and extensions may carry no control characters: a lone CR there is how
    request smuggling hides a second line (RFC 9112 section 7.1.1).
    """
    size, semicolon, extensions = line.partition(b";")
    if semicolon:
        size = size.rstrip(b" \t")
    if not CHUNK_SIZE_RE.fullmatch(size):
        raise InvalidChunkSize(size.decode("latin-1"))
    if semicolon and not CHUNK_EXT_RE.fullmatch(b";" + extensions):
        raise InvalidChunkExtension(extensions.decode("latin-1"))
    return int(size, 16)


BodyReader = LengthReader | ChunkedReader


class Body:
    """The file-like ``wsgi.input``: ``read``, ``readline``, ``readlines``, iteration.

    A read never returns more than asked, and once the body is complete every read
    returns ``b""``. Bytes read ahead to find a newline wait in ``self.buffer``.

    A read that fails because of the client (a stall, a close, bad chunking) raises
    a :class:`~minigun.http.errors.BodyError` and keeps it as ``self.failure``: the
    application may catch the error, or turn it into one of its own, but the server
    still knows whose fault the request's end was and answers with its status.

    ``on_progress``, if set, is called whenever body bytes arrive: the worker's
    heartbeat, so that a long upload that keeps coming is not taken for a stuck
    worker.

    Args:
        reader: the framing that says where the body ends.
        before_first_read: called once, just before the first byte is read; the
            server uses it to send ``100 Continue`` only when the application reads.
    """

    def __init__(
        self, reader: BodyReader, before_first_read: Callable[[], None] | None = None
    ) -> None:
        self.reader = reader
        self.buffer = bytearray()
        self.before_first_read = before_first_read
        self.failure: ParseException | None = None
        self.on_progress: Callable[[], None] | None = None

    @property
    def awaiting_first_read(self) -> bool:
        """True until the first read, while ``before_first_read`` is still due."""
        return self.before_first_read is not None

    def read(self, size: int | None = None) -> bytes:
        """Return up to ``size`` bytes, or the whole rest of the body if ``size`` is
        ``None`` or negative."""
        if size is None or size < 0:
            return self.read_to_end()
        while len(self.buffer) < size and (data := self.fill(size - len(self.buffer))):
            if not self.buffer and len(data) == size:
                return data  # the common case: straight from the socket, no copy
            self.buffer.extend(data)
        return self.take(size)

    def read_to_end(self) -> bytes:
        """The rest of the body as one ``bytes``, costing about its size in memory:
        a BytesIO that is exactly full hands over its buffer without a copy."""
        out = io.BytesIO()
        out.write(self.take(len(self.buffer)))
        while data := self.fill(READ_ALL_SIZE):
            out.write(data)
            make_room(out, self.reader.known_remaining)
        out.truncate()  # drop the room that was made but never filled
        return out.getvalue()

    def readline(self, size: int | None = None) -> bytes:
        """Return one line including its ``\\n``, cut at ``size`` bytes if given."""
        limit = size if size is not None and size >= 0 else None
        searched = 0
        while (end := self.buffer.find(b"\n", searched)) < 0:
            if limit is not None and len(self.buffer) >= limit:
                return self.take(limit)
            searched = len(self.buffer)
            data = self.fill(READ_SIZE)
            if not data:
                return self.take(len(self.buffer))
            self.buffer.extend(data)
        length = end + 1 if limit is None else min(end + 1, limit)
        return self.take(length)

    def readlines(self, hint: int | None = None) -> list[bytes]:
        """Return the remaining lines; stop once ``hint`` bytes were collected."""
        lines: list[bytes] = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def discard(self, limit: int) -> bool:
        """Read and drop the rest of the body, at most about ``limit`` bytes more;
        ``True`` if the body ended, so the next request can be parsed.

        Draining is not the application reading: it never sends ``100 Continue``.
        A body whose framing already promises more than ``limit`` is not read at all.
        """
        self.before_first_read = None
        self.buffer.clear()
        dropped = 0
        while dropped + self.reader.known_remaining <= limit:
            data = self.fill(READ_ALL_SIZE)
            if not data:
                return True
            dropped += len(data)
        return False

    def fill(self, size: int) -> bytes:
        """Return the next bytes from the reader, announcing the first read once."""
        if self.before_first_read is not None:
            announce, self.before_first_read = self.before_first_read, None
            announce()
        try:
            data = self.reader.read(size)
        except ParseException as error:
            self.failure = error
            raise
        if data and self.on_progress is not None:
            self.on_progress()
        return data

    def take(self, size: int) -> bytes:
        """Remove and return the first ``size`` buffered bytes."""
        if size >= len(self.buffer):
            data = bytes(self.buffer)
            self.buffer.clear()
            return data
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def make_room(out: io.BytesIO, promised: int) -> None:
    """Once ``out`` is full, grow it for the bytes the framing still ``promised``,
    by at most what has arrived: a declared length is only a promise.

    Writing one byte at the far end allocates the room at once, so the writes that
    fill it never grow the buffer piece by piece.
    """
    position = out.tell()
    end = out.seek(0, io.SEEK_END)
    room = min(promised, max(position, READ_ALL_SIZE))
    if position == end and room > 0:
        out.seek(position + room - 1)
        out.write(b"\0")
    out.seek(position)
