"""The WSGI layer: a request becomes an environ, the application's answer a response.

Chapter question: PEP 3333 is the contract between a server and any Python web
application; what exactly does the server owe the application, and what must it check
in what the application gives back?

- :func:`create` builds the environ: every key PEP 3333 requires, the CGI names, one
  ``HTTP_*`` key per header, ``wsgi.input`` that never reads past the body.
- :class:`Response` is ``start_response`` and ``write``: it validates the status and
  headers (a CR or LF there would let the application's data forge a second response),
  adds ``Server``, ``Date`` and ``Connection``, drops hop-by-hop headers, frames the
  body (``Content-Length``, chunked, or until close) and never sends more than it
  declared.
- ``wsgi.early_hints`` is :meth:`Response.send_early_hints`: a ``103 Early Hints``
  interim response (RFC 8297) before the final one, on HTTP/1.1 only.
- :class:`FileWrapper` is ``wsgi.file_wrapper``; a real file goes out with
  ``socket.sendfile``, straight from the page cache.
"""

import functools
import io
import logging
import os
import re
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from minigun import SERVER_SOFTWARE
from minigun.config import Config
from minigun.glogging import WSGI_ERRORS
from minigun.http.errors import ConfigurationProblem, InvalidHeader, InvalidResponse
from minigun.http.exchange import Close, Exchange
from minigun.http.grammar import (
    CONTROLS,
    FIELD_VALUE_FORBIDDEN_TEXT_RE,
    HOST_RE,
    TOKEN_TEXT_RE,
    is_content_length,
)
from minigun.http.message import HTTP_1_1, Request
from minigun.sock import SocketAddress
from minigun.util import http_date, is_hoppish

Environ = dict[str, Any]
"""A WSGI environ, a plain dict as PEP 3333 requires, whose values are of many
types: the CGI strings, ``wsgi.input`` and ``wsgi.errors``, flags, the version tuple,
the file wrapper class. Hence ``Any``, as in typeshed's ``WSGIEnvironment``; each key
has the type PEP 3333 gives it."""

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
"""A WSGI application, called with the environ and ``start_response`` (PEP 3333)."""

WSGI_VERSION = (1, 0)
FILE_BLOCK_SIZE = 8192
EARLY_HINTS_LINE = "HTTP/1.1 103 Early Hints"
DEFAULT_PORTS = {"http": "80", "https": "443"}
# Statuses whose responses never carry a body (RFC 9110 sections 15.2, 15.3.5, 15.4.5).
NO_BODY_STATUSES = frozenset({204, 304})
FIRST_FINAL_STATUS = 200

#: The warnings this process has logged already: an application that frames a 204
#: wrongly does it on every request, and one line says it.
WARNED: set[str] = set()

# PEP 3333: a status is a three-digit code, a space and a reason phrase. The phrase
# is optional on the wire (RFC 9112 section 4) and gunicorn accepts "200" alone:
# so does minigun, and it sends the code's usual phrase.
STATUS_RE = re.compile(rf"([1-5][0-9][0-9])(?: [^{CONTROLS}]*)?")


def create(
    req: Request,
    sock: socket.socket,
    peer_addr: SocketAddress,
    server_addr: SocketAddress,
    cfg: Config,
    exchange: Exchange,
    constant: Environ | None = None,
) -> tuple["Response", Environ]:
    """Return the response object and the WSGI environ for ``req``.

    Args:
        req: the parsed request.
        sock: the connection's socket, for the response.
        peer_addr: the client's address, as ``accept()`` returned it.
        server_addr: the listening socket's address.
        cfg: the server's config.
        exchange: the connection's state machine, which decides the framing and
            whether the connection stays open.
        constant: :func:`base_environ` for ``cfg``, if the caller keeps it (a
            worker builds it once); it is copied, never changed.

    Raises:
        InvalidHeader: an HTTP/1.1 request without exactly one valid Host (400).
        ConfigurationProblem: ``SCRIPT_NAME`` is not a prefix of the path (500).
    """
    check_host(req)
    resp = Response(req, sock, cfg, exchange)
    environ = dict(constant) if constant is not None else base_environ(cfg)
    environ.update(request_environ(req, sock))
    environ.update(address_environ(req, peer_addr, server_addr))
    environ.update(path_environ(req, cfg))
    environ["wsgi.early_hints"] = resp.send_early_hints
    return resp, environ


