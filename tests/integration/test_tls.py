"""TLS served by minigun itself: https from both workers, the handshake deadline, HUP.

Certificates are made for each test by ``trustme`` (a throw-away CA), never committed.
Clients are the standard library's ``http.client`` and ``ssl``, over 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from pathlib import Path

import pytest
import trustme

from minigun.config import Config
from minigun.errors import ConfigError

HERE = Path(__file__).resolve().parent
APP = "deploy_apps:environ_app"
WAIT = 10.0


class Certificates:
    """A CA and a server certificate for 127.0.0.1, written to ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cert = folder / "server.pem"
        self.key = folder / "server.key"
        self.issue()

    def issue(self) -> None:
        """(Re)issue from a new CA: the files change, as a renewal would change them."""
        self.ca = trustme.CA()
        issued = self.ca.issue_cert("127.0.0.1", "localhost")
        issued.cert_chain_pems[0].write_to_path(str(self.cert))
        issued.private_key_pem.write_to_path(str(self.key))
        self.der = ssl.PEM_cert_to_DER_cert(issued.cert_chain_pems[0].bytes().decode())

    def args(self) -> tuple[str, ...]:
        return ("--certfile", str(self.cert), "--keyfile", str(self.key))

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path)


def https_get(port: int, context: ssl.SSLContext, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=WAIT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def peer_certificate(port: int) -> bytes:
    """The certificate the server presents now (not verified: only compared)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    with context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def serve_tls(serve, certs: Certificates, *args: str, app: str = APP):
    return serve(app, *certs.args(), "--pythonpath", str(HERE), *args)


@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_both_workers_serve_https_and_say_so_in_the_environ(serve, certs, worker):
    server = serve_tls(serve, certs, "--worker-class", worker, "--threads", "2")
    assert f"Listening at: https://127.0.0.1:{server.port}" in server.log.text
    status, body = https_get(server.port, certs.client_context())
    assert status == 200
    seen = json.loads(body)
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["SERVER_PORT"] == str(server.port)


def test_gthread_keeps_a_tls_connection_alive(serve, certs):
    server = serve_tls(serve, certs, "--worker-class", "gthread", "--threads", "2")
    conn = http.client.HTTPSConnection(
        "127.0.0.1", server.port, context=certs.client_context(), timeout=WAIT
    )
    try:
        pids = set()
        for _ in range(3):
            conn.request("GET", "/")
            response = conn.getresponse()
            pids.add(json.loads(response.read())["pid"])
            assert response.status == 200
        assert len(pids) == 1
    finally:
        conn.close()


@pytest.mark.parametrize("on_connect", [False, True])
def test_a_client_that_opens_tls_and_sends_nothing_does_not_hold_a_sync_worker(
    serve, certs, on_connect
):
    extra = ("--do-handshake-on-connect",) if on_connect else ()
    server = serve_tls(serve, certs, "--header-timeout", "1", *extra)
    assert_a_silent_client_is_dropped(server, certs)


def test_a_silent_tls_client_holds_only_its_own_gthread_pool_thread(serve, certs):
    server = serve_tls(
        serve, certs, "--header-timeout", "1", "-k", "gthread", "--threads", "1"
    )
    assert_a_silent_client_is_dropped(server, certs)


def assert_a_silent_client_is_dropped(server, certs: Certificates) -> None:
    """A client that connects and never shakes hands: the next client is served
    once its ``header_timeout`` is up, and its connection is closed."""
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
    try:
        started = time.monotonic()
        # The one worker (or pool thread) waits on the silent client until its
        # deadline...
        status, _body = https_get(server.port, certs.client_context())
        assert status == 200
        assert time.monotonic() - started < WAIT / 2
        # ...which ended with the server closing the silent connection.
        assert silent.recv(1024) == b""
    finally:
        silent.close()


def test_a_plain_http_client_on_the_tls_port_is_refused_and_the_worker_serves_on(
    serve, certs
):
    server = serve_tls(serve, certs)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        server.request("/", timeout=WAIT)
    status, _body = https_get(server.port, certs.client_context())
    assert status == 200
    assert "Traceback" not in server.log.text


def test_hup_rereads_the_certificate(serve, certs):
    server = serve_tls(serve, certs)
    assert peer_certificate(server.port) == certs.der
    old_worker = server.booted_pids()[0]
    certs.issue()  # a renewed certificate, written over the same files
    server.kill(1)  # SIGHUP
    server.wait_for(rf"Worker exiting \(pid: {old_worker}\)", timeout=WAIT)
    assert peer_certificate(server.port) == certs.der
    assert https_get(server.port, certs.client_context())[0] == 200


def test_the_ssl_context_hook_shapes_the_context(serve, certs, tmp_path):
    config = tmp_path / "tls.conf.py"
    config.write_text(
        "import ssl\n"
        "def ssl_context(config, default_ssl_context_factory):\n"
        "    context = default_ssl_context_factory()\n"
        "    context.minimum_version = ssl.TLSVersion.TLSv1_3\n"
        "    return context\n"
    )
    server = serve_tls(serve, certs, "-c", str(config))
    modern = certs.client_context()
    assert https_get(server.port, modern)[0] == 200
    old = certs.client_context()
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        https_get(server.port, old)


def test_client_certificates_are_required_with_cert_reqs_2(serve, certs, tmp_path):
    client_ca = trustme.CA()
    ca_file = tmp_path / "client-ca.pem"
    client_ca.cert_pem.write_to_path(str(ca_file))
    server = serve_tls(serve, certs, "--cert-reqs", "2", "--ca-certs", str(ca_file))
    anonymous = certs.client_context()
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(server.port, anonymous)
    known = certs.client_context()
    client_ca.issue_cert("client@example.com").configure_cert(known)
    assert https_get(server.port, known)[0] == 200


def test_a_certificate_that_does_not_load_stops_the_server(run_to_exit, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    code, output = run_to_exit("--certfile", str(bad), "examples.hello:app")
    assert code != 0
    assert "SSLError" in output
    assert "Worker failed to boot" in output


def test_a_missing_certificate_file_is_one_line_naming_the_setting(run_to_exit):
    code, output = run_to_exit("--certfile", "nosuch.pem", "examples.hello:app")
    assert code == 1
    assert output.strip() == (
        "Error: Invalid value for certfile: 'nosuch.pem': nosuch.pem is not a file"
    )


@pytest.mark.parametrize(
    ("given", "mode"),
    [("0", ssl.CERT_NONE), ("optional", ssl.CERT_OPTIONAL), (2, ssl.CERT_REQUIRED)],
)
def test_cert_reqs_takes_gunicorns_numbers_or_words(given, mode):
    cfg = Config()
    cfg.set("cert_reqs", given)
    assert cfg.cert_reqs == mode  # ssl's own value: a plain int, so ssl stays unloaded


def test_a_certificate_or_a_key_turns_tls_on(certs):
    cfg = Config()
    assert cfg.is_ssl is False
    cfg.set("certfile", str(certs.cert))
    assert cfg.is_ssl is True
    with pytest.raises(ConfigError, match="Invalid value for cert_reqs: '3'"):
        cfg.set("cert_reqs", "3")
