"""One HTTP/1.x request: request line, header block, body framing.

Chapter question: how does a server turn untrusted bytes into a request it is willing to
hand to an application, and refuse everything else?

A :class:`Request` is parsed in a fixed order of phases, an explicit little state
machine (:class:`Phase`): the optional PROXY preamble, the request line, the header
block, then the body's framing. Each phase reads only what it needs from the unreader;
the body itself is left on the wire for the application to read through ``Body``.

Rules of this module (RFC 9112 unless noted):

- Bytes in. Lines end at CRLF only. Every part is checked as bytes against its grammar
  and only then decoded (latin-1, which maps every byte to one character).
- Limits bite while reading: the request line here, each header field and the number
  of fields in :mod:`minigun.http.fields`, as the bytes arrive, never after buffering.
- Framing is never guessed. Any doubt about where the body ends (two lengths, a length
  and chunked, chunked not last, chunked on HTTP/1.0) is an error, because a server and
  a proxy that guess differently are how requests get smuggled.
"""

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from minigun.config import Config
from minigun.http.body import Body, ChunkedReader, LengthReader
from minigun.http.errors import (
    ExpectationFailed,
    InvalidHeader,
    InvalidHTTPVersion,
    InvalidRequestLine,
    InvalidRequestMethod,
    InvalidSchemeHeaders,
    LimitRequestBody,
    LimitRequestLine,
    UnsupportedHTTPVersion,
    UnsupportedTransferCoding,
)
from minigun.http.fields import (
    FieldRules,
    Fields,
    read_fields,
    read_trailers,
)
from minigun.http.grammar import AUTHORITY_RE, TOKEN_RE, is_content_length
from minigun.http.proxy import ProxyInfo, ip_allowed, read_proxy_preamble
from minigun.http.unreader import Unreader
from minigun.sock import SocketAddress

#: The ceiling of ``limit_request_line``; 0 or a larger value means the ceiling.
MAX_LINE = 8190
#: Empty lines tolerated before a request line (RFC 9112 section 2.2).
MAX_EMPTY_LINES = 4
#: A Content-Length longer than this cannot be honest.
MAX_CONTENT_LENGTH_DIGITS = 18

#: method SP request-target SP HTTP-version (RFC 9112 section 3)
REQUEST_LINE_PARTS = 3
SUPPORTED_VERSIONS = ((1, 0), (1, 1))
HTTP_1_1 = (1, 1)
# Conventional methods are upper case, 3 to 20 characters (gunicorn's rule).
METHOD_MIN_LENGTH = 3
METHOD_MAX_LENGTH = 20

UNCONVENTIONAL_METHOD_RE = re.compile(rb"[a-z#]")
# RFC 9112 section 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT
VERSION_RE = re.compile(rb"HTTP/([0-9])\.([0-9])")
# A request target is ASCII (RFC 9112 section 3.2, RFC 3986 section 2): no control
# characters, no spaces, and no byte above 0x7f; other characters travel
# percent-encoded. A raw UTF-8 target would otherwise be decoded twice on its way
# to PATH_INFO.
TARGET_FORBIDDEN_RE = re.compile(rb"[\x00-\x20\x7f-\xff]")
ABSOLUTE_FORM_RE = re.compile(r"([A-Za-z][-A-Za-z0-9+.]*)://([^/?#]*)(.*)", re.DOTALL)

#: Fields a request may carry only once: two values would be two different requests.
SINGLETON_FIELDS = frozenset({"HOST", "CONTENT-LENGTH", "CONTENT-TYPE"})
CHUNKED = "chunked"
IDENTITY = "identity"
CONTINUE = "100-continue"
CONNECT_METHOD = "CONNECT"


