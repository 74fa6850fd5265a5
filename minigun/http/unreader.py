"""Byte sources that can push back what was read too far.

Chapter question: a socket hands over bytes in pieces of any size, cut anywhere; how
does a parser read "one line" or "the next n bytes" from it?

An *unreader* is a byte source with a small buffer in front. A parser reads a piece,
takes what it needs, and pushes the rest back with ``unread()``, so the next reader
starts exactly where the previous one stopped: the end of a request line, of a header
block, of a body.

Rules of this module:

- Bytes in, bytes out: nothing here decodes.
- Every read is bounded. :meth:`Unreader.read_line` gives up as soon as a line grows
  past its limit, before buffering more.
- Time is bounded too. A :class:`SocketUnreader` with a deadline waits on the socket
  only for the time left before it (``time.monotonic()``), so a client that trickles
  bytes cannot hold a worker longer than ``request_timeout`` in total.
"""

import socket
import time
from collections.abc import Iterable, Iterator

from minigun.http.errors import NoMoreData, ParseException, RequestTimeout

#: How many bytes one ``recv`` asks for.
RECV_SIZE = 8192

CRLF = b"\r\n"


class Unreader:
    """A byte source with a push-back buffer; subclasses say where bytes come from."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.deadline: float | None = None

    def chunk(self) -> bytes:
        """Return the next bytes from the source, or ``b""`` when it is exhausted."""
        raise NotImplementedError

    def set_deadline(self, deadline: float | None) -> None:
        """Stop waiting for the source at ``deadline`` (a ``time.monotonic()`` value).

        Only sources that can wait (sockets) use it; ``None`` waits without limit.
        """
        self.deadline = deadline

    def read(self, size: int | None = None) -> bytes:
        """Return at most ``size`` bytes (any amount if ``None``); ``b""`` at the end.

        Buffered bytes come first; only when the buffer is empty is the source asked,
        once, so a read returns as soon as some bytes are there.
        """
        if not self.buffer:
            self.buffer.extend(self.chunk())
        if size is None or size >= len(self.buffer):
            data = bytes(self.buffer)
            self.buffer.clear()
        else:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
        return data

    def unread(self, data: bytes) -> None:
        """Push ``data`` back so that the next read returns it first."""
        self.buffer[:0] = data

    def peek(self, size: int) -> bytes:
        """Return up to ``size`` bytes without consuming them; fewer only at the end."""
        while len(self.buffer) < size:
            data = self.chunk()
            if not data:
                break
            self.buffer.extend(data)
        return bytes(self.buffer[:size])

    def read_line(self, limit: int, too_long: type[ParseException]) -> bytes:
        """Read one line ended by CRLF and return it without the CRLF.

        Lines end at CRLF only (RFC 9112 section 2.2): a bare LF or CR stays inside the
        line, where the caller's grammar rejects it.

        Args:
            limit: the most bytes the line may have before its CRLF.
            too_long: the error to raise once the line is longer than ``limit``.

        Raises:
            NoMoreData: the source ended before the CRLF.
        """
        searched = 0
        while (end := self.buffer.find(CRLF, searched)) < 0:
            if len(self.buffer) > limit + 1:  # + 1: a CR alone may be half of a CRLF
                raise too_long(f"more than {limit} bytes")
            searched = max(len(self.buffer) - 1, 0)
            data = self.chunk()
            if not data:
                raise NoMoreData(bytes(self.buffer[:limit]).decode("latin-1"))
            self.buffer.extend(data)
        if end > limit:
            raise too_long(f"{end} > {limit} bytes")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + len(CRLF)]
        return line


class SocketUnreader(Unreader):
    """Reads a connected socket, waiting no later than the deadline.

    The socket's own timeout is restored after every ``recv``, so the worker's writes
    on the same socket are not cut short by a read deadline.
    """

    def __init__(self, sock: socket.socket, max_chunk: int = RECV_SIZE) -> None:
        super().__init__()
        self.sock = sock
        self.max_chunk = max_chunk

    def chunk(self) -> bytes:
        if self.deadline is None:
            return self.sock.recv(self.max_chunk)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout("deadline passed")
        previous = self.sock.gettimeout()
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(self.max_chunk)
        except TimeoutError:
            raise RequestTimeout(f"no data within {remaining:.1f}s") from None
        finally:
            self.sock.settimeout(previous)


class IterUnreader(Unreader):
    """Reads an iterable of byte strings: tests, and the corpus fed in pieces."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        super().__init__()
        self.pieces: Iterator[bytes] | None = iter(iterable)

    def chunk(self) -> bytes:
        if self.pieces is None:
            return b""
        for piece in self.pieces:
            if piece:
                return piece
        self.pieces = None
        return b""
