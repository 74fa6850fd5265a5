"""The ASGI layer: one request becomes a scope and two coroutines, over asyncio streams.

Chapter question: WSGI hands the application the whole request and takes back an
iterable; ASGI hands it ``receive`` and ``send``, which it may await whenever it likes.
How does a server built around a pull parser (it asks for bytes, a socket blocks until
they come) serve that, without a second parser?

The answer here: the parser and the exchange stay exactly as the sync and gthread
workers drive them; only the byte source changes. A :class:`StreamUnreader` holds
what the client has sent so far and, when a parser step needs bytes that have not
arrived, raises :class:`NeedData` instead of blocking. The worker catches it, awaits
the client's next bytes, and runs the step again (:meth:`Connection.complete`): a head
is parsed again from its first byte, a body read simply continues, since a body
reader changes nothing before it has the bytes it asked for.

Rules of this module (ASGI 3.0, HTTP spec 2.4):

- ``receive`` hands the body over as it arrives (``http.request`` with
  ``more_body``); after the body it waits until the response is sent or the client
  hangs up, then says ``http.disconnect``.
- ``send`` goes through the WSGI layer's :class:`~minigun.http.wsgi.Response`, so
  status and header checks, ``Server``, ``Date``, ``Connection``, and the body's
  framing (``Content-Length``, or chunked on HTTP/1.1) are the same as for a WSGI
  application; a ``send`` after the client left raises ``OSError`` (spec 2.4).
- The scope comes from the same environ the WSGI layer builds, so the forwarded-header
  and PROXY protocol rules are those of the other workers; ``root_path`` is the
  ``root_path`` setting, else ``SCRIPT_NAME``.
"""

import asyncio
import errno
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

from minigun.config import Config
from minigun.http import wsgi
from minigun.http.body import Body, ChunkedReader
from minigun.http.errors import InvalidResponse, RequestTimeout
from minigun.http.message import Request
from minigun.http.unreader import RECV_SIZE, Unreader

Scope = dict[str, Any]
"""An ASGI scope: a dict whose values are of many types (strings, bytes, tuples, the
lifespan state), hence ``Any``, as in asgiref's typing."""
Message = MutableMapping[str, Any]
"""An ASGI event or message: a dict keyed by ``type``, the rest depends on it."""
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
"""An ASGI 3.0 application: one coroutine function called with three arguments."""

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
#: How many bytes one ``http.request`` event carries at most.
BODY_CHUNK = 64 * 1024
#: The most bytes of the client's next request buffered while the response is sent.
MAX_READ_AHEAD = 256 * 1024


class NeedData(Exception):
    """The bytes a parser step needs have not arrived: await them, then retry."""


class StreamUnreader(Unreader):
    """The client's bytes as they arrive from an ``asyncio.StreamReader``.

    Nothing here blocks: :meth:`chunk` never reads, it raises :class:`NeedData`;
    :meth:`receive_more` is the one place that waits, and only a coroutine calls it.
    """

    def __init__(self, reader: asyncio.StreamReader) -> None:
        super().__init__()
        self.reader = reader
        self.eof = False

    def chunk(self, size: int = RECV_SIZE) -> bytes:
        if self.eof:
            return b""
        raise NeedData

    async def receive_more(self, wait: float | None) -> None:
        """Append the client's next bytes to the buffer, waiting at most ``wait``
        seconds (``None``: as long as it takes); at the end of the stream, ``eof``.

        Raises:
            TimeoutError: nothing came in time.
        """
        async with asyncio.timeout(wait):
            data = await self.reader.read(RECV_SIZE)
        if data:
            self.buffer.extend(data)
        else:
            self.eof = True

    async def receive_within_limits(self) -> None:
        """:meth:`receive_more` bounded by the parser's clocks; a 408 when they
        run out."""
        wait = self.time_to_wait()
        try:
            await self.receive_more(wait)
        except TimeoutError:
            assert wait is not None
            raise RequestTimeout(self.timeout_detail(wait)) from None


