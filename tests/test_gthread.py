"""The threaded worker in-process: its loop runs in a thread, clients on real sockets.

What a sync worker cannot do is tested here: keep-alive, pipelining, the idle
timeout, the connection limit, a graceful stop that honours a kept-alive promise,
and the heartbeat that stops while a request is stuck.
"""

from __future__ import annotations

import errno
import os
import select
import selectors
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from minigun.config import Config
from minigun.wakepipe import WakePipe
from minigun.workers.gthread import RequestThreads, ThreadWorker

GET = b"GET /%s HTTP/1.1\r\nHost: test\r\n\r\n"


class QuietLog:
    def __getattr__(self, level):
        return lambda *args, **kwargs: None


class StaticApp:
    """A WSGI app that answers ``path:pid`` and sleeps on ``/slow``; ``slow_started``
    tells a test that a slow request is in the app's hands."""

    def __init__(self, slow_seconds: float = 0.0) -> None:
        self.slow_seconds = slow_seconds
        self.slow_started = threading.Event()

    def wsgi(self):
        return self

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            self.slow_started.set()
            time.sleep(self.slow_seconds)
        body = environ["PATH_INFO"].encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]


@contextmanager
def running_worker(
    app=None, timeout=30, prepare=lambda worker: None, **settings
) -> Iterator[tuple]:
    """A ThreadWorker serving on a fresh 127.0.0.1 listener, stopped afterwards;
    ``prepare(worker)`` runs before its loop starts."""
    cfg = Config()
    for name, value in {"threads": 2, **settings}.items():
        cfg.set(name, value)
    listener = socket.create_server(("127.0.0.1", 0))
    worker = ThreadWorker(
        1, os.getppid(), [listener], app or StaticApp(), timeout, cfg, QuietLog()
    )
    worker.pool = RequestThreads(cfg.threads, worker.serve_turn, worker.log)
    worker.poller = selectors.DefaultSelector()
    worker.wake_pipe = WakePipe()
    worker.wsgi = worker.app.wsgi()
    prepare(worker)
    loop = threading.Thread(target=worker.run, daemon=True)
    loop.start()
    try:
        yield worker, listener.getsockname()[1]
    finally:
        worker.handle_exit(signal.SIGTERM, None)
        loop.join(10)
        listener.close()
        worker.tmp.close()
        assert not loop.is_alive(), "the worker loop did not stop"


class Client:
    """A client socket that reads responses through one buffered file, so bytes of
    a second (pipelined) response that arrived with the first are kept."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.replies = self.sock.makefile("rb")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        return self.replies.read1(size)

    def close(self) -> None:
        self.replies.close()
        self.sock.close()


def connect(port: int) -> Client:
    return Client(port)


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        time.sleep(0.05)


def read_response(client: Client) -> bytes:
    """One response, framed by its Content-Length (the app always sends one)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = client.replies.readline()
        if not line:
            return head + b"<eof>"
        head += line
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    return head + client.replies.read(length)


def test_keep_alive_serves_two_requests_on_one_connection():
    with running_worker(keepalive=5) as (_worker, port), connect(port) as client:
        for path in (b"one", b"two"):
            client.sendall(GET % path)
            response = read_response(client)
            assert response.endswith(b"/" + path)
            assert b"Connection: close" not in response


def test_pipelined_requests_are_answered_in_order():
    with running_worker(keepalive=5) as (_worker, port), connect(port) as client:
        client.sendall(GET % b"first" + GET % b"second")
        assert read_response(client).endswith(b"/first")
        assert read_response(client).endswith(b"/second")


def test_an_idle_connection_is_closed_after_keepalive_seconds():
    with running_worker(keepalive=1) as (_worker, port), connect(port) as client:
        client.sendall(GET % b"x")
        read_response(client)
        started = time.monotonic()
        assert client.recv(1) == b""
        assert 0.5 < time.monotonic() - started < 4


def test_keepalive_zero_closes_after_each_response():
    with running_worker(keepalive=0) as (_worker, port), connect(port) as client:
        client.sendall(GET % b"x")
        assert b"Connection: close" in read_response(client)
        assert client.recv(1) == b""


def test_worker_connections_bounds_the_open_connections():
    with running_worker(keepalive=5, worker_connections=1) as (_worker, port):
        first = connect(port)
        first.sendall(GET % b"first")
        read_response(first)  # the only slot is now held by an idle connection
        second = connect(port)  # queued in the backlog, not accepted
        second.sendall(GET % b"second")
        assert select.select([second.sock], [], [], 0.5)[0] == [], "answered early"
        first.close()  # the slot frees: the second connection is served
        assert read_response(second).endswith(b"/second")
        second.close()


def test_a_graceful_stop_answers_the_next_request_of_a_kept_alive_connection():
    with running_worker(keepalive=5) as (worker, port), connect(port) as client:
        client.sendall(GET % b"before")
        read_response(client)
        worker.handle_exit(signal.SIGTERM, None)
        client.sendall(GET % b"after")
        response = read_response(client)
        assert response.endswith(b"/after")
        assert b"Connection: close" in response


def test_a_graceful_stop_lets_the_request_in_flight_finish():
    app = StaticApp(slow_seconds=0.5)
    with running_worker(app, keepalive=5) as (worker, port), connect(port) as client:
        client.sendall(GET % b"slow")
        assert app.slow_started.wait(5), "the request never reached the app"
        worker.handle_exit(signal.SIGTERM, None)
        assert read_response(client).endswith(b"/slow")


