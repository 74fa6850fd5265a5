"""One connection's exchange of requests and responses, as one state machine.

Chapter question: a connection carries a request, its response, maybe another request
and another response; who decides when it closes, where the next request starts, and,
when a request fails, whose fault it was?

This module alone decides, in the spirit of h11's ``_state.py``: an :class:`Exchange`
per connection, its :class:`State` changed by one method (:meth:`Exchange.handle`)
through one table (:data:`TRANSITIONS`). It holds no socket and knows no process:
bytes come in through an :class:`~minigun.http.unreader.Unreader` (a socket's, or a
list of byte strings in the tests), the ``100 Continue`` line goes out through the
``send`` callable it is given, and the worker that drives it (the request path in
:mod:`minigun.workers.handler`) reads its decisions.

Rules of the exchange (RFC 9112 section 9 unless noted):

- A connection stays open only while nobody has a reason to close it: the client
  (``Connection: close``, HTTP/1.0 without ``keep-alive``), the worker (a sync
  worker, or one stopping), the application (``Connection: close``), the framing (an
  HTTP/1.0 body without a length ends at the close; a body shorter than its
  Content-Length), a failure. The first reason is kept (:class:`Close`), so a log or a
  student can say why.
- The next request starts where this one's body ends. A body the application left
  unread is read past (*drained*) after the response, within a size and a time bound
  (:data:`DRAIN_MAX_BYTES`, :data:`DRAIN_MAX_SECONDS`), also when the connection then
  closes: closing a socket with unread bytes makes the kernel reset the connection,
  and a client still uploading would lose the response it was sent.
- ``100 Continue`` is due when the application first reads a body the client holds
  back for it, and only while nothing of the response has been sent (RFC 9110 section
  10.1.1). A client whose body was never asked for closes the connection: it may send
  the body later or never.
- Whose fault: a request whose body the client broke (stalled, cut short, bad
  chunks) is the client's, whatever the application made of the error (408, 400,
  413); any other parse error is the client's too; the master's timeout
  interrupting the application is the timeout's (500); anything else is the
  application's (500). Before the response's head is sent the failure is answered;
  after, the response is cut off (a chunked body without its last chunk, so the
  client can tell), and the connection closes either way.
"""

import enum
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus

from minigun.http.errors import HTTPError, ParseException, RequestTimeout, status_for
from minigun.http.message import HTTP_1_1, ParseRules, Request
from minigun.http.parser import RequestParser
from minigun.http.unreader import Unreader
from minigun.sock import SocketAddress

CONTINUE_RESPONSE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: The most unread request body read past after a response; a longer one closes.
DRAIN_MAX_BYTES = 4 * 1024 * 1024
#: The longest the rest of a body may take to arrive after the response.
DRAIN_MAX_SECONDS = 5.0


class State(enum.Enum):
    """Where one connection stands, from the server's side."""

    IDLE = "idle"  # waiting for a request head: the next byte starts one
    RECEIVED = "received"  # a request is in hand, nothing of its response sent
    RESPONDING = "responding"  # the response's head is on the wire
    DONE = "done"  # the response is complete; the request's body may be unread
    CLOSED = "closed"  # nothing more is read or sent


class Event(enum.Enum):
    """What happens to a connection; each moves it along :data:`TRANSITIONS`."""

    REQUEST = "request head parsed"
    CLIENT_CLOSED = "client closed"
    RESPONSE_STARTED = "response head sent"
    RESPONSE_ENDED = "response complete"
    FAILED = "failed"
    KEEP_ALIVE = "body read, kept open"
    CLOSE = "close"


#: The whole life of a connection: for each state, the events it allows and the state
#: each leads to. An event missing here is a bug in the caller (:class:`ExchangeError`).
TRANSITIONS: dict[State, dict[Event, State]] = {
    State.IDLE: {
        Event.REQUEST: State.RECEIVED,
        Event.CLIENT_CLOSED: State.CLOSED,
        Event.FAILED: State.CLOSED,
    },
    State.RECEIVED: {
        Event.RESPONSE_STARTED: State.RESPONDING,
        Event.FAILED: State.CLOSED,
    },
    State.RESPONDING: {
        Event.RESPONSE_ENDED: State.DONE,
        Event.FAILED: State.CLOSED,
    },
    State.DONE: {
        Event.KEEP_ALIVE: State.IDLE,
        Event.CLOSE: State.CLOSED,
        Event.FAILED: State.CLOSED,
    },
    State.CLOSED: {},
}