class TransportSocket:
    """What :class:`~minigun.http.wsgi.Response` writes to: ``sendall`` on a socket,
    here the stream's buffered, non-blocking ``write``; back-pressure is the caller's
    ``await writer.drain()``."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def sendall(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise ConnectionResetError(errno.ECONNRESET, "the client disconnected")
        self.writer.write(data)


def http_scope(
    req: Request, environ: wsgi.Environ, cfg: Config, state: dict[str, Any]
) -> Scope:
    """The ``http`` scope of ``req``, from the environ the WSGI layer built for it."""
    script_name = environ["SCRIPT_NAME"]
    path_info = latin1_to_text(environ["PATH_INFO"])
    root_path = cfg.root_path or latin1_to_text(script_name)
    port = environ["SERVER_PORT"]
    return {
        "type": "http",
        "asgi": dict(ASGI_VERSION),  # the app may change its copy
        "http_version": "{}.{}".format(*req.version),
        "method": req.method,
        "scheme": environ["wsgi.url_scheme"],
        "path": root_path + path_info,
        "raw_path": req.path.encode("latin-1"),
        "query_string": req.query.encode("latin-1"),
        "root_path": root_path,
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in req.headers
        ],
        "client": client_address(environ),
        "server": (environ["SERVER_NAME"], int(port) if port else None),
        "state": dict(state),
    }


def latin1_to_text(value: str) -> str:
    """A PEP 3333 string (the bytes as latin-1) as the UTF-8 text ASGI wants."""
    return value.encode("latin-1").decode("utf-8", errors="replace")


def client_address(environ: wsgi.Environ) -> tuple[str, int] | None:
    """The client the environ names (the peer, or the client a PROXY preamble
    names), or ``None`` for a Unix socket's peer."""
    host, port = environ["REMOTE_ADDR"], environ["REMOTE_PORT"]
    return (host, int(port)) if host and port else None


def body_ended(body: Body) -> bool:
    """Whether the whole request body has been read."""
    if isinstance(body.reader, ChunkedReader):
        return body.reader.done
    return body.reader.known_remaining == 0


def status_line(status: int) -> str:
    """``200`` as ``"200 OK"``: the WSGI response takes a status line."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} "


def text_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """ASGI's byte-string headers as the WSGI response's latin-1 strings."""
    return [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in headers
    ]


class RequestCycle:
    """One request's ``receive`` and ``send``, and what became of its response.

    Args:
        req: the request; its body is read as ``receive`` is awaited.
        resp: the WSGI layer's response, which frames and checks what ``send`` sends.
        read_body: awaits the next piece of the body (the connection retries the
            body reader until the bytes are there).
        watch: the connection's stream, to notice a client that hangs up.
    """

    def __init__(
        self,
        req: Request,
        resp: wsgi.Response,
        read_body: Callable[[], Awaitable[bytes]],
        unreader: StreamUnreader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.req = req
        self.resp = resp
        self.read_body = read_body
        self.unreader = unreader
        self.writer = writer
        self.body_done = False
        self.started = False
        self.response_complete = asyncio.Event()
        self.disconnected = False

    async def receive(self) -> Message:
        """The next piece of the body; after it, wait for the end of the exchange."""
        if self.disconnected or self.response_complete.is_set():
            return {"type": "http.disconnect"}
        if not self.body_done:
            data = await self.read_body()
            self.body_done = body_ended(self.req.body)
            return {
                "type": "http.request",
                "body": data,
                "more_body": not self.body_done,
            }
        await self.wait_for_disconnect()
        return {"type": "http.disconnect"}

    async def wait_for_disconnect(self) -> None:
        """Return once the response is complete or the client has hung up.

        The bytes read meanwhile belong to the client's next request: they stay in
        the unreader's buffer for the parser, up to :data:`MAX_READ_AHEAD`.
        """
        complete = asyncio.ensure_future(self.response_complete.wait())
        try:
            while not complete.done() and not self.unreader.eof:
                if len(self.unreader.buffer) >= MAX_READ_AHEAD:
                    await complete
                    break
                reading = asyncio.ensure_future(self.unreader.receive_more(None))
                await asyncio.wait(
                    {reading, complete}, return_when=asyncio.FIRST_COMPLETED
                )
                reading.cancel()
            self.disconnected = self.unreader.eof and not complete.done()
        finally:
            complete.cancel()

    async def send(self, message: Message) -> None:
        """Start the response, or send a piece of its body."""
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise InvalidResponse("http.response.start sent twice")
            headers = text_headers(list(message.get("headers", [])))
            self.resp.start_response(status_line(int(message["status"])), headers)
            self.started = True
        elif kind == "http.response.body":
            await self.send_body(
                bytes(message.get("body", b"")), message.get("more_body", False)
            )
        else:
            raise InvalidResponse(f"unexpected ASGI message {kind!r}")

    async def send_body(self, body: bytes, more_body: bool) -> None:
        """Write ``body`` framed; the last piece completes the response."""
        if not self.started:
            raise InvalidResponse("http.response.body before http.response.start")
        if self.response_complete.is_set():
            raise InvalidResponse("http.response.body after the response was complete")
        try:
            self.resp.write(body)
            if not more_body:
                self.resp.close()
            await self.writer.drain()
        except OSError:
            self.disconnected = True
            raise
        if not more_body:
            self.response_complete.set()

    def check_complete(self) -> None:
        """The application returned: it must have sent a whole response.

        Raises:
            InvalidResponse: it did not (a 500 if nothing was sent yet).
        """
        if not self.started:
            raise InvalidResponse("the application returned without a response")
        if not self.response_complete.is_set():
            raise InvalidResponse("the application returned before its response ended")
