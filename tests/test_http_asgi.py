"""The ASGI layer in-process: the unreader that never blocks, the scope, the
conversions to the WSGI response."""

from __future__ import annotations

import asyncio

import pytest

from minigun.config import Config
from minigun.http import wsgi
from minigun.http.asgi import (
    NeedData,
    StreamUnreader,
    body_ended,
    http_scope,
    status_line,
    text_headers,
)
from minigun.http.errors import RequestTimeout
from minigun.http.message import ParseRules, Request
from minigun.http.unreader import IterUnreader

pytestmark = pytest.mark.timeout(10)


def test_a_parser_step_without_its_bytes_raises_need_data_and_consumes_nothing():
    async def main() -> None:
        reader = asyncio.StreamReader()
        unreader = StreamUnreader(reader)
        reader.feed_data(b"GET / HT")
        await unreader.receive_more(1)
        with pytest.raises(NeedData):
            unreader.read_line(100, ValueError)
        assert bytes(unreader.buffer) == b"GET / HT"
        reader.feed_data(b"TP/1.1\r\n")
        await unreader.receive_more(1)
        assert unreader.read_line(100, ValueError) == b"GET / HTTP/1.1"

    asyncio.run(main())


def test_at_the_end_of_the_stream_the_parser_sees_an_end_not_a_wait():
    async def main() -> None:
        reader = asyncio.StreamReader()
        unreader = StreamUnreader(reader)
        reader.feed_eof()
        await unreader.receive_more(1)
        assert unreader.eof
        assert unreader.read(10) == b""

    asyncio.run(main())


def test_a_client_silent_past_the_parsers_clock_is_a_408():
    async def main() -> None:
        unreader = StreamUnreader(asyncio.StreamReader())
        unreader.set_limits(None, 0.05)
        with pytest.raises(RequestTimeout, match="no body bytes"):
            await unreader.receive_within_limits()

    asyncio.run(main())


def parse(raw: bytes, cfg: Config) -> Request:
    return Request(
        ParseRules.from_config(cfg), IterUnreader([raw]), ("127.0.0.1", 5000)
    )


def environ_for(req: Request, cfg: Config) -> wsgi.Environ:
    exchange = type("Exchange", (), {"refuse_keep_alive": lambda self, r: None})()
    return wsgi.create(
        req, None, ("127.0.0.1", 5000), ("127.0.0.1", 8000), cfg, exchange
    )[1]  # type: ignore[arg-type]


def test_the_scope_follows_the_environ_and_root_path():
    cfg = Config()
    cfg.set("root_path", "/api")
    req = parse(
        b"GET /caf%C3%A9?x=1 HTTP/1.1\r\nHost: example.org:8080\r\nX-A: b\r\n\r\n", cfg
    )
    scope = http_scope(req, environ_for(req, cfg), cfg, {"pool": "p"})
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/café"
    assert scope["raw_path"] == b"/caf%C3%A9"
    assert scope["query_string"] == b"x=1"
    assert (b"x-a", b"b") in scope["headers"]
    assert scope["client"] == ("127.0.0.1", 5000)
    assert scope["server"] == ("example.org", 8080)
    assert scope["state"] == {"pool": "p"}


def test_a_trusted_proxys_scheme_reaches_the_scope():
    cfg = Config()
    req = parse(b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: https\r\n\r\n", cfg)
    assert http_scope(req, environ_for(req, cfg), cfg, {})["scheme"] == "https"


def test_body_ended_by_length_and_by_the_last_chunk():
    cfg = Config()
    req = parse(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab", cfg)
    assert not body_ended(req.body)
    assert req.body.fill(10) == b"ab"
    assert body_ended(req.body)
    chunked = (
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nab\r\n0\r\n\r\n"
    )
    req = parse(chunked, cfg)
    assert req.body.fill(10) == b"ab"
    assert not body_ended(req.body)
    assert req.body.fill(10) == b""
    assert body_ended(req.body)


def test_status_and_headers_become_what_the_wsgi_response_takes():
    assert status_line(200) == "200 OK"
    assert status_line(599) == "599 "
    assert text_headers([(b"content-type", b"text/plain")]) == [
        ("content-type", "text/plain")
    ]