class Close(enum.Enum):
    """Why a connection does not carry another request: the first reason wins."""

    CLIENT_ASKED = "the client sent Connection: close"
    HTTP_1_0 = "an HTTP/1.0 client did not ask for keep-alive"
    TUNNEL = "a CONNECT request: what follows its head is a tunnel, not a request"
    CONTINUE_NOT_SENT = "the client still waits for 100 Continue"
    WORKER = "the worker keeps no connection open now"
    APPLICATION_ASKED = "the application sent Connection: close"
    UNFRAMED_BODY = "an HTTP/1.0 body without Content-Length ends at the close"
    SHORT_BODY = "the body was shorter than its Content-Length"
    UNDRAINED_BODY = "the unread request body did not end within the drain bound"
    FAILED = "the request failed"
    CLIENT_CLOSED = "the client closed the connection"


class Fault(enum.Enum):
    """Who made a request fail; it decides the status and how loudly it is logged."""

    CLIENT = "client"  # a 4xx: logged at debug, like every bad request
    APPLICATION = "application"  # a 500: a bug, logged with its traceback
    TIMEOUT = "timeout"  # the master's timeout interrupted the application: 500


@dataclass(frozen=True)
class Failure:
    """The exchange's verdict on a failed request.

    Attributes:
        error: the error to answer (the client's body error when there is one).
        fault: whose fault it was.
        status: the status that answers it.
        answerable: nothing of the response was sent, so the status can still go.
    """

    error: BaseException
    fault: Fault
    status: HTTPStatus
    answerable: bool


class ExchangeError(RuntimeError):
    """An event the connection's state does not allow: a bug in the worker."""


