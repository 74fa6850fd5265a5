"""bench/ceiling.py, the benchmark's reference server: it answers, and stops whole.

The ceiling row of ``make bench`` means something only if the ceiling serves what
the real servers serve (a 200 with the same body, closed or kept alive as the
set-up says) and leaves no child behind when the benchmark stops it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CEILING = ROOT / "bench" / "ceiling.py"
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, str(CEILING), "--bind", f"127.0.0.1:{port}", *args]
    proc = subprocess.Popen(command)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise AssertionError("the ceiling did not listen")


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def wait_for_children(pid: int, count: int, timeout: float = 5.0) -> int:
    """How many children the ceiling has, once it has ``count`` or the time is up:
    the first child may answer before the master has forked the last one."""
    deadline = time.monotonic() + timeout
    while len(children_of(pid)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(children_of(pid))


def read_response(client: socket.socket) -> bytes:
    data = b""
    while b"Hello, world!\n" not in data:
        chunk = client.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.timeout(30)
def test_it_answers_and_closes_like_a_sync_worker():
    proc, port = start("--workers", "2")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(REQUEST)
            response = read_response(client)
            assert client.recv(1) == b""  # closed after one response
        assert response.startswith(b"HTTP/1.1 200 OK\r\n")
        assert response.endswith(b"\r\n\r\nHello, world!\n")
        assert wait_for_children(proc.pid, 2) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


@pytest.mark.timeout(30)
def test_with_keep_alive_it_serves_several_requests_on_one_connection():
    proc, port = start("--workers", "1", "--keep-alive")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            for _ in range(3):
                client.sendall(REQUEST)
                assert read_response(client).startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


@pytest.mark.timeout(30)
def test_term_stops_the_master_and_its_children():
    proc, _port = start("--workers", "2")
    assert wait_for_children(proc.pid, 2) == 2
    children = children_of(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert gone(children), f"children left behind: {children}"


def gone(pids: list[int], timeout: float = 5.0) -> bool:
    """Every pid has exited and been reaped (an orphan's last moment, before init
    reaps it, is a zombie that os.kill still finds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(is_running(pid) for pid in pids):
            return True
        time.sleep(0.02)
    return False


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
