"""HUP: new workers with the re-read config, the old ones retired once the new have
booted, a broken new version refused, and not one request failed meanwhile."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
from conftest import FAST, Load, wait_until


def test_hup_starts_new_workers_with_the_new_config(serve, tmp_path):
    config = tmp_path / "conf.py"
    config.write_text("workers = 1\n")
    server = serve("examples.app_pid:app", "-c", str(config), *FAST, workers=None)
    old_pid = server.get_pid()
    config.write_text("workers = 3\n")
    server.kill(signal.SIGHUP)
    server.wait_for("Booting worker", count=4)
    wait_until(
        lambda: len(server.worker_pids()) == 3 and old_pid not in server.worker_pids()
    )
    assert server.get_pid() != old_pid
    assert "Hang up: Master" in server.log.text


def test_hup_new_workers_parse_by_the_new_settings(serve, tmp_path):
    """A worker builds its parse rules once (ParseRules): after a HUP that lowers
    limit_request_line, the new workers refuse a request line the old one took."""
    config = tmp_path / "conf.py"
    config.write_text("limit_request_line = 4094\n")
    server = serve("examples.app_pid:app", "-c", str(config), *FAST)
    long_path = "/" + "x" * 200
    old_pid = server.get_pid()
    assert server.request(long_path)[0] == 200
    config.write_text("limit_request_line = 100\n")
    server.kill(signal.SIGHUP)
    wait_until(lambda: old_pid not in server.worker_pids())
    assert server.request(long_path)[0] == 414
    assert server.request("/")[0] == 200


def test_hup_rebinds_only_when_bind_changed(serve, tmp_path):
    first, second = free_port(), free_port()
    config = tmp_path / "conf.py"
    config.write_text(f"bind = ['127.0.0.1:{first}']\n")
    server = serve("examples.app_pid:app", "-c", str(config), *FAST, bind=None)
    assert server.port == first
    server.kill(signal.SIGHUP)  # same bind: no new listener
    server.wait_for("Booting worker", count=2)
    assert "Listening at" not in server.log.text.split("Hang up")[1]
    config.write_text(f"bind = ['127.0.0.1:{second}']\n")
    server.kill(signal.SIGHUP)
    server.wait_for(f"Listening at: http://127.0.0.1:{second}")
    server.wait_for("Booting worker", count=3)
    server.port = second
    assert server.request("/")[0] == 200
    wait_until(lambda: len(server.worker_pids()) == 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", first), timeout=2)


VERSIONED_APP = """
import os, time
time.sleep({boot_seconds})
def app(environ, start_response):
    body = b"{version} %d" % os.getpid()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
"""


def test_hup_retires_old_workers_only_once_new_ones_have_booted(serve, tmp_path):
    module = tmp_path / "versioned.py"
    module.write_text(VERSIONED_APP.format(boot_seconds=0, version="v1"))
    server = serve("versioned:app", "--pythonpath", str(tmp_path), *FAST, workers=2)
    old_pids = set(server.booted_pids())
    served: set[bytes] = set()
    wait_until(lambda: served.add(server.request("/")[1]) or len(served) == 2)
    module.write_text(VERSIONED_APP.format(boot_seconds=3, version="v2"))
    server.kill(signal.SIGHUP)
    server.wait_for("Booting worker", count=4)
    # The new workers are still importing: the old ones serve, all of them alive.
    for _ in range(20):
        status, body = server.request("/")
        assert (status, body.split()[0]) == (200, b"v1")
        time.sleep(0.03)
    assert old_pids <= server.worker_pids()
    wait_until(lambda: server.request("/")[1].startswith(b"v2"))
    wait_until(lambda: not old_pids & server.worker_pids())


def test_hup_with_a_broken_new_version_keeps_the_old_workers(serve, tmp_path):
    module = tmp_path / "hupapp.py"
    module.write_text((Path("examples") / "app_pid.py").read_text())
    server = serve("hupapp:app", "--pythonpath", str(tmp_path), *FAST, workers=2)
    served: set[int] = set()
    old_pids = set(server.booted_pids())
    # Both old workers have loaded the good version once each has answered.
    wait_until(lambda: served.add(server.get_pid()) or served == old_pids)
    module.write_text("raise ImportError('the new version is broken')\n")
    server.kill(signal.SIGHUP)
    server.wait_for("Reload failed")
    server.wait_for("the new version is broken")
    for _ in range(10):
        assert server.get_pid() in old_pids
    assert server.proc.poll() is None


def test_hup_under_load_fails_no_request(serve):
    server = serve("examples.app_pid:app", *FAST, workers=2)
    with Load(server) as load:
        load.wait_for_successes(20)  # the stream is flowing
        server.kill(signal.SIGHUP)
        server.wait_for("Booting worker", count=4)
        old = set(server.booted_pids()[:2])
        wait_until(lambda: load.pids - old, message="(a new worker serving)")
        wait_until(lambda: not old & server.worker_pids(), message="(old retired)")
        load.wait_for_successes(100)
    load.assert_all_succeeded(minimum=100)
    assert load.pids - set(server.booted_pids()[:2]), "no new worker served"


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
