"""Exercise 14: ``start_response`` records the head, by PEP 3333's rules."""

import sys
from pathlib import Path

import pytest

import minigun
from minigun.config import Config
from minigun.http.errors import InvalidResponse
from minigun.http.exchange import Close, Exchange
from minigun.http.message import ParseRules
from minigun.http.wsgi import Response


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class AppError(Exception):
    """The error an application caught before calling start_response again."""


class FakeSocket:
    def sendall(self, data: bytes) -> None:
        raise AssertionError(f"start_response sent {data!r}; it must only record")


class FakeRequest:
    """``GET / HTTP/1.1``, already parsed: start_response only records the head and
    never reads the request (parsing one is exercise 12's)."""

    method = "GET"
    version = (1, 1)


@pytest.fixture
def resp() -> Response:
    cfg = Config()
    sock = FakeSocket()
    # The connection's exchange decides whether it stays open; no request is read.
    rules = ParseRules.from_config(cfg)
    exchange = Exchange(rules, iter([]), ("127.0.0.1", 40000), send=sock.sendall)
    return Response(FakeRequest(), sock, cfg, exchange)  # type: ignore[arg-type]


def app_error():
    try:
        raise AppError("the application failed")
    except AppError:
        return sys.exc_info()


def test_the_head_is_recorded_not_sent(resp: Response):
    write = resp.start_response("201 Created", [("Content-Length", "2")])
    recorded = (resp.status, resp.status_code, resp.headers, resp.response_length)
    expected = ("201 Created", 201, [("Content-Length", "2")], 2)
    assert recorded == expected, (
        "after start_response('201 Created', [('Content-Length', '2')]), "
        f"(status, status_code, headers, response_length) = {recorded}; "
        f"expected {expected}"
    )
    assert write == resp.write, f"start_response returned {write!r}, not resp.write"


def test_hop_by_hop_headers_are_dropped_but_close_is_honoured(resp: Response):
    resp.start_response("200 OK", [("Connection", "close"), ("X-App", "1")])
    assert resp.headers == [("X-App", "1")], (
        f"the kept headers are {resp.headers}; Connection is the server's business"
    )
    assert resp.exchange.close_reason is Close.APPLICATION_ASKED, (
        "the app said Connection: close; the exchange's close_reason is "
        f"{resp.exchange.close_reason}, expected Close.APPLICATION_ASKED"
    )


def test_a_second_call_without_exc_info_is_an_error(resp: Response):
    resp.start_response("200 OK", [])
    with pytest.raises(InvalidResponse):
        resp.start_response("200 OK", [])


def test_with_exc_info_before_the_head_went_the_error_page_replaces_it(resp: Response):
    resp.start_response("200 OK", [("X-First", "1")])
    resp.start_response("500 Internal Server Error", [], app_error())
    assert (resp.status_code, resp.headers) == (500, []), (
        "start_response(..., exc_info) before anything was sent should replace the "
        f"head; now status_code={resp.status_code}, headers={resp.headers}"
    )


def test_with_exc_info_after_the_head_went_the_error_is_raised_again(resp: Response):
    resp.start_response("200 OK", [])
    resp.headers_sent = True
    with pytest.raises(AppError):
        resp.start_response("500 Internal Server Error", [], app_error())
    assert resp.status_code == 200, (
        f"the head was already sent as 200, yet status_code became {resp.status_code}"
    )


@pytest.mark.parametrize(
    ("status", "headers"),
    [("2000", []), ("OK 200", []), ("200 OK", [("X-Bad", "a\r\nInjected: 1")])],
)
def test_a_status_or_header_that_could_corrupt_the_head_is_refused(
    resp: Response, status: str, headers: list
):
    with pytest.raises(InvalidResponse):
        resp.start_response(status, headers)
