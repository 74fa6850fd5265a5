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
  past its limit, before buffering more, and as soon as a line ends in anything but
  CRLF: a bare CR or LF is handed to the caller's grammar at once, never waited past.
- Time is bounded too, in one of two ways. While the request head arrives, a
  :class:`SocketUnreader` waits only for the time left before a deadline
  (``header_timeout``), so trickling the head cannot hold a worker. While the body
  arrives, each wait is bounded instead (``body_idle_timeout``): a body that keeps
  coming may take as long as it needs, a body that stops is cut off.
"""

import contextlib
import socket
import sys
import time
from collections.abc import Iterable, Iterator

from minigun.http.errors import NoMoreData, ParseException, RequestTimeout

#: How many bytes one ``recv`` asks for when the caller gives no size.
RECV_SIZE = 65536
#: The most one ``recv`` asks for: ``recv(n)`` allocates ``n`` bytes before it knows
#: how many will come, so this is also the most a read costs beyond its result.
MAX_RECV_SIZE = 256 * 1024

CRLF = b"\r\n"
HEAD_TOO_SLOW = "the request head was not complete in time"


class Unreader:
    """A byte source with a push-back buffer; subclasses say where bytes come from."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.deadline: float | None = None
        self.idle_timeout: float | None = None

    def chunk(self, size: int = RECV_SIZE) -> bytes:
        """Return up to ``size`` bytes from the source, ``b""`` when it is exhausted."""
        raise NotImplementedError

    def set_limits(self, deadline: float | None, idle_timeout: float | None) -> None:
        """Bound the waits by a ``deadline`` for everything (a ``time.monotonic()``
        value: the request head's), an ``idle_timeout`` for each piece however long
        it all takes (the body's), both, or neither (``None``); whichever comes first
        ends a wait. Only sources that can wait (sockets, streams) use them.
        """
        self.deadline, self.idle_timeout = deadline, idle_timeout

    def time_to_wait(self) -> float | None:
        """Seconds the next ``recv`` may wait; ``None`` for as long as it takes."""
        if self.deadline is None:
            return self.idle_timeout
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimeout(HEAD_TOO_SLOW)
        if self.idle_timeout is not None:
            return min(remaining, self.idle_timeout)
        return remaining

    def timeout_detail(self, waited: float) -> str:
        """What the 408 says: which of the two clocks ran out."""
        if self.deadline is None or waited == self.idle_timeout:
            return f"no body bytes for {waited:.1f}s"
        return HEAD_TOO_SLOW

    def read(self, size: int | None = None) -> bytes:
        """Return at most ``size`` bytes (any amount if ``None``); ``b""`` at the end.

        Buffered bytes come first; only when the buffer is empty is the source asked,
        once, so a read returns as soon as some bytes are there. Those bytes go to
        the caller as they came, without passing through the buffer.
        """
        if not self.buffer:
            data = self.chunk(min(size or RECV_SIZE, MAX_RECV_SIZE))
            if size is None or len(data) <= size:
                return data
            self.buffer.extend(data)  # a source that sent more than asked
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

        Lines end at CRLF only (RFC 9112 section 2.2). A bare LF, or a CR followed by
        anything but LF, ends the line *with that byte kept*: every grammar that
        reads lines refuses a control character, so the caller answers 400 at once,
        instead of waiting for a CRLF that a broken client may never send.

        Args:
            limit: the most bytes the line may have before its CRLF.
            too_long: the error to raise once the line is longer than ``limit``.

        Raises:
            NoMoreData: the source ended before the line did.
        """
        searched = 0
        while (end := line_end(self.buffer, searched)) < 0:
            if len(self.buffer) > limit + 1:  # + 1: a CR alone may be half of a CRLF
                raise too_long(f"more than {limit} bytes")
            searched = max(len(self.buffer) - 1, 0)
            data = self.chunk()
            if not data:
                raise NoMoreData(bytes(self.buffer[:limit]).decode("latin-1"))
            self.buffer.extend(data)
        if end > limit:
            raise too_long(f"{end} > {limit} bytes")
        if self.buffer.startswith(CRLF, end):
            line = bytes(self.buffer[:end])
            del self.buffer[: end + len(CRLF)]
        else:  # a bare CR or LF: keep it in the line for the grammar to refuse
            line = bytes(self.buffer[: end + 1])
            del self.buffer[: end + 1]
        return line


def line_end(buffer: bytearray, start: int) -> int:
    """Where the first line ending at or after ``start`` begins; -1 if none yet.

    A CR at the very end of the buffer is not decided yet: its LF may be in flight.
    """
    cr, lf = buffer.find(b"\r", start), buffer.find(b"\n", start)
    if lf >= 0 and (cr < 0 or lf < cr):
        return lf
    if cr < 0 or cr == len(buffer) - 1:
        return -1
    return cr


class SocketUnreader(Unreader):
    """Reads a connected socket, waiting no later than the deadline, or no longer
    than the idle timeout for each piece.

    A read first takes what has already arrived, without waiting: most reads find
    their bytes there (a worker serves a kept-alive connection once it is
    readable), and that costs one system call. Only when nothing has arrived does
    it wait, with the socket's timeout set for that one ``recv``, four system calls
    (set the timeout, poll, recv, restore it). The socket's own timeout is restored
    after the wait, so the worker's writes on the same socket are not cut short by
    a read deadline.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.takes_flags = not is_tls(sock)  # a TLS socket's recv takes none

    def chunk(self, size: int = RECV_SIZE) -> bytes:
        wait = self.time_to_wait()
        if wait is None:
            return self.sock.recv(size)
        # A socket given a timeout of its own (an application may set one on
        # ``minigun.socket``) would wait for it even when told not to.
        if self.takes_flags and self.sock.gettimeout() is None:
            with contextlib.suppress(BlockingIOError):
                return self.sock.recv(size, socket.MSG_DONTWAIT)
        return self.recv_within(size, wait)

    def recv_within(self, size: int, wait: float) -> bytes:
        """Wait at most ``wait`` seconds for bytes, then read them."""
        previous = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(size)
        except TimeoutError:
            raise RequestTimeout(self.timeout_detail(wait)) from None
        finally:
            self.sock.settimeout(previous)

    def fileno(self) -> int:
        return self.sock.fileno()


def is_tls(sock: socket.socket) -> bool:
    """Whether ``sock`` speaks TLS. Only a server with TLS imports ``ssl``
    (:func:`minigun.sock.ssl_context`), and without it no socket can."""
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(sock, ssl.SSLSocket)


class IterUnreader(Unreader):
    """Reads an iterable of byte strings: tests, and the corpus fed in pieces."""

    def __init__(self, iterable: Iterable[bytes]) -> None:
        super().__init__()
        self.pieces: Iterator[bytes] | None = iter(iterable)

    def chunk(self, size: int = RECV_SIZE) -> bytes:
        # Pieces come out whole, whatever ``size`` says: a source that sends more
        # than asked is what Unreader.read's buffer is for.
        if self.pieces is None:
            return b""
        for piece in self.pieces:
            if piece:
                return piece
        self.pieces = None
        return b""