@dataclass(frozen=True)
class ParseRules:
    """Everything the HTTP layer takes from the settings, as one typed value, so that
    nothing here reads a Config while it parses (h11's rule: the parser knows
    nothing of the server around it).

    A worker builds it once, when it is made (:class:`~minigun.workers.base.Worker`):
    its Config never changes, since a HUP forks new workers with the new one, so its
    rules do not either. :meth:`from_config` applies gunicorn's readings there, once
    (a limit of 0 means the ceiling). What differs from one peer to the next is only
    whether it is trusted, so both sets of field rules are built ahead.
    """

    limit_request_line: int
    limit_request_body: int
    permit_unconventional_http_method: bool
    casefold_http_method: bool
    permit_unconventional_http_version: bool
    fields: FieldRules  # for a peer not in forwarded_allow_ips
    trusted_fields: FieldRules  # for a trusted proxy: its forwarder headers kept
    forwarded_allow_ips: tuple[str, ...]
    secure_scheme_headers: Mapping[str, str]  # upper-case name to the https value
    proxy_protocol: str
    proxy_allow_ips: tuple[str, ...]
    scheme: str  # the listeners' own: https when they speak TLS
    header_timeout: float
    body_idle_timeout: float

    @classmethod
    def from_config(cls, cfg: Config) -> "ParseRules":
        """Read the settings; a request line limit of 0 or too large is the ceiling."""
        line = cfg.limit_request_line
        secure = cfg.secure_scheme_headers
        return cls(
            limit_request_line=line if 0 < line < MAX_LINE else MAX_LINE,
            limit_request_body=cfg.limit_request_body,
            permit_unconventional_http_method=cfg.permit_unconventional_http_method,
            casefold_http_method=cfg.casefold_http_method,
            permit_unconventional_http_version=cfg.permit_unconventional_http_version,
            fields=FieldRules.from_config(cfg, trusted=False),
            trusted_fields=FieldRules.from_config(cfg, trusted=True),
            forwarded_allow_ips=tuple(cfg.forwarded_allow_ips),
            secure_scheme_headers={name.upper(): secure[name] for name in secure},
            proxy_protocol=cfg.proxy_protocol,
            proxy_allow_ips=tuple(cfg.proxy_allow_ips),
            scheme="https" if cfg.is_ssl else "http",
            header_timeout=cfg.header_timeout,
            body_idle_timeout=cfg.body_idle_timeout,
        )


class Phase(enum.Enum):
    """Where the parsing of one request stands."""

    PREAMBLE = "PROXY preamble"
    REQUEST_LINE = "request line"
    HEADERS = "header block"
    FRAMING = "body framing"
    BODY = "body"  # final: the rest belongs to the application


