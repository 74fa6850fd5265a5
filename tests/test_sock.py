"""Listeners: port 0 reports the real port, Unix sockets, inherited descriptors."""

import os
import socket

import pytest

from minigun import sock
from minigun.config import Config
from minigun.errors import ConfigError, HaltServer


class QuietLog:
    def error(self, *args):
        raise AssertionError(f"unexpected error log: {args}")


def config(*binds: str) -> Config:
    cfg = Config()
    cfg.set("bind", list(binds))
    return cfg


def test_port_zero_is_reported_as_the_real_port():
    [listener] = sock.create_sockets(config("127.0.0.1:0"), QuietLog())
    try:
        port = listener.getsockname()[1]
        assert port != 0
        assert str(listener) == f"http://127.0.0.1:{port}"
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        sock.close_sockets([listener])


def test_unix_socket_replaces_a_stale_file_and_is_unlinked_on_close(tmp_path):
    path = tmp_path / "app.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    [listener] = sock.create_sockets(config(f"unix:{path}"), QuietLog())
    assert isinstance(listener, sock.UnixSocket)
    assert str(listener) == f"unix:{path}"
    sock.close_sockets([listener])
    assert not path.exists()


def test_an_fd_address_is_adopted_not_bound():
    """``--bind fd://N``: a socket the caller bound (it used to crash in bind)."""
    original = socket.create_server(("127.0.0.1", 0))
    fd = os.dup(original.fileno())
    try:
        [adopted] = sock.create_sockets(config(f"fd://{fd}"), QuietLog())
        assert adopted.fileno() == fd
        assert adopted.getsockname() == original.getsockname()
        assert isinstance(adopted, sock.TCPSocket)
        adopted.close()
    finally:
        original.close()


def test_inherited_descriptor_is_adopted_not_rebound():
    original = socket.socket()
    original.bind(("127.0.0.1", 0))
    original.listen()
    fd = os.dup(original.fileno())
    try:
        [adopted] = sock.create_sockets(config("127.0.0.1:1"), QuietLog(), fds=[fd])
        assert adopted.getsockname() == original.getsockname()
        assert isinstance(adopted, sock.TCPSocket)
        adopted.close()
    finally:
        original.close()


def test_socket_class_by_address():
    assert sock.socket_class(("127.0.0.1", 80)) is sock.TCPSocket
    assert sock.socket_class(("::1", 80)) is sock.TCP6Socket
    assert sock.socket_class("/tmp/x.sock") is sock.UnixSocket


class RecordingLog:
    def __init__(self):
        self.lines = []

    def error(self, message, *args):
        self.lines.append(message % args)


def test_only_an_address_in_use_is_retried(tmp_path):
    log = RecordingLog()
    missing = tmp_path / "missing" / "app.sock"
    with pytest.raises(HaltServer) as halt:
        sock.create_sockets(config(f"unix:{missing}"), log)
    assert halt.value.reason == (
        f"Cannot listen at unix:{missing}: No such file or directory"
    )
    assert halt.value.exit_status == 1
    assert log.lines == []


def test_addresses_are_described_as_bind_spells_them():
    assert sock.describe(("127.0.0.1", 80)) == "127.0.0.1:80"
    assert sock.describe(("::1", 80)) == "[::1]:80"
    assert sock.describe("/run/app.sock") == "unix:/run/app.sock"


# --- TLS: the context a worker serves with ----------------------------------------


def test_a_keyfile_without_a_certfile_is_a_config_error(tmp_path):
    """TLS asked for by a key alone: the worker boots with the reason, not with
    load_cert_chain's TypeError about None."""
    key = tmp_path / "server.key"
    key.write_text("not read")
    cfg = Config()
    cfg.set("keyfile", str(key))
    with pytest.raises(ConfigError, match="keyfile is set, but not certfile"):
        sock.ssl_context(cfg)


def test_an_ssl_context_hook_must_return_a_context():
    cfg = Config()
    cfg.set("ssl_context", lambda config, default_factory: "a context, I promise")
    with pytest.raises(TypeError, match="ssl_context hook returned 'a context"):
        sock.ssl_context(cfg)


def test_reuse_port_is_read_from_the_config():
    cfg = config("127.0.0.1:0")
    cfg.set("reuse_port", True)
    [listener] = sock.create_sockets(cfg, QuietLog())
    try:
        assert listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
    finally:
        listener.close()
