"""Exercise 12, hidden cases: the teacher's grader runs them; the kit never holds them.

The visible tests pin an origin-form target (``/a/b?c=d#e``). These pin what an answer
that reads the line itself, or splits the target itself, gets wrong: the empty lines
a client may leave before a request, and the three other forms of a request target
(RFC 9112 section 3.2), which ``split_target`` already knows.
"""

import pytest
from fakes import trust_no_proxy

from minigun.config import Config
from minigun.http import errors
from minigun.http.message import ParseRules, Request
from minigun.http.unreader import IterUnreader

PEER = ("127.0.0.1", 40000)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a request asks whether its peer is a trusted proxy: exercise 24's
    hole, which may still be open in the kit."""
    trust_no_proxy(monkeypatch)


def parse(raw: bytes) -> Request:
    return Request(ParseRules.from_config(Config()), IterUnreader([raw]), PEER)


def test_empty_lines_before_the_request_line_are_skipped():
    """A client may send a stray CRLF after a body; the next request still parses."""
    req = parse(b"\r\n\r\nGET /after HTTP/1.1\r\nHost: example\r\n\r\n")
    assert (req.method, req.path) == ("GET", "/after"), (
        "two empty lines before 'GET /after HTTP/1.1' gave "
        f"{(req.method, req.path)}; expected ('GET', '/after')"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"OPTIONS * HTTP/1.1", ("*", "", "")),
        (b"CONNECT example.org:443 HTTP/1.1", ("example.org:443", "", "")),
        (b"GET http://example.org/a/b?c=d HTTP/1.1", ("/a/b", "c=d", "")),
    ],
)
def test_every_form_of_the_target_is_split_by_its_form(
    line: bytes, expected: tuple[str, str, str]
):
    req = parse(line + b"\r\nHost: example\r\n\r\n")
    parts = (req.path, req.query, req.fragment)
    assert parts == expected, (
        f"for {line!r}, (path, query, fragment) are {parts}; expected {expected}"
    )


def test_a_star_is_only_for_options():
    with pytest.raises(errors.InvalidRequestLine):
        parse(b"GET * HTTP/1.1\r\nHost: example\r\n\r\n")