class Request:
    """One request, parsed up to its body, which stays on the wire as ``self.body``.

    Args:
        rules: the settings the parser obeys (the worker's, built once).
        unreader: where the bytes come from.
        peer_addr: the client's address, ``(ip, port)``, or something else for a Unix
            socket; it decides whether proxy headers are believed.
        req_number: 1 for the first request on the connection (which alone may
            start with a PROXY preamble).
    """

    def __init__(
        self,
        rules: ParseRules,
        unreader: Unreader,
        peer_addr: SocketAddress,
        req_number: int = 1,
    ) -> None:
        self.rules = rules
        self.trusted = ip_allowed(peer_addr, rules.forwarded_allow_ips)
        self.field_rules = rules.trusted_fields if self.trusted else rules.fields
        self.unreader = unreader
        self.peer_addr = peer_addr
        self.req_number = req_number
        self.proxy_protocol_info: ProxyInfo | None = None
        self.method = self.uri = self.path = self.query = self.fragment = ""
        self.version = HTTP_1_1
        self.headers: Fields = []
        self.scheme = rules.scheme
        self.expect_continue = False
        self.must_close = False
        self.body = Body(LengthReader(unreader, 0))
        self.phase = Phase.PREAMBLE if req_number == 1 else Phase.REQUEST_LINE
        self.parse()

    def parse(self) -> None:
        """Run the phases in order until only the body is left."""
        while self.phase is not Phase.BODY:
            self.phase = self.STEPS[self.phase](self)

    def read_preamble(self) -> Phase:
        """Read a PROXY protocol preamble, if enabled and present."""
        if self.rules.proxy_protocol != "off":
            self.proxy_protocol_info = read_proxy_preamble(
                self.unreader,
                self.rules.proxy_protocol,
                self.peer_addr,
                self.rules.proxy_allow_ips,
            )
        return Phase.REQUEST_LINE

    def read_request_line(self) -> Phase:
        """Read and check ``method SP request-target SP HTTP-version``."""
        # exercise: request-line
        line = self.next_request_line()
        parts = line.split(b" ", REQUEST_LINE_PARTS - 1)
        if len(parts) != REQUEST_LINE_PARTS:
            raise InvalidRequestLine(line.decode("latin-1"))
        method, target, version = parts
        self.method = parse_method(method, self.rules)
        self.uri = parse_target(target)
        self.path, self.query, self.fragment = split_target(self.method, self.uri)
        self.version = parse_version(version, self.rules)
        return Phase.HEADERS
        # end-exercise: request-line

    def next_request_line(self) -> bytes:
        """Read the request line, skipping a few empty lines left by a sloppy client."""
        for _ in range(MAX_EMPTY_LINES + 1):
            line = self.unreader.read_line(
                self.rules.limit_request_line, LimitRequestLine
            )
            if line:
                return line
        raise InvalidRequestLine("only empty lines")

    def read_headers(self) -> Phase:
        """Read the header block and refuse fields that must not repeat."""
        self.headers = read_fields(self.unreader, self.field_rules)
        refuse_repeated_singletons(self.headers)
        return Phase.FRAMING

    def read_framing(self) -> Phase:
        """Decide where the body ends; then what the client expects of the server."""
        content_length = self.content_length()
        codings = self.transfer_codings()
        if CHUNKED in codings:
            self.check_chunked(codings, content_length)
            reader = ChunkedReader(
                self.unreader, self.read_trailers, self.rules.limit_request_body
            )
            self.body = Body(reader)
        elif content_length:
            if 0 < self.rules.limit_request_body < content_length:
                raise LimitRequestBody(f"{content_length} bytes")
            self.body = Body(LengthReader(self.unreader, content_length))
        has_body = CHUNKED in codings or bool(content_length)
        self.expect_continue = self.expects_continue(has_body)
        self.scheme = self.forwarded_scheme()
        if self.method == CONNECT_METHOD:
            # RFC 9110 section 9.3.6: what follows a CONNECT is a tunnel's payload,
            # for the host the client asked to reach, never a next request. A WSGI
            # server has no tunnel to hand it to: the connection ends with the
            # response, and the bytes after the head are never parsed.
            self.must_close = True
        return Phase.BODY

    STEPS: ClassVar[dict[Phase, Callable[["Request"], Phase]]] = {
        Phase.PREAMBLE: read_preamble,
        Phase.REQUEST_LINE: read_request_line,
        Phase.HEADERS: read_headers,
        Phase.FRAMING: read_framing,
    }

    # -- Framing (RFC 9112 section 6) ----------------------------------------------

    def content_length(self) -> int | None:
        """The one Content-Length as a non-negative integer, or ``None``.

        ``int()`` alone would accept ``+5``, ``5_0`` and non-ASCII digits: only plain
        ASCII digits are a length (RFC 9110 section 8.6).
        """
        values = self.values("CONTENT-LENGTH")
        if not values:
            return None
        value = values[0]
        if not is_content_length(value):
            raise InvalidHeader(f"CONTENT-LENGTH: {value}")
        if len(value) > MAX_CONTENT_LENGTH_DIGITS:
            raise InvalidHeader(f"CONTENT-LENGTH too long: {value}")
        return int(value)

    def transfer_codings(self) -> list[str]:
        """The transfer codings in order, from every Transfer-Encoding field.

        Transfer-Encoding on HTTP/1.0 is refused: an HTTP/1.0 recipient could not
        have understood it, so the framing is faulty (RFC 9112 section 6.1). A
        coding other than ``chunked`` (and the no-op ``identity``) is answered 501
        (RFC 9112 section 7): minigun decodes no ``gzip`` or ``deflate``, and
        handing the still-compressed bytes to the application as the body would
        give it content that is not the request's content. gunicorn 27 answers
        the same.
        """
        codings = [
            coding.strip(" \t").lower()
            for value in self.values("TRANSFER-ENCODING")
            for coding in value.split(",")
        ]
        if codings and self.version < HTTP_1_1:
            raise InvalidHeader("TRANSFER-ENCODING on HTTP/1.0")
        if codings and codings[-1] != CHUNKED:
            # Section 6.3: chunked not last means the length cannot be known; even
            # "identity" with a Content-Length is refused, because a proxy that
            # ignores one header or the other would see a different body.
            raise InvalidHeader("TRANSFER-ENCODING without chunked last")
        for coding in codings:
            if coding not in (CHUNKED, IDENTITY):
                raise UnsupportedTransferCoding(coding)
        return codings

    def check_chunked(self, codings: list[str], content_length: int | None) -> None:
        """Chunked must come once (it is last already), and never with a length."""
        if codings.count(CHUNKED) > 1:
            raise InvalidHeader("TRANSFER-ENCODING: chunked more than once")
        if content_length is not None:
            raise InvalidHeader("CONTENT-LENGTH with TRANSFER-ENCODING")

    def read_trailers(self, unreader: Unreader) -> Fields:
        """Read the trailer section after the last chunk, with this request's rules.

        A field that may come only once may not come again as a trailer, whether it
        repeats a header or another trailer.
        """
        trailers = read_trailers(unreader, self.field_rules)
        refuse_repeated_singletons(self.headers + trailers)
        return trailers

    # -- What the headers ask of the server ---------------------------------------

    def expects_continue(self, has_body: bool) -> bool:
        """Whether the client waits for ``100 Continue`` before sending the body.

        An HTTP/1.0 client cannot understand 100 Continue and its expectation is
        ignored (RFC 9110 section 10.1.1); any other expectation is refused.
        """
        expectations = [value.lower() for value in self.values("EXPECT")]
        if any(value != CONTINUE for value in expectations):
            raise ExpectationFailed(", ".join(expectations))
        return bool(expectations) and self.version >= HTTP_1_1 and has_body

    def forwarded_scheme(self) -> str:
        """``https`` or ``http``, from the scheme headers of a trusted proxy."""
        if not self.trusted:
            return self.scheme
        secure_headers = self.rules.secure_scheme_headers
        schemes = {
            "https" if value == secure_headers[name] else "http"
            for name, value in self.headers
            if name in secure_headers
        }
        if len(schemes) > 1:
            raise InvalidSchemeHeaders("both http and https")
        return schemes.pop() if schemes else self.scheme

    # -- Reading the parsed request -----------------------------------------------

    def values(self, name: str) -> list[str]:
        """Every value of the header ``name`` (upper case), in arrival order."""
        return [value for field, value in self.headers if field == name]

    @property
    def trailers(self) -> Fields:
        """The trailer fields, known once a chunked body has been read to its end."""
        if isinstance(self.body.reader, ChunkedReader):
            return self.body.reader.trailers
        return []


