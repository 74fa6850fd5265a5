"""The foundation, end to end: a real master, real workers, real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from conftest import ROOT, start_minigun

SHORT = ("--timeout", "5", "--graceful-timeout", "3")


def test_hello_world(serve):
    server = serve("examples.hello:app", *SHORT)
    status, body = server.request("/")
    assert status == 200
    assert body.startswith(b"Hello from minigun worker ")
    log = server.log.text
    assert "Starting minigun" in log
    assert "Using worker: sync" in log
    assert f"Booting worker with pid: {int(body.split()[-1])}" in log


def test_two_workers_answer_from_two_pids(serve):
    server = serve("examples.app_slow:app", *SHORT, workers=2)
    # Two overlapping slow requests cannot be served by one sync worker.
    results: list[bytes] = []
    threads = [_in_thread(lambda: results.append(server.request("/?sleep=0.5")[1]))]
    threads.append(_in_thread(lambda: results.append(server.request("/?sleep=0.5")[1])))
    for thread in threads:
        thread.join(10)
    pids = {int(line.split()[-1]) for line in results}
    assert len(results) == 2
    assert len(pids) == 2, results
    assert pids == set(server.booted_pids())


def test_post_body_round_trip_with_content_length(serve):
    server = serve("examples.app_echo:app", *SHORT)
    payload = bytes(range(256)) * 100
    status, body = server.request("/", method="POST", body=payload)
    assert status == 200
    assert body == payload


def test_post_body_round_trip_chunked(serve):
    server = serve("examples.app_echo:app", *SHORT)
    raw = (
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    )
    response = _raw_exchange(server.port, raw)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response
    assert body == b"hello, world"
    assert b"connection: close" in head.lower()


def test_app_that_raises_gets_500_and_the_worker_lives_on(serve):
    server = serve("examples.app_raise:app", *SHORT)
    status, _ = server.request("/boom")
    assert status == 500
    first_pid = server.get_pid("/")
    assert server.get_pid("/") == first_pid
    server.wait_for("AppBug: boom")
    assert server.booted_pids() == [first_pid]


def test_parse_error_is_answered_with_its_status(serve):
    server = serve("examples.hello:app", *SHORT)
    response = _raw_exchange(server.port, b"NOT A REQUEST\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400"), response
    assert server.request("/")[0] == 200


def test_app_import_error_halts_once_with_a_clear_message(run_to_exit):
    code, text = run_to_exit("--workers", "2", "examples.app_broken:app")
    assert code == 4, text
    assert "cannot be imported (on purpose)" in text
    assert "Reason: App failed to load." in text
    assert text.count("Booting worker") <= 2, "the master respawned a failing worker"


def test_worker_boot_failure_halts_once_with_exit_3(run_to_exit, tmp_path):
    config = tmp_path / "broken_boot.conf.py"
    config.write_text(
        "def post_worker_init(worker):\n    raise RuntimeError('cannot boot')\n"
    )
    code, text = run_to_exit("-c", str(config), "-w", "2", "examples.app_pid:app")
    assert code == 3, text
    assert "RuntimeError: cannot boot" in text
    assert "Reason: Worker failed to boot." in text
    assert text.count("Booting worker") <= 2, "the master respawned a failing worker"


def test_gunicorn_style_config_file(serve, tmp_path):
    config = tmp_path / "minigun.conf.py"
    config.write_text(
        "workers = 2\n"
        "timeout = 5\n"
        "def when_ready(server):\n"
        "    server.log.info('config file hook: ready with %s', server.num_workers)\n"
    )
    server = serve("examples.app_pid:app", "-c", str(config), workers=2)
    server.wait_for("config file hook: ready with 2")
    assert server.get_pid() in server.booted_pids()


def test_wsgiref_validator_finds_nothing_wrong(serve):
    for app, path, method, body in (
        ("examples.app_pid:validated_app", "/", "GET", None),
        ("examples.app_slow:validated_app", "/?sleep=0", "GET", None),
        ("examples.app_echo:validated_app", "/", "POST", b"payload"),
        ("examples.app_raise:validated_app", "/", "GET", None),
    ):
        server = serve(app, *SHORT)
        status, _ = server.request(path, method=method, body=body)
        assert status == 200, server.log.text
        assert "AssertionError" not in server.log.text
        assert "Traceback" not in server.log.text


def _raw_exchange(port: int, raw: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _in_thread(target):
    thread = threading.Thread(target=target)
    thread.start()
    return thread


HOOKS_FILE = """
import os

LOG = {log!r}

def note(name, *extra):
    with open(LOG, "a") as file:
        file.write(" ".join([name, str(os.getpid()), *map(str, extra)]) + "\\n")

def nworkers_changed(server, new_value, old_value):
    note("nworkers_changed", new_value, old_value)