class Exchange:
    """One connection's requests and responses, one state machine.

    Args:
        rules: the settings the parser obeys (the worker's, built once).
        source: where the client's bytes come from: an unreader (a socket's, in a
            worker), or byte strings (tests). The exchange never sees the socket.
        peer_addr: the client's address, as ``accept()`` returned it.
        send: sends bytes to the client (the ``100 Continue`` line).
        wait_limit: the longest one wait for the client may last, whatever the
            timeouts say (the worker's heartbeat must not go stale meanwhile).
        on_progress: called whenever body bytes arrive (the worker's heartbeat).
    """

    def __init__(
        self,
        rules: ParseRules,
        source: Unreader | Iterable[bytes],
        peer_addr: SocketAddress,
        send: Callable[[bytes], object],
        wait_limit: float | None = None,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.parser = RequestParser(rules, source, peer_addr, wait_limit)
        self.send = send
        self.on_progress = on_progress
        self.state = State.IDLE
        self.request: Request | None = None  # the request in hand, if any
        self.close_reason: Close | None = None
        self.continue_sent = False

    def handle(self, event: Event) -> State:
        """The one place the state changes: look the event up in the table."""
        after = TRANSITIONS[self.state].get(event)
        if after is None:
            raise ExchangeError(f"{event.value!r} while {self.state.value}")
        self.state = after
        return after

    # -- Requests in ------------------------------------------------------------

    def next_request(self) -> Request | None:
        """The next request on the connection, or ``None`` once it is closed.

        A response just completed is finished first (:meth:`finish_request`), so
        the next request starts at its first byte.

        Raises:
            ParseException: the head is malformed; :meth:`fail` says what to answer.
        """
        if self.state is State.DONE:
            self.finish_request()
        if self.state is State.CLOSED:
            return None
        self.request = None
        req = next(self.parser, None)
        if req is None:
            self.refuse_keep_alive(Close.CLIENT_CLOSED)
            self.handle(Event.CLIENT_CLOSED)
            return None
        self.receive(req)
        return req

    def receive(self, req: Request) -> None:
        """Take ``req`` in hand: what the client said of the connection, and the
        body's two hooks (progress, and ``100 Continue`` on the first read)."""
        self.request = req
        self.close_reason = client_close_reason(req)
        self.continue_sent = False
        req.body.on_progress = self.on_progress
        if req.expect_continue:
            req.body.before_first_read = self.send_continue
        self.handle(Event.REQUEST)

    def send_continue(self) -> None:
        """The application reads a body the client holds back: ask for it, unless
        the response has started (then the client has its answer already)."""
        if self.state is State.RECEIVED:
            self.send(CONTINUE_RESPONSE)
            self.continue_sent = True

    # -- Whether the connection stays open ------------------------------------------

    def refuse_keep_alive(self, reason: Close) -> None:
        """Close after this request; the first reason given is the one kept."""
        if self.close_reason is None:
            self.close_reason = reason

    def keeps_alive(self) -> bool:
        """Whether the connection may carry another request, as things stand."""
        return self.close_reason is None and self.state is not State.CLOSED

    def waits_for_continue(self) -> bool:
        """The client holds its body back for a ``100 Continue`` not yet sent."""
        req = self.request
        return req is not None and req.expect_continue and req.body.awaiting_first_read

    # -- The response -----------------------------------------------------------

    def start_response(self, length: int | None, has_body: bool) -> bool:
        """The response's head is about to go out; return whether its body is
        chunked.

        The client's fault wins: if the client broke its body, whatever the
        application answered, that error is raised instead (408, 400 or 413). A
        body of unknown length is chunked for HTTP/1.1, also when the connection
        closes after it, so a response cut off by a failure never looks complete;
        HTTP/1.0 has no chunks, so such a body ends at the close.
        """
        req = self.current_request()
        if req.body.failure is not None:
            raise req.body.failure
        if self.waits_for_continue():
            self.refuse_keep_alive(Close.CONTINUE_NOT_SENT)
        unframed = length is None and has_body
        if unframed and req.version < HTTP_1_1:
            self.refuse_keep_alive(Close.UNFRAMED_BODY)
        self.handle(Event.RESPONSE_STARTED)
        return unframed and req.version >= HTTP_1_1

    def end_response(self, short: bool) -> None:
        """The response is complete; ``short``: fewer bytes than its length said."""
        if short:
            self.refuse_keep_alive(Close.SHORT_BODY)
        self.handle(Event.RESPONSE_ENDED)

    def finish_request(self) -> None:
        """After the response: read past the unread body, then wait for the next
        request or close.

        Not drained: a body the client still holds back for ``100 Continue`` (it
        may never come), or one the client already broke.

        Raises:
            BodyError: the client stalled or broke the body while it was drained;
                :meth:`fail` closes the connection, the fault the client's.
        """
        req = self.current_request()
        drained = (
            not self.waits_for_continue()
            and req.body.failure is None
            and drain(self.parser.unreader, req, self.parser.body_wait())
        )
        if not drained:
            self.refuse_keep_alive(Close.UNDRAINED_BODY)
        self.handle(Event.KEEP_ALIVE if self.keeps_alive() else Event.CLOSE)

    # -- Failures -------------------------------------------------------------------

    def fail(self, error: BaseException) -> Failure:
        """Decide whose fault ``error`` is and what answers it; the connection closes.

        The client's body error wins over whatever the application raised after it.
        """
        req = self.request
        if req is not None and req.body.failure is not None:
            error = req.body.failure
        fault = Fault.CLIENT if isinstance(error, ParseException) else Fault.APPLICATION
        return self.close_with(
            Failure(error, fault, status_for(error), self.answerable)
        )

    def time_out(self) -> Failure:
        """The master's timeout interrupted the application: a 500 if it can go."""
        error = HTTPError("worker timeout")
        return self.close_with(
            Failure(error, Fault.TIMEOUT, status_for(error), self.answerable)
        )

    @property
    def answerable(self) -> bool:
        """Nothing of a response has been sent: a failure can still be answered."""
        return self.state in (State.IDLE, State.RECEIVED)

    def close_with(self, failure: Failure) -> Failure:
        """Record the failure as the reason to close, and close."""
        self.refuse_keep_alive(Close.FAILED)
        if self.state is not State.CLOSED:
            self.handle(Event.FAILED)
        return failure

    def current_request(self) -> Request:
        """The request in hand; asking for one outside an exchange is a bug."""
        if self.request is None:
            raise ExchangeError(f"no request in hand while {self.state.value}")
        return self.request

    def has_buffered_bytes(self) -> bool:
        """Whether the client's next bytes are already read (pipelined requests)."""
        return bool(self.parser.unreader.buffer)


def client_close_reason(req: Request) -> Close | None:
    """What the request says of the connection (RFC 9112 section 9.3).

    HTTP/1.1 stays open unless a ``Connection`` field says ``close``; HTTP/1.0 closes
    unless it says ``keep-alive``. After a ``CONNECT`` the bytes belong to a tunnel
    a WSGI server does not have (the parser marks it ``must_close``).
    """
    options = {
        option.strip(" \t").lower()
        for value in req.values("CONNECTION")
        for option in value.split(",")
    }
    if "close" in options:
        return Close.CLIENT_ASKED
    if req.version < HTTP_1_1 and "keep-alive" not in options:
        return Close.HTTP_1_0
    if req.must_close:
        return Close.TUNNEL
    return None


def drain(unreader: Unreader, req: Request, body_wait: float | None) -> bool:
    """Read past the rest of ``req``'s body within the drain bounds; ``True`` if it
    ended there, ``False`` if it is longer or slower than the bounds allow.

    Each wait for the client is bounded as the application's reads are
    (``body_wait``), the whole drain by :data:`DRAIN_MAX_SECONDS`.

    Raises:
        BodyError: the client stalled or broke its body's framing.
    """
    deadline = time.monotonic() + DRAIN_MAX_SECONDS
    unreader.set_limits(deadline, body_wait)
    try:
        return req.body.discard(DRAIN_MAX_BYTES)
    except RequestTimeout:
        if time.monotonic() < deadline:
            raise  # the client stalled: its fault, as during the application's read
        return False
