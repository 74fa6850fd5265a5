"""Header fields: the grammar shared by the header block and the trailer section.

Chapter question: a header block is a list of ``name: value`` lines ended by an empty
line; what may a line contain, and how much of it will the server read?

Rules of this module (RFC 9112 section 5, RFC 9110 section 5):

- A field line is ``name ":" OWS value OWS``. The name is a token: no spaces, so no
  whitespace before the colon (unless ``strip_header_spaces``). The value carries no
  control character except HTAB; a bare CR or LF inside it is refused, never read as
  the end of a line.
- A line that starts with whitespace continues the previous field (obsolete folding).
  It is refused unless ``permit_obsolete_folding``.
- Names with ``_`` are dropped (``header_map``): as CGI names ``CONTENT_LENGTH`` and
  ``CONTENT-LENGTH`` would be the same key, and a proxy that checked one could be fooled
  by the other. A trusted proxy's forwarder headers (``SCRIPT_NAME``) are kept.
- Limits bite while reading: every line is bounded by ``limit_request_field_size``
  (counting its CRLF; a folded field counts all its lines), the number of fields by
  ``limit_request_fields``.
"""

from dataclasses import dataclass

from minigun.config import Config
from minigun.http.errors import (
    InvalidHeader,
    InvalidHeaderName,
    LimitRequestHeaders,
    ObsoleteFolding,
)
from minigun.http.grammar import FIELD_VALUE_FORBIDDEN_RE, TOKEN_RE
from minigun.http.unreader import CRLF, Unreader

#: The ceiling of ``limit_request_fields``; 0 or a larger value means the ceiling.
MAX_HEADERS = 32768
#: ``limit_request_field_size`` = 0 means this size, as in gunicorn.
DEFAULT_MAX_HEADERFIELD_SIZE = 8190

FOLD_START = (b" ", b"\t")
#: How a line that ``Unreader.read_line`` ended at a bare CR or LF ends.
BARE_LINE_ENDS = (b"\r", b"\n")

#: Fields that frame, route, authorise or modify a request may not arrive as trailers,
#: after the request was already acted on (RFC 9110 section 6.5.1).
FORBIDDEN_TRAILERS = frozenset(
    {"CONTENT-LENGTH", "TRANSFER-ENCODING", "TRAILER", "HOST", "CONNECTION", "TE"}
    | {"AUTHORIZATION", "PROXY-AUTHORIZATION", "COOKIE", "EXPECT"}
)

Fields = list[tuple[str, str]]


@dataclass(frozen=True)
class FieldRules:
    """The settings that shape field parsing, as one value, gunicorn's readings
    applied (:meth:`from_config`); built with the worker's
    :class:`~minigun.http.message.ParseRules`, once, in both variants."""

    limit_request_fields: int
    limit_request_field_size: int
    permit_obsolete_folding: bool
    strip_header_spaces: bool
    header_map: str
    forwarder_headers: frozenset[str]

    @classmethod
    def from_config(cls, cfg: Config, trusted: bool) -> "FieldRules":
        """Apply gunicorn's reading of the limits: 0 means the default or ceiling.

        ``trusted``: the peer is in ``forwarded_allow_ips``, so the forwarder headers
        (``SCRIPT_NAME``...) it sends are kept despite the underscore in their names.
        """
        fields = cfg.limit_request_fields
        return cls(
            limit_request_fields=fields if 0 < fields <= MAX_HEADERS else MAX_HEADERS,
            limit_request_field_size=(
                cfg.limit_request_field_size or DEFAULT_MAX_HEADERFIELD_SIZE
            ),
            permit_obsolete_folding=cfg.permit_obsolete_folding,
            strip_header_spaces=cfg.strip_header_spaces,
            header_map=cfg.header_map,
            forwarder_headers=frozenset(cfg.forwarder_headers if trusted else ()),
        )


