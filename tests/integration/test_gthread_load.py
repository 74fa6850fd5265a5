"""The gthread worker under load, from the outside: many kept-alive clients at once.

Each client opens its connection before any of them sends (a burst, as a load
generator's start or a reconnecting pool makes), then sends requests to a slow
application in a loop for a bounded time. A kept-alive connection stays with the
worker that accepted it, so these tests see how the clients were spread (the pid in
each reply) and whether any was left waiting in the listen backlog.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

pytestmark = pytest.mark.timeout(30)

LOAD_SECONDS = 1.5  # each client's loop; shorter than --keep-alive's 2 s default
CLIENT_TIMEOUT = 5.0  # a client waiting longer than this for a reply has failed
SLOW_PATH = "/?sleep=0.1"


@dataclass
class ClientRecord:
    """What one client saw: the pid behind every reply that came while all the
    clients were still sending, and any failure."""

    pids: list[int] = field(default_factory=list)
    failure: str | None = None


def run_clients(port: int, count: int) -> list[ClientRecord]:
    """``count`` clients connect together, then loop on ``SLOW_PATH``.

    http.client reconnects by itself after a ``Connection: close`` reply.
    """
    records = [ClientRecord() for _ in range(count)]
    all_connected = threading.Barrier(count)
    threads = [
        threading.Thread(target=client_loop, args=(port, record, all_connected))
        for record in records
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 2 * CLIENT_TIMEOUT)
    return records


def client_loop(port: int, record: ClientRecord, all_connected) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        conn.connect()
        all_connected.wait(CLIENT_TIMEOUT)
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            conn.request("GET", SLOW_PATH)
            response = conn.getresponse()
            body = response.read().decode()
            assert response.status == 200, (response.status, body)
            if time.monotonic() >= deadline:  # too late: the others had stopped
                break
            record.pids.append(int(body.rsplit(" ", 1)[1]))
    except (OSError, AssertionError, threading.BrokenBarrierError) as error:
        record.failure = repr(error)
    finally:
        conn.close()


def wait_until_every_worker_answers(server, deadline_seconds: float = 10.0) -> None:
    """A worker logged as booting may still be loading the app; the burst must find
    both ready, or the first one takes it by default."""
    wanted = set(server.booted_pids())
    seen: set[int] = set()
    deadline = time.monotonic() + deadline_seconds
    while seen != wanted and time.monotonic() < deadline:
        status, body = server.request("/")
        assert status == 200, (status, body)
        seen.add(int(body.decode().rsplit(" ", 1)[1]))
    assert seen == wanted, f"workers that answered: {seen}, booted: {wanted}"


def test_a_burst_of_kept_alive_clients_is_spread_over_the_workers(serve):
    threads, clients = 2, 8
    server = serve(
        "examples.app_slow:app", "-k", "gthread", "--threads", str(threads), workers=2
    )
    wait_until_every_worker_answers(server)
    records = run_clients(server.port, clients)
    assert [r.failure for r in records] == [None] * clients
    assert all(r.pids for r in records), "every client got a reply"
    # A kept-alive client stays with one worker: count clients per worker.
    clients_per_worker = Counter(r.pids[0] for r in records)
    assert set(clients_per_worker) == set(server.booted_pids())
    assert min(clients_per_worker.values()) >= threads, (
        f"each worker should hold at least {threads} clients (one per thread): "
        f"{dict(clients_per_worker)}"
    )


def test_clients_beyond_worker_connections_are_served_too(serve):
    # Two connections fit; the first two clients never idle, so the other two are
    # served only if the full worker makes room for them.
    server = serve(
        "examples.app_slow:app",
        "-k",
        "gthread",
        "--threads",
        "2",
        "--worker-connections",
        "2",
        workers=1,
    )
    records = run_clients(server.port, 4)
    assert [r.failure for r in records] == [None] * 4
    replies = [len(r.pids) for r in records]
    assert all(replies), f"replies per client while all were sending: {replies}"
