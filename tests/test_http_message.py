"""The request grammar: request line, header fields, framing, expectations, proxies."""

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors
from minigun.http.exchange import client_close_reason
from minigun.http.message import ParseRules, Request, split_target
from minigun.http.unreader import IterUnreader

TRUSTED = ("127.0.0.1", 40000)
UNTRUSTED = ("203.0.113.9", 40000)


def rules(**settings: Any) -> ParseRules:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return ParseRules.from_config(cfg)


def request(
    raw: bytes | Iterable[bytes], peer: Any = TRUSTED, **settings: Any
) -> Request:
    pieces = [raw] if isinstance(raw, bytes) else raw
    return Request(rules(**settings), IterUnreader(pieces), peer)


def get(*header_lines: str, version: str = "1.1", target: str = "/") -> bytes:
    head = [f"GET {target} HTTP/{version}", *header_lines, "", ""]
    return "\r\n".join(head).encode("latin-1")


def post(*header_lines: str, body: bytes = b"", version: str = "1.1") -> bytes:
    head = [f"POST /upload HTTP/{version}", "Host: x", *header_lines, "", ""]
    return "\r\n".join(head).encode("latin-1") + body


# -- Request line ---------------------------------------------------------------------


def test_a_request_line_with_its_parts() -> None:
    req = request(get("Host: x", target="/a/b?c=d#e"))
    assert (req.method, req.uri, req.version) == ("GET", "/a/b?c=d#e", (1, 1))
    assert (req.path, req.query, req.fragment) == ("/a/b", "c=d", "e")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"GET /\r\n\r\n", errors.InvalidRequestLine),
        (b"GET  / HTTP/1.1\r\n\r\n", errors.InvalidRequestLine),
        (b"GET /a\rb HTTP/1.1\r\n\r\n", errors.InvalidRequestLine),
        (b"GET /a\x00 HTTP/1.1\r\n\r\n", errors.InvalidRequestLine),
        (b"get / HTTP/1.1\r\n\r\n", errors.InvalidRequestMethod),
        (b"GE / HTTP/1.1\r\n\r\n", errors.InvalidRequestMethod),
        (b"G(T / HTTP/1.1\r\n\r\n", errors.InvalidRequestMethod),
        (b"GET / HTTP/1.1 \r\n\r\n", errors.InvalidHTTPVersion),
        (b"GET / http/1.1\r\n\r\n", errors.InvalidHTTPVersion),
        (b"GET / HTTP/1.\xd9\xa1\r\n\r\n", errors.InvalidHTTPVersion),
    ],
)
def test_malformed_request_lines(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        request(raw)


@pytest.mark.parametrize("version", ["2.0", "1.2", "0.9"])
def test_well_formed_but_unsupported_versions_are_505(version: str) -> None:
    with pytest.raises(errors.UnsupportedHTTPVersion) as caught:
        request(get(version=version))
    assert caught.value.status_code == 505


def test_the_request_line_limit_bites_while_reading() -> None:
    endless = itertools.chain([b"GET /"], itertools.repeat(b"a" * 100, 10_000))
    with pytest.raises(errors.LimitRequestLine) as caught:
        request(endless)
    assert caught.value.status_code == 414


def test_a_few_empty_lines_before_the_request_line_are_ignored() -> None:
    assert request(b"\r\n\r\n" + get("Host: x")).method == "GET"
    with pytest.raises(errors.InvalidRequestLine):
        request(b"\r\n" * 10 + get("Host: x"))


@pytest.mark.parametrize(
    ("method", "target", "parts"),
    [
        ("GET", "/p?q#f", ("/p", "q", "f")),
        ("GET", "//double", ("//double", "", "")),
        ("GET", "http://example.com:80/p?q", ("/p", "q", "")),
        ("GET", "https://u:p@[::1]:8443", ("", "", "")),
        ("OPTIONS", "*", ("*", "", "")),
        ("CONNECT", "example.com:443", ("example.com:443", "", "")),
    ],
)
def test_request_target_forms(method: str, target: str, parts: tuple) -> None:
    assert split_target(method, target) == parts


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "*"),
        ("GET", "example.com:443"),
        ("GET", "relative/path"),
        ("GET", "http://bad host/"),
        ("GET", "http://[::1/"),
        ("CONNECT", "/path"),
        ("CONNECT", "user@example.com:443"),
    ],
)
def test_request_targets_in_the_wrong_form(method: str, target: str) -> None:
    with pytest.raises(errors.InvalidRequestLine):
        split_target(method, target)


