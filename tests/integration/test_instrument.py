"""logger_class, syslog and statsd, from outside (issue 25): a real server on
127.0.0.1, real requests, and a real UDP socket standing in for the syslog daemon or
the statsd server. The tests read the datagrams and check their names, types and
values, as the daemon would parse them."""

from __future__ import annotations

import re
import select
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
APPS = ("--pythonpath", str(HERE))
DATAGRAM_WAIT = 10.0
STATSD_LINE = re.compile(r"^(?P<name>[\w.]+):(?P<value>-?[\d.]+)\|(?P<type>c|g|ms)")


class Listener:
    """A UDP socket on 127.0.0.1 that keeps every datagram it receives."""

    def __init__(self, sock: socket.socket | None = None) -> None:
        """A UDP socket on a free port, or ``sock`` (a bound Unix datagram one)."""
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
        self.sock = sock
        self.port = sock.getsockname()[1] if sock.family == socket.AF_INET else None
        self.received: list[str] = []

    def wait_for(self, pattern: str, timeout: float = DATAGRAM_WAIT) -> list[str]:
        """Read datagrams until one matches ``pattern``; fail at ``timeout``
        showing what did arrive. Returns every datagram read so far."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while not any(regex.search(line) for line in self.received):
            left = deadline - time.monotonic()
            assert left > 0, f"no datagram matched {pattern!r}; got {self.received}"
            self.sock.settimeout(left)
            try:
                self.received.append(self.sock.recv(65536).decode("utf-8", "replace"))
            except TimeoutError:
                continue
        return self.received

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def udp() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def statsd_metrics(lines: list[str]) -> list[tuple[str, float, str, str]]:
    """``(name, value, type, rest)`` of every statsd line received."""
    metrics = []
    for line in lines:
        match = STATSD_LINE.match(line)
        assert match, f"not a statsd line: {line!r}"
        rest = line[match.end() :]
        metrics.append((match["name"], float(match["value"]), match["type"], rest))
    return metrics


# --- statsd ------------------------------------------------------------------------


def test_statsd_counts_and_times_every_request_with_gunicorns_names(serve, udp):
    """Three requests (200, 200, 404): the request counter, a timer per request,
    a counter per status code, and the workers gauge from the master."""
    server = serve(
        "instrument_apps:status", *APPS, "--statsd-host", f"127.0.0.1:{udp.port}"
    )
    for path in ("/200", "/200", "/404"):
        server.request(path)
    udp.wait_for(r"gunicorn\.request\.status\.404:")
    lines = udp.wait_for(r"gunicorn\.workers:1\|g")
    metrics = statsd_metrics(lines)
    named = [(name, value, kind) for name, value, kind, _ in metrics]
    assert named.count(("gunicorn.requests", 1.0, "c")) == 3
    assert named.count(("gunicorn.request.status.200", 1.0, "c")) == 2
    assert named.count(("gunicorn.request.status.404", 1.0, "c")) == 1
    durations = [v for name, v, kind, _ in metrics if name.endswith("duration")]
    assert len(durations) == 3
    assert all(0 <= ms < 10_000 for ms in durations), durations
    kinds = {name: kind for name, _, kind, _ in metrics}
    assert kinds["gunicorn.request.duration"] == "ms"
    assert ("gunicorn.workers", 1.0, "g") in named


def test_statsd_prefix_and_dogstatsd_tags(serve, udp):
    server = serve(
        "instrument_apps:status",
        *APPS,
        "--statsd-host",
        f"127.0.0.1:{udp.port}",
        "--statsd-prefix",
        "shop",
        "--dogstatsd-tags",
        "env:test,team:web",
    )
    server.request("/201")
    lines = udp.wait_for(r"status\.201")
    assert "shop.gunicorn.request.status.201:1|c|@1.0|#env:test,team:web" in lines
    for name, _, _, rest in statsd_metrics(lines):
        assert name.startswith("shop.gunicorn."), name
        assert rest.endswith("|#env:test,team:web"), rest


def test_statsd_over_a_unix_datagram_socket(serve, tmp_path):
    """``--statsd-host unix:PATH``: a statsd agent on the same host, no UDP port."""
    path = tmp_path / "statsd.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix.bind(str(path))
    listener = Listener(unix)
    try:
        server = serve("instrument_apps:status", *APPS, "--statsd-host", f"unix:{path}")
        server.request("/202")
        assert "gunicorn.request.status.202:1|c|@1.0" in listener.wait_for(r"\.202:")
    finally:
        listener.close()


def test_statsd_counts_error_log_lines_by_level(serve, udp):
    """An application that raises: the worker logs the exception, and the logger
    counts it (gunicorn.log.exception) beside the 500."""
    server = serve(
        "instrument_apps:crash", *APPS, "--statsd-host", f"127.0.0.1:{udp.port}"
    )
    status, _ = server.request("/")
    assert status == 500
    lines = udp.wait_for(r"gunicorn\.request\.status\.500:")
    lines = udp.wait_for(r"gunicorn\.log\.exception:")
    assert "gunicorn.log.exception:1|c|@1.0" in lines
    server.wait_for(re.compile(r"\[ERROR\] Error handling request"))


def test_statsd_gauge_follows_the_number_of_workers(serve, udp):
    """TTIN adds a worker: the master sends the new count."""
    server = serve(
        "instrument_apps:status", *APPS, "--statsd-host", f"127.0.0.1:{udp.port}"
    )
    udp.wait_for(r"^gunicorn\.workers:1\|g$")
    server.kill(signal.SIGTTIN)
    udp.wait_for(r"^gunicorn\.workers:2\|g$")


# --- syslog ------------------------------------------------------------------------

LOCAL0_INFO = 16 * 8 + 6  # RFC 5424 PRI: facility local0 (16), severity info (6)


def test_syslog_gets_the_error_log_and_the_access_log(serve, udp):
    server = serve(
        "instrument_apps:status",
        *APPS,
        "--log-syslog",
        "--log-syslog-to",
        f"udp://127.0.0.1:{udp.port}",
        "--log-syslog-prefix",
        "shop",
        "--log-syslog-facility",
        "local0",
    )
    server.request("/200?x=1")
    lines = udp.wait_for(r"minigun\.shop\.access: ")
    lines = udp.wait_for(r"Booting worker with pid")
    listening = [line for line in lines if "Listening at:" in line]
    assert listening, lines
    assert re.fullmatch(
        rf"<{LOCAL0_INFO}>minigun\.shop\.error: \[{server.master_pid}\] "
        r"Listening at: http://127\.0\.0\.1:\d+ \(\d+\)\x00",
        listening[0],
    ), listening[0]
    access = [line for line in lines if "minigun.shop.access" in line]
    assert len(access) == 1
    assert access[0].startswith(f"<{LOCAL0_INFO}>minigun.shop.access: [")
    assert '"GET /200?x=1 HTTP/1.1" 200 ' in access[0]
    # the terminal keeps its own log as well
    assert "Listening at:" in server.log.text


def test_syslog_without_the_access_log(serve, udp):
    server = serve(
        "instrument_apps:status",
        *APPS,
        "--log-syslog",
        "--log-syslog-to",
        f"udp://127.0.0.1:{udp.port}",
        "--disable-redirect-access-to-syslog",
        "--log-level",
        "debug",
    )
    server.request("/200")
    server.request("/201")
    # At debug the worker logs each request as it starts it: the line for /201
    # comes after /200's access line would have (one worker, one request at a time)
    lines = udp.wait_for(r"\.error: \[\d+\] GET /201")
    assert not [line for line in lines if ".access:" in line], lines
    assert [line for line in lines if re.search(r"\.error: \[\d+\] GET /200", line)]


# --- logger_class ------------------------------------------------------------------


def test_logger_class_is_the_users_subclass(serve):
    server = serve(
        "instrument_apps:status",
        *APPS,
        "--logger-class",
        "instrument_apps.TaggedLogger",
    )
    server.wait_for(re.compile(r"\[INFO\] \[tagged-by-logger-class\] Listening at:"))
    server.wait_for(re.compile(r"\[INFO\] \[tagged-by-logger-class\] Booting worker"))


def test_logger_class_that_cannot_be_loaded_stops_the_start(run_to_exit):
    code, output = run_to_exit(
        *APPS,
        "--logger-class",
        "instrument_apps.NoSuchLogger",
        "instrument_apps:status",
    )
    assert code != 0
    assert "Invalid value for logger_class" in output
    assert "NoSuchLogger" in output


def test_a_syslog_socket_that_is_not_there_stops_the_start(run_to_exit, tmp_path):
    """Not a traceback for every line: one error naming the setting and the path."""
    missing = tmp_path / "no-syslog-here"
    code, output = run_to_exit(
        *APPS, "--log-syslog", "--log-syslog-to", f"unix://{missing}",
        "instrument_apps:status",
    )  # fmt: skip
    assert code == 1, output
    assert f"Invalid value for syslog_addr: no socket at {missing}" in output
    assert "Traceback" not in output


class StreamListener:
    """A TCP listener on 127.0.0.1 standing in for a syslog daemon over TCP: it
    accepts the server's connections and keeps the text they send."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.text = ""

    def wait_for(self, pattern: str, timeout: float = DATAGRAM_WAIT) -> str:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text):
            left = deadline - time.monotonic()
            assert left > 0, f"nothing matched {pattern!r}; got {self.text!r}"
            readable, _, _ = select.select([self.sock, *self.conns], [], [], left)
            for ready in readable:
                if ready is self.sock:
                    self.conns.append(self.sock.accept()[0])
                else:
                    self.text += ready.recv(65536).decode("utf-8", "replace")
        return self.text

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("form", ["unix", "unix#dgram", "tcp"])
def test_syslog_over_a_unix_socket_and_tcp(serve, tmp_path, form):
    """The other forms of --log-syslog-to, each against a real socket: a Unix
    datagram socket (as /dev/log is), named with and without ``#dgram``, and TCP."""
    if form == "tcp":
        listener = StreamListener()
        address = f"tcp://127.0.0.1:{listener.port}"
    else:
        path = tmp_path / "log"
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        unix.bind(str(path))
        listener = Listener(unix)
        address = f"unix://{path}" + form.removeprefix("unix")
    try:
        server = serve("instrument_apps:status", *APPS, "--log-syslog",
                       "--log-syslog-to", address)  # fmt: skip
        received = listener.wait_for(r"Booting worker with pid")
        assert f"minigun.instrument_apps.status.error: [{server.master_pid}] " in str(
            received
        )
    finally:
        listener.close()
