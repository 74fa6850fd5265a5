"""Requests one after another from one connection.

Chapter question: a keep-alive connection carries many requests back to back, maybe
pipelined in one packet; when may the server read the next one, and when must it stop?

:class:`RequestParser` is an iterator of :class:`~minigun.http.message.Request`. Before
each new request it makes sure the previous one is finished: its body read to the end
(so the next request starts at the right byte) unless the previous request said the
connection closes. Its own states are few and explicit (:class:`ConnectionState`):

- ``READY``: the next request may be parsed;
- ``CLOSED``: the connection is done, because a request asked to close it, the client
  closed it, or a parse error made every following byte untrustworthy. A closed parser
  never parses again, so one malformed request can never smuggle a second one.

Two clocks bound a slow client. The request head (PROXY preamble, request line,
headers) must be complete within ``header_timeout`` seconds of the moment the parser
starts reading it. The body has no total deadline, since a large upload on a slow link
is not an attack; instead no wait for its next bytes may last longer than
``body_idle_timeout``. Either way the answer is 408 and the connection closes.
"""

import enum
import socket
import time
from collections.abc import Callable, Iterable

from minigun.config import Config
from minigun.http.message import Request
from minigun.http.unreader import IterUnreader, SocketUnreader, Unreader
from minigun.sock import SocketAddress


class ConnectionState(enum.Enum):
    """Whether another request may be read from the connection."""

    READY = "ready"
    CLOSED = "closed"


class RequestParser:
    """Parse the requests of one connection, one per ``next()``.

    Args:
        cfg: the server's config.
        source: a connected socket, or an iterable of byte strings (tests).
        peer_addr: the client's address, as ``accept()`` returned it.
        on_body_progress: called whenever body bytes arrive (see ``Body``): a body
            has no total deadline, so the worker must know it is still moving.
    """

    def __init__(
        self,
        cfg: Config,
        source: socket.socket | Iterable[bytes],
        peer_addr: SocketAddress,
        on_body_progress: Callable[[], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.unreader: Unreader = (
            SocketUnreader(source)
            if isinstance(source, socket.socket)
            else IterUnreader(source)
        )
        self.peer_addr = peer_addr
        self.on_body_progress = on_body_progress
        self.last_request: Request | None = None  # gunicorn: mesg
        self.req_count = 0
        self.state = ConnectionState.READY

    def __iter__(self) -> "RequestParser":
        return self

    def __next__(self) -> Request:
        """Return the next request, or stop when the connection is done.

        Raises:
            ParseException: the request is malformed; the parser is closed for good.
        """
        if self.state is ConnectionState.CLOSED or not self.finish_previous():
            self.close()
            raise StopIteration
        self.start_head_deadline()
        try:
            if not self.unreader.peek(1):  # the client closed between requests
                self.close()
                raise StopIteration
            self.req_count += 1
            req = Request(self.cfg, self.unreader, self.peer_addr, self.req_count)
        except Exception:
            self.close()
            raise
        self.start_body_idle_timeout()
        req.body.on_progress = self.on_body_progress
        self.last_request = req
        return req

    def finish_previous(self) -> bool:
        """Read past the previous request's body; False if the connection must close."""
        if self.last_request is None:
            return True
        if self.last_request.should_close():
            return False
        try:
            self.last_request.body.discard()
        except Exception:
            self.close()
            raise
        return True

    def start_head_deadline(self) -> None:
        """Give the next request head ``header_timeout`` seconds from now (0: none)."""
        timeout = self.cfg.header_timeout
        self.unreader.set_deadline(time.monotonic() + timeout if timeout > 0 else None)

    def start_body_idle_timeout(self) -> None:
        """From here on, bound each wait for body bytes, not the body's total time."""
        timeout = self.cfg.body_idle_timeout
        self.unreader.set_idle_timeout(timeout if timeout > 0 else None)

    def close(self) -> None:
        """Parse nothing more from this connection."""
        self.state = ConnectionState.CLOSED