def read_fields(unreader: Unreader, rules: FieldRules) -> Fields:
    """Read field lines up to the empty line that ends the block.

    Each line is bounded as it is read; a folded field counts all its lines.
    """
    block = FieldBlock(rules)
    line_limit = rules.limit_request_field_size - len(CRLF)
    while line := unreader.read_line(max(line_limit, 0), LimitRequestHeaders):
        block.add_line(line)
    return block.finish()


def read_trailers(unreader: Unreader, rules: FieldRules) -> Fields:
    """Read the trailer section; framing and routing fields are refused there."""
    trailers = read_fields(unreader, rules)
    for name, _ in trailers:
        if name in FORBIDDEN_TRAILERS:
            raise InvalidHeaderName(f"{name} as a trailer")
    return trailers


class FieldBlock:
    """Collects field lines, joining obsolete folds, into ``(NAME, value)`` pairs."""

    def __init__(self, rules: FieldRules) -> None:
        self.rules = rules
        self.fields: Fields = []
        self.pending: list[bytes] = []  # the lines of the field being read
        self.pending_size = 0
        self.count = 0

    def add_line(self, line: bytes) -> None:
        """Start a new field, or continue the previous one if the line is folded.

        A line ended by a bare CR or LF is refused at once: a field is otherwise
        parsed only when the next line arrives, which may be never.
        """
        if line.endswith(BARE_LINE_ENDS):
            raise InvalidHeader(f"a line ended by a bare CR or LF: {line!r}")
        if line.startswith(FOLD_START):
            self.fold(line)
            return
        self.flush()
        self.count += 1
        if self.count > self.rules.limit_request_fields:
            raise LimitRequestHeaders(f"more than {self.rules.limit_request_fields}")
        self.pending = [line]
        self.pending_size = len(line) + len(CRLF)

    def fold(self, line: bytes) -> None:
        """Append a continuation line (RFC 9112 section 5.2), if permitted."""
        if not self.pending:
            raise InvalidHeader("continuation line without a field")
        if not self.rules.permit_obsolete_folding:
            raise ObsoleteFolding(self.pending[0].partition(b":")[0].decode("latin-1"))
        self.pending.append(line)
        self.pending_size += len(line) + len(CRLF)
        if self.pending_size > self.rules.limit_request_field_size:
            raise LimitRequestHeaders("folded field too large")

    def finish(self) -> Fields:
        """Return the fields once the empty line has been read."""
        self.flush()
        return self.fields

    def flush(self) -> None:
        """Parse the pending field, if any; keep it unless the header map drops it."""
        if not self.pending:
            return
        name, value = parse_field(self.pending, self.rules)
        self.pending = []
        if "_" in name and not self.keeps_underscore(name):
            # CONTENT_LENGTH would reach WSGI as the same key as CONTENT-LENGTH.
            if self.rules.header_map == "refuse":
                raise InvalidHeaderName(name)
            return
        self.fields.append((name, value))

    def keeps_underscore(self, name: str) -> bool:
        """Whether a name with ``_`` is kept: a trusted forwarder's, or by choice."""
        forwarders = self.rules.forwarder_headers
        if name in forwarders or "*" in forwarders:
            return True
        return self.rules.header_map == "dangerous"


def parse_field(lines: list[bytes], rules: FieldRules) -> tuple[str, str]:
    """Parse ``name ":" OWS value OWS`` (with any folded lines) into strings."""
    name, colon, first = lines[0].partition(b":")
    if not colon or not name:
        raise InvalidHeader(lines[0].decode("latin-1"))
    if rules.strip_header_spaces:
        name = name.rstrip(b" \t")
    if not TOKEN_RE.fullmatch(name):
        raise InvalidHeaderName(name.decode("latin-1"))
    parts = [part.strip(b" \t") for part in [first, *lines[1:]]]
    value = b" ".join(part for part in parts if part)
    if FIELD_VALUE_FORBIDDEN_RE.search(value):
        raise InvalidHeader(name.decode("ascii"))
    return name.decode("ascii").upper(), value.decode("latin-1")