def check_host(req: Request) -> None:
    """HTTP/1.1 requires exactly one Host, and it must parse (RFC 9112 section 3.2).

    This check lives here, not in the parser, because it is a rule about requests a
    server will serve, not about the message syntax.
    """
    hosts = req.values("HOST")
    if req.version >= HTTP_1_1 and len(hosts) != 1:
        raise InvalidHeader(f"HOST: {len(hosts)} Host fields in an HTTP/1.1 request")
    if hosts and not HOST_RE.fullmatch(hosts[0]):
        raise InvalidHeader(f"HOST: {hosts[0]}")


def base_environ(cfg: Config) -> Environ:
    """The keys that are the same for every request this worker serves."""
    return {
        "wsgi.version": WSGI_VERSION,
        "wsgi.errors": WSGI_ERRORS,
        "wsgi.multithread": cfg.threads > 1,
        "wsgi.multiprocess": cfg.workers > 1,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
        "wsgi.input_terminated": True,
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
    }


def request_environ(req: Request, sock: socket.socket) -> Environ:
    """The request line, the headers and the body, in CGI and WSGI names."""
    environ: Environ = {
        "REQUEST_METHOD": req.method,
        "QUERY_STRING": req.query,
        "RAW_URI": req.uri,
        "SERVER_PROTOCOL": f"HTTP/{req.version[0]}.{req.version[1]}",
        "wsgi.url_scheme": req.scheme,
        "wsgi.input": req.body,
        "minigun.socket": sock,
        "gunicorn.socket": sock,  # the same, for applications written for gunicorn
    }
    for name, value in req.headers:
        key = cgi_name(name)
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def cgi_name(header: str) -> str:
    """``CONTENT-TYPE`` becomes ``CONTENT_TYPE``, any other ``X-A`` ``HTTP_X_A``."""
    key = header.replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key
    return f"HTTP_{key}"


def address_environ(
    req: Request, peer_addr: SocketAddress, server_addr: SocketAddress
) -> dict[str, str]:
    """Who is talking (the peer, or the client a PROXY preamble names) and to whom."""
    environ = {"REMOTE_ADDR": "", "REMOTE_PORT": ""}
    if isinstance(peer_addr, tuple):
        environ.update(REMOTE_ADDR=str(peer_addr[0]), REMOTE_PORT=str(peer_addr[1]))
    info = req.proxy_protocol_info
    if info is not None and info.client_addr is not None:
        environ.update(REMOTE_ADDR=info.client_addr, REMOTE_PORT=str(info.client_port))
    hosts = req.values("HOST")
    if hosts and hosts[0]:
        match = HOST_RE.fullmatch(hosts[0])
        assert match is not None  # check_host has already validated it
        name, port = match.group(1), match.group(2) or DEFAULT_PORTS[req.scheme]
    elif isinstance(server_addr, tuple):
        name, port = str(server_addr[0]), str(server_addr[1])
    else:  # a Unix socket: its path names the server
        name, port = str(server_addr), ""
    environ.update(SERVER_NAME=name, SERVER_PORT=port)
    return environ


def path_environ(req: Request, cfg: Config) -> dict[str, str]:
    """``SCRIPT_NAME`` and the percent-decoded ``PATH_INFO`` below it.

    ``SCRIPT_NAME`` comes from the environment variable, as in gunicorn, or from a
    trusted proxy's ``SCRIPT_NAME`` header. PEP 3333 wants both as latin-1 strings of
    the decoded bytes.
    """
    script_name = os.environ.get("SCRIPT_NAME", "")
    path_info = req.path
    if req.trusted:
        allowed = cfg.forwarder_headers  # one settings read, not one per header
        forwarded = {name: value for name, value in req.headers if name in allowed}
        script_name = forwarded.get("SCRIPT_NAME", script_name)
        path_info = forwarded.get("PATH_INFO", path_info)
    if script_name:
        if not path_info.startswith(script_name):
            raise ConfigurationProblem(f"{script_name!r} does not start {path_info!r}")
        path_info = path_info[len(script_name) :]
    return {
        "SCRIPT_NAME": script_name,
        "PATH_INFO": unquote_to_bytes(path_info).decode("latin-1"),
    }