@pytest.mark.parametrize("target", [b"/\xc3\xa0%20k", b"/caf\xe9", b"/\x80"])
def test_a_target_with_raw_non_ascii_bytes_is_refused(target: bytes) -> None:
    raw = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with pytest.raises(errors.InvalidRequestLine) as caught:
        request(raw)
    assert caught.value.status_code == 400


def test_a_percent_encoded_target_is_fine() -> None:
    assert request(get("Host: x", target="/%C3%A0%20k")).path == "/%C3%A0%20k"


# -- Header block ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Host", "Content-Length", "Content-Type"])
def test_fields_that_must_not_repeat(name: str) -> None:
    with pytest.raises(errors.InvalidHeader):
        request(post(f"{name}: 1", f"{name}: 1"))


# -- Framing --------------------------------------------------------------------------


def test_content_length_frames_the_body() -> None:
    req = request(post("Content-Length: 5", body=b"helloGET"))
    assert req.body.read() == b"hello"


@pytest.mark.parametrize(
    "value", ["+5", "-1", "5_0", "0x5", "5 5", "5,5", "\u00b2", "1" * 19, ""]
)
def test_content_length_is_one_plain_decimal(value: str) -> None:
    with pytest.raises(errors.InvalidHeader):
        request(post(f"Content-Length: {value}", body=b"hello"))


def test_chunked_frames_the_body_with_trailers() -> None:
    raw = post("Transfer-Encoding: chunked", body=b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
    req = request(raw)
    assert req.body.read() == b"hello"
    assert req.trailers == [("X-T", "1")]


@pytest.mark.parametrize(
    "header_lines",
    [
        ("Transfer-Encoding: chunked", "Content-Length: 5"),
        ("Transfer-Encoding: chunked, chunked",),
        ("Transfer-Encoding: chunked", "Transfer-Encoding: identity"),
        ("Transfer-Encoding: identity, chunked, identity",),
        ("Transfer-Encoding: identity", "Content-Length: 5"),  # a smuggling shape
        ("Transfer-Encoding: identity",),
    ],
)
def test_ambiguous_framing_is_refused(header_lines: tuple[str, ...]) -> None:
    with pytest.raises(errors.InvalidHeader):
        request(post(*header_lines, body=b"0\r\n\r\n"))


def test_transfer_encoding_on_http_1_0_is_refused() -> None:
    with pytest.raises(errors.InvalidHeader):
        request(post("Transfer-Encoding: chunked", body=b"0\r\n\r\n", version="1.0"))


def test_an_unknown_transfer_coding_is_501() -> None:
    with pytest.raises(errors.UnsupportedTransferCoding) as caught:
        request(post("Transfer-Encoding: br, chunked", body=b"0\r\n\r\n"))
    assert caught.value.status_code == 501


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "compress"])
def test_a_compressed_transfer_coding_is_501_as_in_gunicorn_27(coding: str) -> None:
    """minigun decodes no compression: the application would get compressed bytes
    as the body, so the request is refused, as any coding it cannot decode."""
    with pytest.raises(errors.UnsupportedTransferCoding) as caught:
        request(post(f"Transfer-Encoding: {coding}, chunked", body=b"0\r\n\r\n"))
    assert caught.value.status_code == 501


def test_forbidden_trailers() -> None:
    raw = post("Transfer-Encoding: chunked", body=b"0\r\nHost: evil\r\n\r\n")
    with pytest.raises(errors.InvalidHeaderName):
        request(raw).body.read()


@pytest.mark.parametrize(
    ("head_lines", "trailer_lines"),
    [
        ((), ("Content-Type: a", "Content-Type: b")),
        (("Content-Type: a",), ("Content-Type: b",)),
    ],
)
def test_a_trailer_never_repeats_a_singleton_field(
    head_lines: tuple[str, ...], trailer_lines: tuple[str, ...]
) -> None:
    trailers = "".join(f"{line}\r\n" for line in trailer_lines).encode()
    raw = post("Transfer-Encoding: chunked", *head_lines, body=b"0\r\n" + trailers)
    with pytest.raises(errors.InvalidHeader):
        request(raw + b"\r\n").body.read()


