"""What can go wrong with a request, as data.

Chapter question: when a client sends bytes that are not a request minigun will serve,
what does the server answer?

Rules of this module:

- One class per kind of error, named as in gunicorn, so gunicorn's own test corpus maps
  one to one onto minigun's classes.
- Each class knows the HTTP status that answers it (``status``); nothing else in the
  server decides a status with an ``isinstance`` ladder.
- One function, :func:`render_error`, turns any exception into the bytes of a short
  error response that closes the connection. After a parse error the bytes that follow
  cannot be trusted to start a new request, so the connection is never reused.
- Errors that can surface from ``wsgi.input.read()`` inside the application are also
  :class:`OSError`, as in gunicorn, so an application that guards its reads with
  ``except OSError`` keeps working.
"""

from http import HTTPStatus
from typing import ClassVar

from minigun import SERVER_SOFTWARE
from minigun.util import http_date

#: The most of an error's detail that is echoed back to the client.
MAX_DETAIL_ECHO = 200


class HTTPError(Exception):
    """An error that knows the HTTP status a server should answer it with.

    Args:
        detail: what exactly was wrong (the offending value, the limit crossed).
    """

    status: ClassVar[HTTPStatus] = HTTPStatus.INTERNAL_SERVER_ERROR
    summary: ClassVar[str] = "Server error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def status_code(self) -> int:
        """The numeric status, for example 400."""
        return int(self.status)

    @property
    def reason(self) -> str:
        """The status line's reason phrase, for example ``Bad Request``."""
        return self.status.phrase

    def __str__(self) -> str:
        return f"{self.summary}: {self.detail!r}" if self.detail else self.summary


# -- The request is malformed: the client's fault, answered with 4xx or 5xx. --------


class ParseException(HTTPError):
    """Base of every error in a request's bytes (gunicorn's name)."""

    status = HTTPStatus.BAD_REQUEST
    summary = "Invalid request"


class BodyError(ParseException, OSError):
    """Base of the errors that can be raised while the application reads the body."""


class NoMoreData(BodyError):
    """The client closed the connection before the request was complete."""

    summary = "No more data after"


class RequestTimeout(BodyError):
    """The client did not send the head within ``header_timeout``, or its body
    stalled for ``body_idle_timeout`` (RFC 9110 section 15.5.9)."""

    status = HTTPStatus.REQUEST_TIMEOUT
    summary = "Request not received in time"


class InvalidRequestLine(ParseException):
    """The request line is not ``method SP request-target SP HTTP-version``."""

    summary = "Invalid HTTP request line"


class InvalidRequestMethod(ParseException):
    """The method is not a token, or not conventional unless permitted."""

    summary = "Invalid HTTP method"


class InvalidHTTPVersion(ParseException):
    """The version is not ``HTTP/DIGIT.DIGIT``."""

    summary = "Invalid HTTP version"


class UnsupportedHTTPVersion(InvalidHTTPVersion):
    """A well-formed version other than HTTP/1.0 or 1.1 (RFC 9110 section 15.6.6)."""

    status = HTTPStatus.HTTP_VERSION_NOT_SUPPORTED
    summary = "Unsupported HTTP version"


class InvalidHeader(ParseException):
    """A header line or value is malformed, duplicated or contradicts another."""

    summary = "Invalid HTTP header"


class InvalidHeaderName(ParseException):
    """A header name is not a token, or is not allowed where it appears."""

    summary = "Invalid HTTP header name"


class ObsoleteFolding(ParseException):
    """A header value continues on the next line (RFC 9112 section 5.2)."""

    summary = "Obsolete line folding is unacceptable"


class UnsupportedTransferCoding(ParseException):
    """A transfer coding minigun cannot decode (RFC 9112 section 6.1)."""

    status = HTTPStatus.NOT_IMPLEMENTED
    summary = "Unsupported transfer coding"


class InvalidChunkSize(BodyError):
    """A chunk-size line is not strict hexadecimal."""

    summary = "Invalid chunk size"


class InvalidChunkExtension(BodyError):
    """A chunk extension is malformed or too long."""

    summary = "Invalid chunk extension"


class ChunkMissingTerminator(BodyError):
    """Chunk data, or the whole chunked body, is not followed by CRLF."""

    summary = "Chunk is not terminated by CRLF"


class LimitRequestLine(ParseException):
    """The request line is longer than ``limit_request_line``."""

    status = HTTPStatus.REQUEST_URI_TOO_LONG
    summary = "Request line is too large"


class LimitRequestHeaders(ParseException):
    """Too many header fields, or one longer than ``limit_request_field_size``."""

    status = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    summary = "Request header fields too large"


class LimitRequestBody(BodyError):
    """The body is larger than ``limit_request_body`` (a minigun setting)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    summary = "Request body too large"


class InvalidProxyLine(ParseException):
    """A PROXY protocol v1 line is malformed."""

    summary = "Invalid PROXY line"


class InvalidProxyHeader(ParseException):
    """A PROXY protocol v2 header is malformed."""

    summary = "Invalid PROXY header"


class ForbiddenProxyRequest(ParseException):
    """A PROXY preamble came from a peer not listed in ``proxy_allow_ips``."""

    status = HTTPStatus.FORBIDDEN
    summary = "Proxy request not allowed from"


class InvalidSchemeHeaders(ParseException):
    """Trusted scheme headers disagree about http or https."""

    summary = "Contradictory scheme headers"


class ExpectationFailed(ParseException):
    """An ``Expect`` other than ``100-continue`` (RFC 9110 section 10.1.1)."""

    status = HTTPStatus.EXPECTATION_FAILED
    summary = "Unable to meet the expectation"


# -- The server side is wrong: answered with 500, never the client's fault. ---------


class ConfigurationProblem(HTTPError):
    """The deployment does not fit the request (a ``SCRIPT_NAME`` outside the path)."""

    summary = "Configuration problem"


class InvalidResponse(HTTPError):
    """The application's status or headers would corrupt the response on the wire."""

    summary = "Invalid response from the application"


# -- One function renders them all. -------------------------------------------------


def status_for(exc: BaseException) -> HTTPStatus:
    """Return the status that answers ``exc``: its own, or 500 for anything else."""
    if isinstance(exc, HTTPError):
        return exc.status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def render_error(exc: BaseException) -> bytes:
    """Render a complete error response for ``exc`` that closes the connection."""
    status = status_for(exc)
    body = f"{status.phrase}\n"
    if isinstance(exc, ParseException):
        body += f"{str(exc)[:MAX_DETAIL_ECHO]}\n"
    payload = body.encode("latin-1", "replace")
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        f"Server: {SERVER_SOFTWARE}\r\n"
        f"Date: {http_date()}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=latin-1\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + payload
