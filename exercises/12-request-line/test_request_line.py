"""Exercise 12: the request line, ``method SP request-target SP HTTP-version``."""

from pathlib import Path

import pytest
from fakes import trust_no_proxy

import minigun
from minigun.config import Config
from minigun.http import errors
from minigun.http.message import ParseRules, Request
from minigun.http.unreader import IterUnreader

PEER = ("127.0.0.1", 40000)


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_no_proxy(monkeypatch)


def parse(line: bytes) -> Request:
    """Parses one request whose first line is ``line``, as the parser would."""
    raw = line + b"\r\nHost: example\r\n\r\n"
    return Request(ParseRules.from_config(Config()), IterUnreader([raw]), PEER)


def test_the_three_parts_and_the_target_split():
    req = parse(b"GET /a/b?c=d#e HTTP/1.1")
    parts = (req.method, req.uri, req.version, req.path, req.query, req.fragment)
    expected = ("GET", "/a/b?c=d#e", (1, 1), "/a/b", "c=d", "e")
    assert parts == expected, (
        "for 'GET /a/b?c=d#e HTTP/1.1', (method, uri, version, path, query, fragment) "
        f"are {parts}; expected {expected}"
    )


def test_http_1_0_and_another_method():
    req = parse(b"POST /upload HTTP/1.0")
    assert (req.method, req.path, req.version) == ("POST", "/upload", (1, 0)), (
        "for 'POST /upload HTTP/1.0' got "
        f"{(req.method, req.path, req.version)}; expected ('POST', '/upload', (1, 0))"
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"GET /", errors.InvalidRequestLine),
        (b"GET  / HTTP/1.1", errors.InvalidRequestLine),
        (b"GET / HTTP/1.1 extra", errors.InvalidHTTPVersion),
        (b"get / HTTP/1.1", errors.InvalidRequestMethod),
        (b"GET / http/1.1", errors.InvalidHTTPVersion),
        (b"GET /a\x00 HTTP/1.1", errors.InvalidRequestLine),
    ],
)
def test_a_malformed_line_is_the_right_400(line: bytes, error: type[Exception]):
    try:
        parse(line)
    except errors.ParseException as raised:
        assert isinstance(raised, error), (
            f"the request line {line!r} raised {type(raised).__name__}; expected "
            f"{error.__name__}"
        )
        assert raised.status_code == 400, f"{line!r} answered {raised.status_code}"
        return
    pytest.fail(f"the request line {line!r} was accepted; expected {error.__name__}")


def test_an_unsupported_version_is_505():
    with pytest.raises(errors.UnsupportedHTTPVersion) as raised:
        parse(b"GET / HTTP/2.0")
    assert raised.value.status_code == 505, (
        f"'GET / HTTP/2.0' answered {raised.value.status_code}; expected 505"
    )