class Response:
    """The response to one request: ``start_response``, ``write`` and the framing.

    Attributes:
        status: the status line's text, e.g. ``"200 OK"``, once started.
        status_code: its code, e.g. 200.
        headers: the application's headers that will be (or were) sent.
        headers_sent: whether the head is on the wire.
        sent: body bytes sent so far (the access log's size).
    """

    def __init__(
        self, req: Request, sock: socket.socket, cfg: Config, exchange: Exchange
    ) -> None:
        self.req = req
        self.sock = sock
        self.cfg = cfg
        self.exchange = exchange
        self.status: str | None = None
        self.status_code: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.headers_sent = False
        self.response_length: int | None = None
        self.sent = 0
        self.chunked = False

    def has_body(self) -> bool:
        """HEAD, 1xx, 204 and 304 responses carry no body, whatever the app writes."""
        code = self.status_code or FIRST_FINAL_STATUS
        return self.req.method != "HEAD" and status_may_have_body(code)

    def start_response(
        self,
        status: str,
        headers: Iterable[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """Record status and headers (PEP 3333); they go out with the first body bytes.

        Called again with ``exc_info`` before anything was sent, the new status and
        headers replace the old ones (an error page); after the head was sent it is
        too late, and the original exception is raised again.
        """
        # exercise: start-response
        if exc_info is not None:
            if self.headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise InvalidResponse("start_response called twice without exc_info")
        checked_status, code = check_status(status)
        kept, length, app_closes = end_to_end_headers(headers)
        if not status_may_have_body(code):
            kept, length = without_framing(kept, code), None
        self.status, self.status_code = checked_status, code
        self.headers, self.response_length = kept, length
        if app_closes:
            self.exchange.refuse_keep_alive(Close.APPLICATION_ASKED)
        return self.write
        # end-exercise: start-response

    def send_early_hints(self, headers: Iterable[tuple[str, str]]) -> None:
        """``wsgi.early_hints``: send ``103 Early Hints`` with ``headers`` (RFC 8297),
        so a browser can fetch the ``Link``-ed styles and scripts while the
        application still works on the page.

        An HTTP/1.0 client knows no interim responses (RFC 9110 section 15.2), and
        after the final head there is nothing left to hint: both get nothing. The
        headers are checked as the final ones are, a CR or LF would forge a head.
        """
        hints = list(headers)
        for name, value in hints:
            check_header(name, value)
        if self.req.version < HTTP_1_1 or self.headers_sent:
            return
        lines = [EARLY_HINTS_LINE, *(f"{name}: {value}" for name, value in hints)]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send_headers(self) -> None:
        """Send the status line and headers, once."""
        if not self.headers_sent:
            self.sock.sendall(self.head())
            self.headers_sent = True

    def head(self) -> bytes:
        """The status line and headers; the exchange decides the body's framing
        (and raises the client's error instead, if the client broke its body)."""
        if self.status is None:
            raise InvalidResponse("the application did not call start_response")
        self.chunked = self.exchange.start_response(
            self.response_length, self.has_body()
        )
        lines = [f"HTTP/1.1 {self.status}", *self.default_headers()]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def default_headers(self) -> list[str]:
        """The headers the server adds: Server, Date (unless the app set its own),
        Connection and Transfer-Encoding."""
        given = {name.lower() for name, _ in self.headers}
        headers = []
        if "server" not in given:
            headers.append(f"Server: {SERVER_SOFTWARE}")
        if "date" not in given:
            headers.append(f"Date: {date_now()}")
        if not self.exchange.keeps_alive():
            headers.append("Connection: close")
        elif self.req.version < HTTP_1_1:
            headers.append("Connection: keep-alive")
        if self.chunked:
            headers.append("Transfer-Encoding: chunked")
        return headers

    def write(self, data: bytes) -> None:
        """Send body bytes, framed, never past the declared Content-Length; the head
        goes in the same ``sendall`` as the first of them."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"a WSGI body is bytes, not {type(data).__name__}")
        if not data:
            return
        head = b"" if self.headers_sent else self.head()
        payload = self.clip(bytes(data)) if self.has_body() else b""
        if not status_may_have_body(self.status_code or FIRST_FINAL_STATUS):
            warn_once(
                f"The application wrote a body for a {self.status_code}; dropped."
            )
        frame = self.frame(payload) if payload else b""
        if head or frame:
            self.sock.sendall(head + frame)
            self.headers_sent = True
        self.sent += len(payload)

    def frame(self, payload: bytes) -> bytes:
        """``payload`` as it goes on the wire: a chunk, or as it is."""
        return b"%X\r\n%s\r\n" % (len(payload), payload) if self.chunked else payload

    def clip(self, data: bytes) -> bytes:
        """Cut ``data`` to what Content-Length still allows."""
        if self.response_length is None:
            return data
        return data[: max(self.response_length - self.sent, 0)]

    def write_file(self, respiter: "FileWrapper") -> None:
        """Send a wrapped file: by ``sendfile`` if it is a real file, else by blocks."""
        if not self.sendfile(respiter):
            for block in respiter:
                self.write(block)

    def sendfile(self, respiter: "FileWrapper") -> bool:
        """Send the file with ``socket.sendfile``; False if that cannot be done."""
        fileno = regular_file_descriptor(respiter.filelike)
        if fileno is None or self.cfg.sendfile is False:
            return False
        offset = os.lseek(fileno, 0, os.SEEK_CUR)
        count = os.fstat(fileno).st_size - offset
        if self.response_length is not None:
            count = min(count, self.response_length - self.sent)
        self.send_headers()
        if count <= 0 or not self.has_body():
            return True
        if self.chunked:
            self.sock.sendall(b"%X\r\n" % count)
        # A regular file (regular_file_descriptor says so), so it also has seek().
        regular_file: Any = respiter.filelike
        self.sent += self.sock.sendfile(regular_file, offset, count)
        if self.chunked:
            self.sock.sendall(b"\r\n")
        return True

    def close(self) -> None:
        """Finish the response: the head if nothing was written, the last chunk.

        A body shorter than its Content-Length leaves the client waiting for bytes
        that will never come; the only honest end is closing the connection.
        """
        self.send_headers()
        if self.chunked:
            self.sock.sendall(b"0\r\n\r\n")
        short = self.response_length is not None and self.sent < self.response_length
        self.exchange.end_response(short and self.has_body())


def date_now() -> str:
    """The ``Date`` header's value for a response sent now, formatted once a second.

    The header counts whole seconds (RFC 9110 section 5.6.7), so every response
    of the same second carries the same text; formatting it anew for each one was
    3% of a sync worker's time under load.
    """
    return http_date_of_second(int(time.time()))


@functools.lru_cache(maxsize=1)
def http_date_of_second(second: int) -> str:
    """The one second formatted last (a thread-safe cache of one entry)."""
    return http_date(second)


def end_to_end_headers(
    headers: Iterable[tuple[str, str]],
) -> tuple[list[tuple[str, str]], int | None, bool]:
    """Validate every header, then keep the end-to-end ones.

    Returns the kept headers, the Content-Length if one was given, and whether the
    application asked to close the connection. Hop-by-hop headers are the server's
    business (PEP 3333): they are dropped, but ``Connection: close`` is honoured.
    """
    kept: list[tuple[str, str]] = []
    length: int | None = None
    closes = False
    for name, value in headers:
        check_header(name, value)
        if is_hoppish(name):
            closes = closes or (
                name.lower() == "connection" and "close" in value.lower()
            )
            continue
        if name.lower() == "content-length":
            if length is not None:
                raise InvalidResponse("Content-Length given twice")
            length = parse_content_length(value)
        kept.append((name, value))
    return kept, length, closes


def status_may_have_body(code: int) -> bool:
    """1xx, 204 and 304 responses end with their head (RFC 9112 section 6.3)."""
    return code >= FIRST_FINAL_STATUS and code not in NO_BODY_STATUSES


def without_framing(headers: list[tuple[str, str]], code: int) -> list[tuple[str, str]]:
    """Drop a Content-Length that a response with status ``code`` must not carry.

    RFC 9110 section 8.6 forbids it on 1xx and 204; on a 304 it could only repeat
    the length of a body that is not sent, so it goes too. (Transfer-Encoding is
    hop-by-hop and never kept from the application.)
    """
    kept = [
        (name, value) for name, value in headers if name.lower() != "content-length"
    ]
    if len(kept) < len(headers):
        warn_once(f"The application framed a {code} with Content-Length; dropped.")
    return kept


def warn_once(message: str) -> None:
    """Log an application's mistake in the error log, the first time only."""
    if message not in WARNED:
        WARNED.add(message)
        logging.getLogger("minigun.error").warning(message)


def check_status(status: str) -> tuple[str, int]:
    """Return the status text and its code, or raise if it could corrupt the head."""
    if not isinstance(status, str):
        raise InvalidResponse(f"status must be str, not {type(status).__name__}")
    match = STATUS_RE.fullmatch(status)
    if match is None:
        raise InvalidResponse(f"status {status!r}")
    code = int(match.group(1))
    if status == match.group(1):  # no reason phrase: the usual one, if any
        status = f"{code} {standard_phrase(code)}"
    return status, code


def standard_phrase(code: int) -> str:
    """The reason phrase RFC 9110 gives ``code``, or nothing for a code it lacks."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def check_header(name: str, value: str) -> None:
    """A header name is a token; a value has no CR, LF, NUL or other control byte."""
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidResponse(f"header {name!r}: names and values must be str")
    if not TOKEN_TEXT_RE.fullmatch(name):
        raise InvalidResponse(f"header name {name!r}")
    if FIELD_VALUE_FORBIDDEN_TEXT_RE.search(value) or not is_latin1(value):
        # The value itself stays out of the message: it may be a secret (a
        # session cookie, a token), and the message goes to the error log.
        raise InvalidResponse(
            f"header {name}: its value has a control character or is not latin-1"
        )


def is_latin1(text: str) -> bool:
    """Whether ``text`` can go on the wire as PEP 3333 requires (latin-1)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def parse_content_length(value: str) -> int:
    """The application's Content-Length, checked as strictly as a client's."""
    if not is_content_length(value):
        raise InvalidResponse(f"Content-Length {value!r}")
    return int(value)


class FileLike(Protocol):
    """What ``wsgi.file_wrapper`` may be given (PEP 3333): anything with
    ``read(size)``; ``close()`` and ``fileno()`` are used when it has them."""

    def read(self, size: int, /) -> bytes: ...


def regular_file_descriptor(filelike: FileLike) -> int | None:
    """The descriptor of a regular file opened for binary reading, or ``None``."""
    if isinstance(filelike, io.TextIOBase) or not hasattr(filelike, "fileno"):
        return None
    try:
        fileno = filelike.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    if not isinstance(fileno, int) or not stat.S_ISREG(os.fstat(fileno).st_mode):
        return None
    return fileno


class FileWrapper:
    """``wsgi.file_wrapper``: iterate a file in blocks, or let the server send it.

    Args:
        filelike: an object with ``read()``; ``close()`` too, if it has one.
        blksize: the size of each block when iterated.
    """

    def __init__(self, filelike: FileLike, blksize: int = FILE_BLOCK_SIZE) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> Iterator[bytes]:
        while block := self.filelike.read(self.blksize):
            yield block

    def close(self) -> None:
        """Close the file, as PEP 3333 asks of the iterable's ``close()``."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()
