"""Exchange: one connection's state machine, fed bytes, its decisions read back.

No socket and no worker: the client's bytes are byte strings, what the exchange sends
is recorded, and a response is simulated by the two calls a Response makes.
"""

from http import HTTPStatus
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors, exchange
from minigun.http.exchange import (
    CONTINUE_RESPONSE,
    TRANSITIONS,
    Close,
    Event,
    Exchange,
    ExchangeError,
    Fault,
    State,
)
from minigun.http.message import ParseRules

PEER = ("127.0.0.1", 40000)


def open_exchange(*pieces: bytes, **settings: Any) -> tuple[Exchange, list[bytes]]:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    sent: list[bytes] = []
    rules = ParseRules.from_config(cfg)
    return Exchange(rules, iter(pieces), PEER, send=sent.append), sent


def respond(ex: Exchange, length: int | None = 0, has_body: bool = True) -> bool:
    """What a Response does: start (the exchange says chunked or not), then end."""
    chunked = ex.start_response(length, has_body)
    ex.end_response(short=False)
    return chunked


def paths(ex: Exchange) -> list[str]:
    """Serve every request on the connection without reading a body."""
    served = []
    while (req := ex.next_request()) is not None:
        served.append(req.path)
        respond(ex)
    return served


def test_pipelined_requests_come_out_one_by_one_with_unread_bodies_skipped() -> None:
    ex, _ = open_exchange(
        b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"GET /c HTTP/1.1\r\n\r\n",
    )
    assert paths(ex) == ["/a", "/b", "/c"]
    assert ex.state is State.CLOSED
    assert ex.close_reason is Close.CLIENT_CLOSED


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"GET /a HTTP/1.0\r\n\r\n", Close.HTTP_1_0),
        (b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", Close.CLIENT_ASKED),
        (
            b"GET /a HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
            Close.CLIENT_ASKED,
        ),
    ],
)
def test_a_request_that_closes_the_connection_is_the_last(head, reason) -> None:
    ex, _ = open_exchange(head + b"GET /b HTTP/1.1\r\n\r\n")
    assert paths(ex) == ["/a"]
    assert ex.close_reason is reason


def test_http_1_0_with_keep_alive_stays_open() -> None:
    ex, _ = open_exchange(
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
    )
    assert paths(ex) == ["/a", "/b"]


def test_nothing_is_parsed_after_a_parse_error() -> None:
    # The second request is well formed, but it follows bytes that were not.
    ex, _ = open_exchange(
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"
    )
    with pytest.raises(errors.InvalidHeaderName) as caught:
        ex.next_request()
    failure = ex.fail(caught.value)
    assert (failure.fault, failure.status, failure.answerable) == (
        Fault.CLIENT,
        HTTPStatus.BAD_REQUEST,
        True,
    )
    assert ex.state is State.CLOSED
    assert ex.next_request() is None


def test_the_clients_broken_body_wins_over_the_applications_error() -> None:
    ex, _ = open_exchange(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /smuggled HTTP/1.1\r\n\r\n",
    )
    req = ex.next_request()
    assert req is not None
    with pytest.raises(errors.InvalidChunkSize):
        req.body.read()
    failure = ex.fail(ZeroDivisionError("what the application made of it"))
    assert isinstance(failure.error, errors.InvalidChunkSize)
    assert (failure.fault, failure.status) == (Fault.CLIENT, HTTPStatus.BAD_REQUEST)
    assert ex.next_request() is None