def test_the_heartbeat_stops_while_a_request_is_stuck():
    app = StaticApp(slow_seconds=3.5)
    with running_worker(app, timeout=1) as (worker, port), connect(port) as client:
        client.sendall(GET % b"slow")
        assert app.slow_started.wait(5), "the request never reached the app"

        def silence() -> float:
            return time.time() - worker.tmp.last_update()

        # The loop beats until the request has been in the app for the timeout (1 s),
        # then falls silent; a loop that kept beating would never be silent this
        # long, and the app sleeps on past the wait's own deadline.
        wait_until(lambda: silence() > 0.9, 3.0, "the heartbeat never stopped")
        assert read_response(client).endswith(b"/slow")
        wait_until(lambda: silence() < 0.9, 5, "the loop never beat again")


def test_max_requests_ends_the_loop():
    with running_worker(keepalive=5, max_requests=2) as (worker, port):
        for path in (b"a", b"b"):
            with connect(port) as client:
                client.sendall(GET % path)
                read_response(client)
        wait_until(lambda: not worker.alive, 5, "the loop still runs")
        assert worker.requests_served == 2


class OwnedLock:
    """A lock that knows which thread holds it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None

    def __enter__(self) -> None:
        self.lock.acquire()
        self.owner = threading.get_ident()

    def __exit__(self, *exc_info) -> None:
        self.owner = None
        self.lock.release()


class LockWatchingSelector(selectors.DefaultSelector):
    """Notes, for each client connection the selector stops watching, whether the
    calling thread held the worker's lock."""

    def __init__(self, worker: ThreadWorker) -> None:
        super().__init__()
        self.worker = worker
        self.unregistered_holding_the_lock: list[bool] = []

    def unregister(self, fileobj):
        if isinstance(fileobj, socket.socket) and fileobj not in self.worker.sockets:
            holding = self.worker.lock.owner == threading.get_ident()
            self.unregistered_holding_the_lock.append(holding)
        return super().unregister(fileobj)


def test_a_readable_connection_leaves_the_selector_outside_the_lock():
    # A thread gives up the GIL in a system call; holding the lock meanwhile made
    # every pool thread that wanted the lock wait for it to win the GIL back.
    watching: list[LockWatchingSelector] = []

    def prepare(worker: ThreadWorker) -> None:
        worker.lock = OwnedLock()
        worker.poller = LockWatchingSelector(worker)
        watching.append(worker.poller)

    with (
        running_worker(keepalive=5, prepare=prepare) as (_worker, port),
        connect(port) as client,
    ):
        for path in (b"one", b"two", b"three"):
            client.sendall(GET % path)
            assert read_response(client).endswith(b"/" + path)
    taken_out = watching[0].unregistered_holding_the_lock
    assert len(taken_out) >= 2, "the requests never went through the selector"
    assert not any(taken_out)


def idle_worker(**settings) -> ThreadWorker:
    """A ThreadWorker that is not running: for its decisions alone."""
    cfg = Config()
    for name, value in {"threads": 2, **settings}.items():
        cfg.set(name, value)
    return ThreadWorker(1, os.getppid(), [], StaticApp(), 30, cfg, QuietLog())


def test_a_worker_with_a_free_thread_accepts_at_once():
    worker = idle_worker()
    worker.busy = {object()}  # one of two threads busy
    worker.observe_accepting()
    assert worker.wants_connections()


def test_a_full_worker_with_no_client_waiting_does_not_make_room():
    worker = idle_worker(worker_connections=1)
    worker.connections = {object()}
    worker.observe_accepting()
    assert not worker.wants_connections()
    assert not worker.making_room


def test_a_full_worker_with_clients_waiting_closes_one_response_per_turn():
    worker = idle_worker(keepalive=5)
    worker.making_room = True  # what the loop decides when full and clients wait
    assert not worker.keeps_connection_open()
    assert worker.keeps_connection_open(), "only one response closes per turn"


class OutOfDescriptorsListener:
    """A listener whose ``accept`` fails as it does once the process has no fd left."""

    def accept(self):
        raise OSError(errno.EMFILE, "Too many open files")


def test_a_worker_out_of_file_descriptors_holds_what_it_has_instead_of_dying():
    worker = idle_worker(worker_connections=1000)
    worker.connections = {object() for _ in range(3)}
    assert worker.accept_and_serve(OutOfDescriptorsListener()) is False  # no exception
    assert worker.worker_connections == 3
    assert not worker.has_room()  # from now on it makes room instead


class RecordingLog:
    def __init__(self) -> None:
        self.exceptions: list[str] = []

    def exception(self, message: str, *args: object) -> None:
        self.exceptions.append(message % args)


@pytest.mark.timeout(10)
def test_a_pool_thread_survives_a_turn_that_raises():
    """One thread, two turns: the first raises (logged), the second is still served;
    then shutdown drops what is queued and ends the thread."""
    served: list[str] = []

    def serve(conn):
        if conn == "bad":
            raise RuntimeError("a bug in a turn")
        served.append(conn)

    log = RecordingLog()
    pool = RequestThreads(1, serve, log)  # type: ignore[arg-type]
    pool.submit("bad")  # type: ignore[arg-type]
    pool.submit("good")  # type: ignore[arg-type]
    deadline = time.monotonic() + 5
    while not served and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.shutdown()
    pool.threads[0].join(5)
    assert served == ["good"]
    assert log.exceptions == ["Error serving a connection"]
    assert not pool.threads[0].is_alive()
