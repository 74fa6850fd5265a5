"""Start-up errors are one clear line naming what failed, exit 1, no traceback.

Each test starts a real minigun that cannot start, and reads what a user would read.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import ROOT

BIND_RIGHT = "net_bind_service"  # the capability to bind ports below 1024
CAPABILITY_SETS = ("bounding-set", "inh-caps")  # setpriv options that drop it


def assert_one_clear_line(code: int, text: str, line: str) -> None:
    assert code == 1, text
    assert "Traceback" not in text, text
    assert f"[ERROR] Reason: {line}\n" in text, text
    assert "Booting worker" not in text, text


def test_a_pidfile_in_a_missing_folder(run_to_exit, tmp_path):
    pidfile = tmp_path / "no-such-folder" / "app.pid"
    code, text = run_to_exit("--pid", str(pidfile), "examples.hello:app")
    assert_one_clear_line(
        code,
        text,
        f"Cannot write the pid file '{pidfile}': No such file or directory",
    )


def test_a_port_in_use_after_the_retries(run_to_exit):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, text = run_to_exit("--bind", f"127.0.0.1:{port}", "examples.hello:app")
    assert text.count("Connection in use: 127.0.0.1:") == 5, text
    assert_one_clear_line(
        code,
        text,
        f"Cannot listen at 127.0.0.1:{port}: Address already in use (tried 5 times)",
    )


def test_a_unix_socket_path_that_cannot_be_created(run_to_exit, tmp_path):
    path = tmp_path / "no-such-folder" / "app.sock"
    code, text = run_to_exit("--bind", f"unix:{path}", "examples.hello:app")
    assert "Retrying" not in text, "only an address in use is worth retrying"
    assert_one_clear_line(
        code, text, f"Cannot listen at unix:{path}: No such file or directory"
    )


def test_a_unix_socket_path_that_is_a_plain_file(run_to_exit, tmp_path):
    path = tmp_path / "app.sock"
    path.write_text("not a socket")
    code, text = run_to_exit("--bind", f"unix:{path}", "examples.hello:app")
    assert_one_clear_line(
        code, text, f"Cannot listen at unix:{path}: the path exists and is not a socket"
    )
    assert path.read_text() == "not a socket", "the file must not be removed"


def test_a_privileged_port_without_the_right_to_bind_it():
    """Run without the right to bind a port below 1024.

    CI runs the suite as root, which has that right (``CAP_NET_BIND_SERVICE``); the
    child drops exactly that capability with ``setpriv`` and stays root otherwise, so
    it can still read a checkout in a folder only root may enter.
    """
    port = 81
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as file:
        assert port < int(file.read()), "port 81 is not privileged on this kernel"
    command = [sys.executable, "-m", "minigun", "--bind", f"127.0.0.1:{port}"]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (Debian util-linux) is needed to drop the capability"
        without_the_right = [f"--{kind}=-{BIND_RIGHT}" for kind in CAPABILITY_SETS]
        command = [setpriv, *without_the_right, *command]
    result = subprocess.run(
        [*command, "examples.hello:app"],
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    text = result.stdout + result.stderr
    assert "Retrying" not in text, "a refused bind is not worth retrying"
    assert_one_clear_line(
        result.returncode,
        text,
        f"Cannot listen at 127.0.0.1:{port}: Permission denied "
        f"(port {port} is privileged: run as root, or set a higher port)",
    )


@pytest.mark.parametrize("flag", ["--pid", "--bind"])
def test_nothing_is_left_behind(run_to_exit, tmp_path, flag):
    value = str(tmp_path / "missing" / "x")
    if flag == "--bind":
        value = f"unix:{value}"
    code, _ = run_to_exit(flag, value, "examples.hello:app")
    assert code == 1
    assert list(tmp_path.iterdir()) == []
