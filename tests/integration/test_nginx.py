"""A real nginx in front of minigun, over a unix socket and over TCP.

nginx is Debian's package, installed by ``.ci/run``; a machine without it fails
these tests (they never skip). Each test runs its own nginx: a prefix in a temporary
folder, a main ``nginx.conf`` written here (pid file, temp paths, ports) that
includes the site file ``nginx/minigun.conf`` (the one book/deploy.md shows) with
only its addresses and certificate paths changed. nginx listens on 127.0.0.1 and is
stopped by its pid in the fixture's teardown, even when the test failed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from conftest import STOP_TIMEOUT, Server

HERE = Path(__file__).resolve().parent
SITE = HERE / "nginx" / "minigun.conf"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")
WAIT = 15.0
UPLOAD_SIZE = 50 * 1024 * 1024
LOAD_THREADS = 3
MAIN_CONF = """
daemon off;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/minigun.conf;
}}
"""


def find_nginx() -> str:
    """nginx's path, or a failure that says how to get it (never a skip)."""
    found = shutil.which("nginx") or next(
        (path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None
    )
    if found is None:
        pytest.fail(
            "nginx is not installed: .ci/run installs it "
            "(apt-get update && apt-get install -y nginx)"
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    """One nginx process in front of ``upstream`` (``unix:PATH`` or ``HOST:PORT``)."""

    def __init__(self, prefix: Path, upstream: str, ca: trustme.CA) -> None:
        self.prefix = prefix
        self.ca = ca
        self.http_port, self.https_port = free_port(), free_port()
        prefix.mkdir()
        issued = ca.issue_cert("127.0.0.1")
        issued.cert_chain_pems[0].write_to_path(str(prefix / "cert.pem"))
        issued.private_key_pem.write_to_path(str(prefix / "key.pem"))
        (prefix / "minigun.conf").write_text(self.site(upstream))
        # As root, nginx's workers would switch to "nobody", who cannot reach a
        # socket in pytest's private temporary folder.
        user = "user root;" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix, user=user))
        command = [find_nginx(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.wait_until_listening()

    def site(self, upstream: str) -> str:
        """The site file as the book shows it, with this test's addresses."""
        replacements = {
            "unix:/run/minigun/minigun.sock": upstream,
            "127.0.0.1:8080": f"127.0.0.1:{self.http_port}",
            "127.0.0.1:8443": f"127.0.0.1:{self.https_port}",
            "/etc/ssl/certs/example.org.pem": str(self.prefix / "cert.pem"),
            "/etc/ssl/private/example.org.key": str(self.prefix / "key.pem"),
        }
        text = SITE.read_text()
        for old, new in replacements.items():
            assert old in text, f"{SITE} no longer says {old}"
            text = text.replace(old, new)
        return text

    def wait_until_listening(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {self.proc.stderr.read()!r}")
            try:
                socket.create_connection(("127.0.0.1", self.http_port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start listening")

    def connection(self, https: bool = False) -> http.client.HTTPConnection:
        if not https:
            return http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=WAIT)
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=WAIT, context=context
        )

    def request(
        self, path: str = "/", https: bool = False, **kwargs
    ) -> tuple[int, bytes]:
        conn = self.connection(https)
        try:
            conn.request(kwargs.pop("method", "GET"), path, **kwargs)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        """TERM by pid, then KILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        self.proc.stderr.close()


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[str], Nginx]]:
    """``nginx(upstream)``: a running nginx in front of ``upstream``."""
    started: list[Nginx] = []
    ca = trustme.CA()

    def start(upstream: str) -> Nginx:
        proxy = Nginx(tmp_path / f"nginx{len(started)}", upstream, ca)
        started.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()


def serve_behind(serve, tmp_path: Path, app: str, *args: str, workers: int = 1):
    """minigun on a unix socket and a TCP port; returns it and both upstreams."""
    sock_path = tmp_path / "minigun.sock"
    server: Server = serve(
        f"deploy_apps:{app}",
        "--pythonpath", str(HERE), "--bind", f"unix:{sock_path}", *args,
        workers=workers,
    )  # fmt: skip
    upstreams = {"unix": f"unix:{sock_path}", "tcp": f"127.0.0.1:{server.port}"}
    return server, upstreams


# --- forwarded headers ----------------------------------------------------------------


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_a_trusted_nginx_sets_the_scheme_and_the_client_address(
    serve, nginx, tmp_path, via
):
    _server, upstreams = serve_behind(serve, tmp_path, "environ_app")
    proxy = nginx(upstreams[via])
    status, body = proxy.request("/", https=True)
    assert status == 200
    seen = json.loads(body)
    assert seen["wsgi.url_scheme"] == "https"  # nginx said X-Forwarded-Proto: https
    assert seen["HTTP_X_FORWARDED_FOR"] == "127.0.0.1"
    assert seen["HTTP_HOST"] == f"127.0.0.1:{proxy.https_port}"
    assert json.loads(proxy.request("/")[1])["wsgi.url_scheme"] == "http"


def test_an_untrusted_proxy_cannot_set_the_scheme(serve, nginx, tmp_path):
    _server, upstreams = serve_behind(
        serve, tmp_path, "environ_app", "--forwarded-allow-ips", "10.0.0.1"
    )
    proxy = nginx(upstreams["tcp"])
    seen = json.loads(proxy.request("/", https=True)[1])
    assert seen["HTTP_X_FORWARDED_PROTO"] == "https"  # the header arrived...
    assert seen["wsgi.url_scheme"] == "http"  # ...from a peer minigun does not trust


# --- big bodies, both ways ---------------------------------------------------------


@pytest.mark.parametrize("via", ["unix", "tcp"])
def test_a_50_mb_upload_through_nginx(serve, nginx, tmp_path, via):
    _server, upstreams = serve_behind(serve, tmp_path, "upload_app")
    proxy = nginx(upstreams[via])
    body = os.urandom(1 << 20) * (UPLOAD_SIZE >> 20)
    started = time.monotonic()
    status, answer = proxy.request("/upload", method="POST", body=body)
    assert status == 200, answer
    assert json.loads(answer) == {
        "length": UPLOAD_SIZE,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    assert time.monotonic() - started < WAIT


def test_a_streamed_response_arrives_piece_by_piece_through_nginx(
    serve, nginx, tmp_path
):
    _server, upstreams = serve_behind(serve, tmp_path, "stream_app")
    proxy = nginx(upstreams["tcp"])
    conn = proxy.connection()
    try:
        conn.request("GET", "/stream")
        response = conn.getresponse()
        arrivals = []
        for line in iter(response.readline, b""):
            arrivals.append((time.monotonic(), line))
    finally:
        conn.close()
    assert [line for _, line in arrivals] == [
        f"piece {number}\n".encode() for number in range(4)
    ]
    # The first piece was passed on while the app was still producing the rest.
    assert arrivals[-1][0] - arrivals[0][0] > 1.0


# --- no failed request while minigun changes workers or masters --------------------


class Load:
    """Threads sending requests through nginx until stopped; every answer kept."""

    def __init__(self, proxy: Nginx) -> None:
        self.proxy = proxy
        self.statuses: list[int | str] = []
        self.pids: list[int] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.run, daemon=True) for _ in range(LOAD_THREADS)
        ]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                status, body = self.proxy.request("/")
                outcome: int | str = status
                pid = json.loads(body)["pid"] if status == 200 else None
            except (OSError, http.client.HTTPException, ValueError) as error:
                outcome, pid = repr(error), None
            with self.lock:
                self.statuses.append(outcome)
                if pid is not None:
                    self.pids.append(pid)

    def count(self) -> int:
        with self.lock:
            return len(self.statuses)

    def keep_going(self, requests: int) -> None:
        """Let at least ``requests`` more requests through (bounded in time)."""
        target = self.count() + requests
        deadline = time.monotonic() + WAIT
        while self.count() < target and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(WAIT)

    def failures(self) -> list[int | str]:
        return [outcome for outcome in self.statuses if outcome != 200]


@pytest.fixture
def load() -> Iterator[Callable[[Nginx], Load]]:
    loads: list[Load] = []

    def start(proxy: Nginx) -> Load:
        loads.append(Load(proxy))
        return loads[-1]

    try:
        yield start
    finally:
        for running in loads:
            running.stop()


def test_no_request_fails_through_nginx_during_hup(serve, nginx, load, tmp_path):
    server, upstreams = serve_behind(serve, tmp_path, "environ_app", workers=2)
    proxy = nginx(upstreams["unix"])
    old_workers = set(server.booted_pids())
    traffic = load(proxy)
    traffic.keep_going(20)
    server.kill(signal.SIGHUP)
    for pid in old_workers:
        server.wait_for(rf"Worker exiting \(pid: {pid}\)", timeout=WAIT)
    traffic.keep_going(20)
    traffic.stop()
    assert traffic.failures() == []
    assert set(traffic.pids) - old_workers  # the new generation served too


def test_no_request_fails_through_nginx_during_a_usr2_upgrade(
    serve, nginx, load, processes, tmp_path
):
    server, upstreams = serve_behind(serve, tmp_path, "environ_app", workers=2)
    proxy = nginx(upstreams["unix"])
    traffic = load(proxy)
    traffic.keep_going(20)
    server.kill(signal.SIGUSR2)
    listening = server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2, timeout=WAIT)
    new_master = int(listening[1].group(1))
    processes.extra_pids.add(new_master)
    server.wait_for("Booting worker", count=4, timeout=WAIT)
    traffic.keep_going(20)
    server.kill(signal.SIGTERM)  # the old master and its workers leave
    assert server.wait_exit(WAIT) == 0
    traffic.keep_going(20)
    traffic.stop()
    assert traffic.failures() == []
    new_workers = Server.children_of(new_master)
    assert set(traffic.pids[-10:]) <= new_workers
    assert (tmp_path / "minigun.sock").exists()  # the new master still listens there
