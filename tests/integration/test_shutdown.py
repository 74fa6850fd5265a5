"""Graceful and quick shutdown, observed from outside (the shutdown chapter).

TERM lets the requests in flight and in the backlog finish within graceful_timeout;
INT and QUIT stop at once, and a second INT turns a graceful stop quick.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from conftest import (
    REQUEST_STARTED,
    Background,
    term_cuts_a_request_past_the_graceful_timeout,
    wait_until,
)


def test_term_finishes_requests_in_flight_and_in_the_backlog(serve, tmp_path):
    pidfile = tmp_path / "minigun.pid"
    server = serve(
        "examples.app_slow:app", "--graceful-timeout", "6", "--pid", str(pidfile),
        *DEBUG,
    )  # fmt: skip
    in_flight = Background(server.request, "/?sleep=1.5")
    server.wait_for(REQUEST_STARTED)  # the only worker is busy now ...
    queued = Background(server.request, "/?sleep=0.5")  # ... so this one waits
    wait_until(lambda: backlog_length(server.port) == 1, message="(in the backlog)")
    server.kill(signal.SIGTERM)
    assert in_flight.result() == (
        200,
        f"slept 1.5 in {server.booted_pids()[0]}".encode(),
    )
    assert queued.result()[0] == 200
    assert server.wait_exit() == 0
    assert not pidfile.exists()
    server.wait_for("Handling signal: term")  # the log may lag behind the exit
    server.wait_for("Shutting down: Master")


def test_term_kills_what_outlives_the_graceful_timeout(serve):
    server = serve("examples.app_slow:app", "--graceful-timeout", "1", *DEBUG)
    term_cuts_a_request_past_the_graceful_timeout(server, "/?sleep=30")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_int_and_quit_stop_at_once(serve, sig):
    server = serve("examples.app_slow:app", "--graceful-timeout", "20", *DEBUG)
    busy = Background(server.request, "/?sleep=10")
    server.wait_for(REQUEST_STARTED)
    started = time.monotonic()
    server.kill(sig)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(busy.error(), OSError)


def test_a_second_int_turns_a_graceful_stop_quick(serve):
    server = serve("examples.app_slow:app", "--graceful-timeout", "20", *DEBUG)
    busy = Background(server.request, "/?sleep=10")
    server.wait_for(REQUEST_STARTED)
    server.kill(signal.SIGTERM)
    server.wait_for("Handling signal: term")
    started = time.monotonic()
    server.kill(signal.SIGINT)
    assert server.wait_exit() == 0
    assert time.monotonic() - started < 5
    assert isinstance(busy.error(), OSError)


DEBUG = ("--log-level", "debug")  # so that REQUEST_STARTED is logged


def backlog_length(port: int) -> int:
    """How many connections wait in the accept queue of the listener on ``port``.

    For a listening socket, Linux shows the queue's length as ``rx_queue`` in
    /proc/net/tcp (the fifth column holds ``tx_queue:rx_queue`` in hex).
    """
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        listening = fields[3] == "0A"
        if listening and int(fields[1].rpartition(":")[2], 16) == port:
            return int(fields[4].partition(":")[2], 16)
    raise AssertionError(f"no listener on port {port}")