def on_starting(server): note("on_starting")
def when_ready(server): note("when_ready")
def pre_fork(server, worker): note("pre_fork")
def post_fork(server, worker): note("post_fork")
def post_worker_init(worker): note("post_worker_init")
def worker_ready(server, worker): note("worker_ready", worker.pid)
def pre_request(worker, req): note("pre_request", req.path)
def post_request(worker, req, environ, resp): note("post_request", resp.status_code)
def on_reload(server): note("on_reload")
def worker_int(worker): note("worker_int")
def worker_exit(server, worker): note("worker_exit")
def child_exit(server, worker): note("child_exit", worker.pid)
def on_exit(server): note("on_exit")
"""


def test_hooks_fire_where_gunicorn_fires_them(serve, tmp_path):
    log = tmp_path / "hooks.log"
    config = tmp_path / "hooks.conf.py"
    config.write_text(HOOKS_FILE.format(log=str(log)))
    server = serve("examples.app_pid:app", "-c", str(config), *SHORT)
    master, worker = server.master_pid, server.booted_pids()[0]
    wait_for_line(log, f"worker_ready {master} {worker}")
    assert server.get_pid("/hello") == worker
    wait_for_line(log, f"post_request {worker} 200")
    server.kill(signal.SIGHUP)
    server.wait_for("Booting worker", count=2)
    wait_for_line(log, f"worker_exit {worker}")
    wait_for_line(log, f"child_exit {master} {worker}")
    server.kill(signal.SIGQUIT)
    assert server.wait_exit() == 0
    names = [line.split()[0] for line in log.read_text().splitlines()]
    assert names[:9] == [
        "nworkers_changed", "on_starting", "when_ready", "pre_fork", "post_fork",
        "post_worker_init", "worker_ready", "pre_request", "post_request",
    ]  # fmt: skip
    assert "on_reload" in names
    assert "worker_int" in names
    assert names[-1] == "on_exit"
    assert f"nworkers_changed {master} 1 None" in log.read_text()


def test_post_request_runs_even_when_the_app_raised(serve, tmp_path):
    log = tmp_path / "post.log"
    config = tmp_path / "post.conf.py"
    config.write_text(
        "def post_request(worker, req, environ, resp):\n"
        f"    open({str(log)!r}, 'a').write(req.path + '\\n')\n"
    )
    server = serve("examples.app_raise:app", "-c", str(config), *SHORT)
    assert server.request("/boom")[0] == 500
    wait_for_line(log, "/boom")


def test_capture_output_sends_prints_to_the_error_log(processes, tmp_path):
    errors = tmp_path / "error.log"
    config = tmp_path / "print.conf.py"
    config.write_text(
        "def post_worker_init(worker):\n    print('printed by a worker')\n"
    )
    proc, _ = start_minigun(
        "-c", str(config), "--capture-output", "--error-logfile", str(errors),
        *SHORT, "examples.app_pid:app",
    )  # fmt: skip
    processes.extra_pids.add(proc.pid)
    wait_for_line(errors, "Booting worker")
    wait_for_line(errors, "printed by a worker")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


def test_unix_socket_bind(processes, tmp_path):
    path = tmp_path / "minigun.sock"
    proc, log = start_minigun("examples.app_pid:app", bind=f"unix:{path}")
    processes.extra_pids.add(proc.pid)
    log.wait_for(f"Listening at: unix:{path}")
    log.wait_for("Booting worker")
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        conn.connect(str(path))
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200"), response
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert not path.exists(), "the socket file is removed on the way out"


def serve_on(listener, processes, command):
    """Start ``command`` with ``listener``'s descriptor open in it, as a process
    manager that binds for its child does; the test's own copy is then closed."""
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        pass_fds=[listener.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    listener.close()
    return processes.track(proc)


def test_systemd_socket_activation(processes):
    listener = socket.create_server(("127.0.0.1", 0))
    port, fd = listener.getsockname()[1], listener.fileno()
    # What systemd does: the socket at fd 3, LISTEN_PID naming the exec'd process.
    launcher = (
        "import os, sys\n"
        f"os.dup2({fd}, 3)\n"
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'minigun', *sys.argv[1:]])\n"
    )
    command = [sys.executable, "-c", launcher, "examples.app_pid:app"]
    server = serve_on(listener, processes, command)
    assert server.port == port, "minigun bound a new socket instead of adopting fd 3"
    server.wait_for("Booting worker")
    assert server.request("/")[0] == 200


def test_bind_fd_serves_on_a_socket_the_caller_bound(processes):
    """``--bind fd://N``, as a process manager that binds for its child uses it."""
    listener = socket.create_server(("127.0.0.1", 0))
    port, fd = listener.getsockname()[1], listener.fileno()
    command = [sys.executable, "-m", "minigun", "--bind", f"fd://{fd}"]
    server = serve_on(listener, processes, [*command, "examples.app_pid:app"])
    assert server.port == port, "minigun did not listen on the socket it was given"
    server.wait_for("Booting worker")
    assert server.request("/")[0] == 200


def wait_for_line(path, text, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)