def test_the_clients_broken_body_wins_over_the_applications_error_page() -> None:
    ex, _ = open_exchange(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab")
    req = ex.next_request()
    assert req is not None
    with pytest.raises(errors.NoMoreData):
        req.body.read()
    with pytest.raises(errors.NoMoreData):  # the app's own 500 page never goes out
        ex.start_response(None, True)


def test_an_application_error_is_answered_before_the_head_and_not_after() -> None:
    ex, _ = open_exchange(b"GET / HTTP/1.1\r\n\r\n")
    ex.next_request()
    before = ex.fail(ZeroDivisionError("bug"))
    assert (before.fault, before.status, before.answerable) == (
        Fault.APPLICATION,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        True,
    )
    ex, _ = open_exchange(b"GET / HTTP/1.1\r\n\r\n")
    ex.next_request()
    ex.start_response(None, True)
    after = ex.fail(ZeroDivisionError("bug"))
    assert not after.answerable
    assert ex.state is State.CLOSED


def test_a_timeout_is_the_timeouts_fault() -> None:
    ex, _ = open_exchange(b"GET / HTTP/1.1\r\n\r\n")
    ex.next_request()
    failure = ex.time_out()
    assert (failure.fault, failure.status, failure.answerable) == (
        Fault.TIMEOUT,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        True,
    )


def test_100_continue_is_sent_when_the_application_reads_the_body() -> None:
    ex, sent = open_exchange(
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        b"abcGET /b HTTP/1.1\r\n\r\n",
    )
    req = ex.next_request()
    assert req is not None and sent == []
    assert req.body.read() == b"abc"
    assert sent == [CONTINUE_RESPONSE]
    respond(ex)
    assert ex.next_request() is not None, "the body was read: the connection lives"


def test_a_client_waiting_for_100_continue_ends_the_connection_if_not_read() -> None:
    ex, sent = open_exchange(
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    )
    ex.next_request()
    respond(ex)
    assert sent == [], "nobody read the body: 100 Continue is not due"
    assert ex.close_reason is Close.CONTINUE_NOT_SENT
    assert ex.next_request() is None


def test_100_continue_is_not_sent_once_the_response_started() -> None:
    ex, sent = open_exchange(
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
        b"abc",
    )
    req = ex.next_request()
    assert req is not None
    ex.start_response(None, True)
    req.body.read()
    assert sent == []


def test_an_unknown_length_is_chunked_on_http_1_1_even_when_closing() -> None:
    ex, _ = open_exchange(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    ex.next_request()
    assert respond(ex, length=None) is True
    assert not ex.keeps_alive()


def test_an_unknown_length_ends_at_the_close_on_http_1_0() -> None:
    ex, _ = open_exchange(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    ex.next_request()
    assert respond(ex, length=None) is False
    assert ex.close_reason is Close.UNFRAMED_BODY


@pytest.mark.parametrize(
    ("reason", "caller"),
    [(Close.WORKER, "the worker"), (Close.APPLICATION_ASKED, "the application")],
)
def test_the_worker_or_the_application_may_close(reason, caller) -> None:
    ex, _ = open_exchange(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    ex.next_request()
    ex.refuse_keep_alive(reason)
    respond(ex)
    assert ex.next_request() is None, f"{caller} asked to close"
    assert ex.close_reason is reason


def test_a_short_body_closes() -> None:
    ex, _ = open_exchange(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    ex.next_request()
    ex.start_response(10, True)
    ex.end_response(short=True)
    assert ex.next_request() is None
    assert ex.close_reason is Close.SHORT_BODY


def test_a_body_longer_than_the_drain_bound_closes_unread(monkeypatch) -> None:
    monkeypatch.setattr(exchange, "DRAIN_MAX_BYTES", 10)
    ex, _ = open_exchange(
        b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890"
        b"GET /b HTTP/1.1\r\n\r\n"
    )
    assert paths(ex) == ["/"]
    assert ex.close_reason is Close.UNDRAINED_BODY


def test_a_closing_connection_is_drained_too() -> None:
    """Closing with unread bytes makes the kernel reset: the body is read first."""
    ex, _ = open_exchange(
        b"POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 6\r\n\r\nabc",
        b"def",
    )
    ex.next_request()
    respond(ex)
    ex.next_request()
    assert ex.parser.unreader.read() == b"", "the whole body was read past"


def test_every_event_missing_from_the_table_is_refused() -> None:
    for state, allowed in TRANSITIONS.items():
        for event in set(Event) - set(allowed):
            ex, _ = open_exchange()
            ex.state = state
            with pytest.raises(ExchangeError):
                ex.handle(event)


def test_every_state_is_reachable_and_closed_is_final() -> None:
    reachable = {State.IDLE} | {
        target for allowed in TRANSITIONS.values() for target in allowed.values()
    }
    assert reachable == set(State)
    assert TRANSITIONS[State.CLOSED] == {}