@pytest.mark.parametrize("name", ["Content-Length", "Host"])
def test_a_trailer_never_repeats_a_framing_or_routing_field(name: str) -> None:
    trailers = f"{name}: 1\r\n{name}: 1\r\n\r\n".encode()
    raw = post("Transfer-Encoding: chunked", body=b"0\r\n" + trailers)
    with pytest.raises(errors.InvalidHeaderName):  # never allowed as a trailer at all
        request(raw).body.read()


def test_limit_request_body_answers_413_from_the_content_length() -> None:
    with pytest.raises(errors.LimitRequestBody) as caught:
        request(post("Content-Length: 11", body=b"x"), limit_request_body=10)
    assert caught.value.status_code == 413
    assert request(post("Content-Length: 10"), limit_request_body=10).body is not None


def test_limit_request_body_stops_a_chunked_body_that_crosses_it() -> None:
    raw = post("Transfer-Encoding: chunked", body=b"8\r\n12345678\r\n8\r\n12345678\r\n")
    req = request(raw, limit_request_body=10)
    assert req.body.read(8) == b"12345678"
    with pytest.raises(errors.LimitRequestBody):
        req.body.read()


# -- Expectations, keep-alive, scheme -------------------------------------------------


def test_expect_100_continue_on_http_1_1_with_a_body() -> None:
    assert request(post("Expect: 100-continue", "Content-Length: 1")).expect_continue
    assert not request(post("Expect: 100-continue")).expect_continue
    raw = post("Expect: 100-Continue", "Content-Length: 1", version="1.0")
    assert not request(raw).expect_continue


def test_any_other_expectation_is_417() -> None:
    with pytest.raises(errors.ExpectationFailed) as caught:
        request(post("Expect: teapot"))
    assert caught.value.status_code == 417


@pytest.mark.parametrize(
    ("version", "connection", "closes"),
    [
        ("1.1", None, False),
        ("1.1", "close", True),
        ("1.1", "Keep-Alive, Close", True),
        ("1.1", "upgrade", False),
        ("1.0", None, True),
        ("1.0", "keep-alive", False),
        ("1.0", "Keep-Alive, Upgrade", False),
    ],
)
def test_what_the_client_says_of_the_connection(
    version: str, connection: str | None, closes: bool
) -> None:
    lines = ["Host: x"] + ([f"Connection: {connection}"] if connection else [])
    reason = client_close_reason(request(get(*lines, version=version)))
    assert (reason is not None) is closes


@pytest.mark.parametrize(
    ("peer", "lines", "scheme"),
    [
        (TRUSTED, ["X-Forwarded-Proto: https"], "https"),
        (TRUSTED, ["X-Forwarded-Proto: http"], "http"),
        (TRUSTED, ["X-Forwarded-Ssl: on", "X-Forwarded-Proto: https"], "https"),
        (UNTRUSTED, ["X-Forwarded-Proto: https"], "http"),
        ("/run/minigun.sock", ["X-Forwarded-Proto: https"], "https"),
    ],
)
def test_scheme_headers_from_trusted_peers(peer: Any, lines: list, scheme: str) -> None:
    assert request(get(*lines), peer=peer).scheme == scheme


def test_contradictory_scheme_headers() -> None:
    with pytest.raises(errors.InvalidSchemeHeaders):
        request(get("X-Forwarded-Proto: https", "X-Forwarded-Ssl: off"))


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\n",
        b"GET / HTTP/1.1\r\nHost: x\rA: b",
        b"GET /\n",
    ],
)
def test_a_bare_cr_or_lf_is_refused_before_more_bytes_arrive(raw: bytes) -> None:
    def then_hang() -> Iterator[bytes]:
        yield raw
        raise AssertionError("the parser waited for more after a bare CR or LF")

    with pytest.raises(errors.ParseException) as caught:
        Request(rules(), IterUnreader(then_hang()), TRUSTED)
    assert caught.value.status_code == 400