def refuse_repeated_singletons(fields: Fields) -> None:
    """Two values of a field that may come once would be two different requests."""
    names = [name for name, _ in fields]
    for name in SINGLETON_FIELDS:
        if names.count(name) > 1:
            raise InvalidHeader(f"{name} more than once")


# -- The request line -------------------------------------------------------------


def parse_method(method: bytes, rules: ParseRules) -> str:
    """A method is a token; a conventional one is also upper case, 3-20 characters."""
    if not TOKEN_RE.fullmatch(method):
        raise InvalidRequestMethod(method.decode("latin-1"))
    if not rules.permit_unconventional_http_method and (
        UNCONVENTIONAL_METHOD_RE.search(method)
        or not METHOD_MIN_LENGTH <= len(method) <= METHOD_MAX_LENGTH
    ):
        raise InvalidRequestMethod(method.decode("latin-1"))
    text = method.decode("ascii")
    return text.upper() if rules.casefold_http_method else text


def parse_target(target: bytes) -> str:
    """A request target is non-empty ASCII without spaces or control characters."""
    if not target or TARGET_FORBIDDEN_RE.search(target):
        raise InvalidRequestLine(f"request target {target!r}")
    return target.decode("latin-1")


def split_target(method: str, target: str) -> tuple[str, str, str]:
    """Split a target into path, query and fragment by its form (RFC 9112 sec. 3.2).

    ``*`` (asterisk-form, OPTIONS only) and ``host:port`` (authority-form, CONNECT
    only) name no resource: the path is the target itself.
    """
    if method == CONNECT_METHOD:
        if not AUTHORITY_RE.fullmatch(target) or "@" in target or ":" not in target:
            raise InvalidRequestLine(f"CONNECT needs host:port, not {target!r}")
        return target, "", ""
    if target == "*":
        if method != "OPTIONS":
            raise InvalidRequestLine(f"* with {method}")
        return target, "", ""
    if target.startswith("/"):
        return split_origin(target)
    absolute = ABSOLUTE_FORM_RE.fullmatch(target)
    if absolute is None or not AUTHORITY_RE.fullmatch(absolute.group(2)):
        raise InvalidRequestLine(f"request target {target!r}")
    return split_origin(absolute.group(3))


def split_origin(target: str) -> tuple[str, str, str]:
    """Split ``path?query#fragment``; nothing is percent-decoded here."""
    rest, _, fragment = target.partition("#")
    path, _, query = rest.partition("?")
    return path, query, fragment


def parse_version(version: bytes, rules: ParseRules) -> tuple[int, int]:
    """Return ``(major, minor)``; only 1.0 and 1.1 unless permitted otherwise."""
    match = VERSION_RE.fullmatch(version)
    if match is None:
        raise InvalidHTTPVersion(version.decode("latin-1"))
    parsed = (int(match.group(1)), int(match.group(2)))
    permitted = rules.permit_unconventional_http_version
    if parsed not in SUPPORTED_VERSIONS and not permitted:
        raise UnsupportedHTTPVersion(version.decode("latin-1"))
    return parsed
