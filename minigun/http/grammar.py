"""The HTTP grammar minigun checks, written once (as h11 keeps its ABNF in one module).

Chapter question: a token, a host, a field value, a length: each is one line of the
RFCs' ABNF; why should a server ever write one of them twice?

Every rule here is quoted beside the regular expression that implements it. The
parser checks a client's bytes with them, the response checks an application's
strings with them, so both sides of the server agree on what a token or a length is.
A rule that matches bytes (``..._RE``) has a ``..._TEXT_RE`` twin for ``str`` where
the other side needs one: compiled from the same pattern, never retyped.
"""

import re

# RFC 9110 section 5.6.2:
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_"
#           / "`" / "|" / "~" / DIGIT / ALPHA
#   token = 1*tchar
TCHAR = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]"
TOKEN = TCHAR + rb"+"
TOKEN_RE = re.compile(TOKEN)
TOKEN_TEXT_RE = re.compile(TOKEN.decode("ascii"))

# RFC 9110 section 5.5: a field value carries no CTL (RFC 5234: %x00-1F / %x7F) but
# HTAB; RFC 9112 section 4's reason-phrase allows the same characters. The
# characters, for a [] class (the reason phrase's is negated):
CONTROLS = r"\x00-\x08\x0a-\x1f\x7f"
FIELD_VALUE_FORBIDDEN_RE = re.compile(f"[{CONTROLS}]".encode("ascii"))
FIELD_VALUE_FORBIDDEN_TEXT_RE = re.compile(f"[{CONTROLS}]")

# RFC 3986 section 3.2.2: host = IP-literal / IPv4address / reg-name
#   (IPv4address is a reg-name too; IP-literal is "[" IPv6 or IPvFuture "]")
HOST = r"\[[0-9A-Fa-f:.]+\]|[-\w.~%!$&'()*+,;=]*"
# RFC 3986 section 3.2.3: port = *DIGIT
PORT = r"[0-9]*"
# RFC 9110 section 7.2: Host = uri-host [ ":" port ]; the groups are host and port.
HOST_RE = re.compile(rf"({HOST})(?::({PORT}))?", re.ASCII)
# RFC 3986 section 3.2: authority = [ userinfo "@" ] host [ ":" port ]
USERINFO = r"[-\w.~%!$&'()*+,;=:]*"
AUTHORITY_RE = re.compile(rf"(?:{USERINFO}@)?(?:{HOST})(?::{PORT})?", re.ASCII)

# RFC 9110 section 8.6: Content-Length = 1*DIGIT (ASCII digits only: ``int()``
# would also take "+5", "5_0" and other scripts' digits)
CONTENT_LENGTH_RE = re.compile(r"[0-9]+")


def is_content_length(value: str) -> bool:
    """Whether ``value`` is a Content-Length: one or more ASCII digits, nothing else."""
    return CONTENT_LENGTH_RE.fullmatch(value) is not None
