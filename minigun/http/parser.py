"""Request heads one after another from one connection.

Chapter question: a keep-alive connection carries many requests back to back, maybe
pipelined in one packet; how is each one's head read, and how long may it take?

:class:`RequestParser` is an iterator of :class:`~minigun.http.message.Request`: each
``next()`` reads one request head and leaves its body on the wire. It does not decide
whether there is a next request, nor read past a body the application left unread:
the connection's state machine does (:class:`~minigun.http.exchange.Exchange`), which
asks for the next request only once the previous one is finished.

Two clocks bound a slow client. The request head (PROXY preamble, request line,
headers) must be complete within ``header_timeout`` seconds of the moment the parser
starts reading it. The body has no total deadline, since a large upload on a slow link
is not an attack; instead no wait for its next bytes may last longer than
``body_idle_timeout``. Either way the answer is 408 and the connection closes. The
parser's owner may bound both further (``wait_limit``): a worker must answer before
its master's ``timeout`` takes the client's silence for a stuck worker.
"""

import socket
import time
from collections.abc import Iterable

from minigun.http.message import ParseRules, Request
from minigun.http.unreader import IterUnreader, SocketUnreader, Unreader
from minigun.sock import SocketAddress


class RequestParser:
    """Parse the request heads of one connection, one per ``next()``.

    Args:
        rules: the settings the parser obeys (the worker's, built once).
        source: a connected socket, an unreader, or an iterable of byte strings
            (tests).
        peer_addr: the client's address, as ``accept()`` returned it.
        wait_limit: the longest one wait for the client may last, whatever
            ``header_timeout`` and ``body_idle_timeout`` say; ``None``: no bound.
    """

    def __init__(
        self,
        rules: ParseRules,
        source: Unreader | socket.socket | Iterable[bytes],
        peer_addr: SocketAddress,
        wait_limit: float | None = None,
    ) -> None:
        self.rules = rules
        self.unreader = as_unreader(source)
        self.peer_addr = peer_addr
        self.wait_limit = wait_limit
        self.req_count = 0

    def __iter__(self) -> "RequestParser":
        return self

    def __next__(self) -> Request:
        """Return the next request head; stop when the client closed the connection.

        Raises:
            ParseException: the request is malformed.
        """
        self.start_head_deadline()
        if not self.unreader.peek(1):  # the client closed between requests
            raise StopIteration
        self.req_count += 1
        req = Request(self.rules, self.unreader, self.peer_addr, self.req_count)
        self.start_body_idle_timeout()
        return req

    def start_head_deadline(self) -> None:
        """Give the next request head ``header_timeout`` seconds from now (0: none)."""
        timeout = bounded(self.rules.header_timeout, self.wait_limit)
        deadline = time.monotonic() + timeout if timeout is not None else None
        self.unreader.set_limits(deadline, None)

    def start_body_idle_timeout(self) -> None:
        """From here on, bound each wait for body bytes, not the body's total time."""
        self.unreader.set_limits(None, self.body_wait())

    def body_wait(self) -> float | None:
        """The longest one wait for body bytes may last (``None``: no limit)."""
        return bounded(self.rules.body_idle_timeout, self.wait_limit)


def bounded(timeout: float, limit: float | None) -> float | None:
    """``timeout`` (0: none) no longer than ``limit`` (``None``: no limit)."""
    if timeout <= 0:
        return limit
    return timeout if limit is None else min(timeout, limit)


def as_unreader(source: Unreader | socket.socket | Iterable[bytes]) -> Unreader:
    """The unreader that reads ``source``."""
    if isinstance(source, Unreader):
        return source
    if isinstance(source, socket.socket):
        return SocketUnreader(source)
    return IterUnreader(source)
