"""What a gunicorn user meets when switching to minigun (issue 25), against a real
server on 127.0.0.1: raw requests over a socket, the access log's lines, the error
log, the listeners' state as the kernel reports it (``ss``), the socket file."""

from __future__ import annotations

import base64
import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, LogBuffer, start_minigun, wait_until

HERE = Path(__file__).parent
APPS = ("--pythonpath", str(HERE))
WORKERS = {"sync": (), "gthread": ("--worker-class", "gthread", "--threads", "2")}
STAND_IN_USER, STAND_IN_GROUP = "nobody", "nogroup"


def exchange(port: int, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send ``raw`` on a new connection, leave it open for writing, and return
    everything the server sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        try:
            while piece := sock.recv(65536):
                data += piece
        except ConnectionResetError:
            pass
        return data


def serve_logging_to(processes, error_log: Path, *args: str) -> tuple[int, LogBuffer]:
    """Start minigun with ``--error-logfile error_log``; wait until its worker
    booted (the file says so, not standard error) and return the port and what
    the process wrote on its standard output and error."""
    proc, output = start_minigun(*args, "--error-logfile", str(error_log))
    processes.started.append(proc)
    wait_until(lambda: error_log.exists() and "Booting worker" in error_log.read_text())
    match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", error_log.read_text())
    assert match is not None
    return int(match.group(1)), output


def access_lines(path: Path, count: int) -> list[str]:
    """The access log's lines, once there are ``count`` of them."""
    wait_until(
        lambda: path.exists() and len(path.read_text().splitlines()) >= count,
        message=f"for {count} access-log lines in {path}",
    )
    return path.read_text().splitlines()


# --- CONNECT --------------------------------------------------------------------------


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_the_bytes_after_a_connect_are_never_served_as_a_request(
    serve, tmp_path, worker
):
    """RFC 9110 section 9.3.6: what follows CONNECT is a tunnel's payload. The
    application answers the CONNECT; the connection then closes, unread."""
    access = tmp_path / "access.log"
    server = serve(
        "drop_in_apps:path", *APPS, *WORKERS[worker],
        "--access-logfile", str(access), "--access-logformat", "%(r)s %(s)s",
    )  # fmt: skip
    raw = (
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    response = exchange(server.port, raw)
    assert response.count(b"HTTP/1.1 ") == 1, response
    assert b"Connection: close" in response
    assert b"smuggled" not in response
    assert server.request("/after")[1] == b"/after"
    lines = access_lines(access, 2)
    assert lines == ["CONNECT example.com:443 HTTP/1.1 200", "GET /after HTTP/1.1 200"]


# --- Allow lists ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "setting"),
    [
        ("--forwarded-allow-ips", "forwarded_allow_ips"),
        ("--proxy-allow-from", "proxy_allow_ips"),
    ],
)
def test_an_allow_list_with_host_bits_set_is_refused_in_one_line(
    run_to_exit, flag, setting
):
    code, output = run_to_exit(flag, "127.0.0.1,100.64.0.0/1", "examples.hello:app")
    assert code == 1
    assert output.strip().splitlines() == [
        f"Error: Invalid value for {setting}: '127.0.0.1,100.64.0.0/1': "
        "100.64.0.0/1 has host bits set"
    ]


def test_config_values_gunicorn_accepts(run_to_exit, tmp_path):
    """Integers in any base, ``None`` for the allow lists and forwarder_headers."""
    conf = tmp_path / "conf.py"
    conf.write_text(
        "workers = '0x3'\nbacklog = '0o100'\nforwarded_allow_ips = None\n"
        "proxy_allow_ips = None\nforwarder_headers = None\n"
    )
    code, output = run_to_exit("-c", str(conf), "--print-config", "examples.hello:app")
    assert code == 0, output
    printed = dict(re.findall(r"^(\w+) += (.*)$", output, re.MULTILINE))
    assert printed["workers"] == "3"
    assert printed["backlog"] == "64"
    assert printed["forwarded_allow_ips"] == "[]"
    assert printed["proxy_allow_ips"] == "[]"
    assert printed["forwarder_headers"] == "[]"


def test_the_config_file_is_read_when_sys_argv_is_empty(tmp_path):
    """A program that embeds minigun may run with an empty ``sys.argv``."""
    (tmp_path / "minigun.conf.py").write_text(
        "print_config = True\nworkers = '0x5'\nwsgi_app = 'examples.hello:app'\n"
    )
    embedding = (
        "import sys\nsys.argv = []\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from minigun.app.wsgiapp import run\nrun()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", embedding],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^workers += 5$", done.stdout, re.MULTILINE), done.stdout


# --- Responses the application gets wrong ---------------------------------------------


def test_an_invalid_header_value_is_a_500_logged_at_error_without_the_value(serve):
    server = serve("drop_in_apps:secret_header", *APPS)
    assert server.request("/")[0] == 500
    server.wait_for(r"\[ERROR\] Error handling request /")
    server.wait_for(r"header Set-Cookie: its value has a control character")
    assert "s3cr3t-t0ken" not in server.log.text
    assert server.request("/")[0] == 500, "the worker lives on"


def test_a_status_without_a_reason_phrase_is_sent_with_the_usual_one(serve):
    server = serve("drop_in_apps:no_reason_phrase", *APPS)
    response = exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200 OK\r\n"), response


def test_a_compressed_transfer_coding_is_501(serve):
    server = serve("drop_in_apps:path", *APPS)
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x-gzip, chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    response = exchange(server.port, raw)
    assert response.startswith(b"HTTP/1.1 501 Not Implemented\r\n"), response


# --- The error log --------------------------------------------------------------------


def test_wsgi_errors_writes_to_the_error_logfile(processes, tmp_path):
    errors = tmp_path / "error.log"
    port, output = serve_logging_to(
        processes, errors, "drop_in_apps:writes_to_wsgi_errors", *APPS
    )
    response = exchange(port, b"GET / HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200 "), response
    wait_until(lambda: "the app's own report" in errors.read_text())
    assert "Traceback (most recent call last):\n  the app's own report\n" in (
        errors.read_text()
    )
    assert "the app's own report" not in output.text, "not on standard error"


def test_an_invalid_request_is_a_warning_and_an_access_log_line(processes, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    port, _ = serve_logging_to(
        processes, errors, "drop_in_apps:path", *APPS, "--access-logfile", str(access)
    )
    response = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 "), response
    [line] = access_lines(access, 1)
    assert re.fullmatch(r'127\.0\.0\.1 - - \[.*\] "- - -" 400 0 "-" "-"', line), line
    wait_until(lambda: "Invalid request" in errors.read_text())
    assert re.search(
        r"\[WARNING\] Invalid request from ip=127\.0\.0\.1: ", errors.read_text()
    )
    # The reason quotes the client's bytes, as repr() writes them: no raw ESC.
    response = exchange(port, b"G\x1b[2JT / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 "), response
    wait_until(lambda: errors.read_text().count("Invalid request") == 2)
    assert b"\x1b" not in errors.read_bytes()
    assert r"G\x1b[2JT" in errors.read_text()


# --- The access log -------------------------------------------------------------------


def test_numeric_atoms_are_ints_and_an_empty_body_logs_0(serve, tmp_path):
    access = tmp_path / "access.log"
    server = serve(
        "drop_in_apps:empty", *APPS, "--access-logfile", str(access),
        "--access-logformat", "%(s)s b=%(b)s B=%(B)05d T=%(T)d D=%(D)d M=%(M)d",
    )  # fmt: skip
    assert server.request("/")[0] == 204
    [line] = access_lines(access, 1)
    assert re.fullmatch(r"204 b=0 B=00000 T=0 D=\d+ M=\d+", line), line


def test_every_logged_value_is_escaped(serve, tmp_path):
    access = tmp_path / "access.log"
    server = serve(
        "drop_in_apps:path", *APPS, "--access-logfile", str(access),
        "--access-logformat", "%(u)s|%(U)s|%(a)s|%({x-note}i)s",
    )  # fmt: skip
    user = base64.b64encode(b"\x1b[2J\x1b]0;owned\x07:pw").decode()
    raw = (
        f"GET /%ff%1b%0a HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {user}\r\n"
    ).encode() + b'User-Agent: \xff\xfe"ua"\r\nX-Note: caf\xc3\xa9\r\n\r\n'
    assert exchange(server.port, raw).startswith(b"HTTP/1.1 200 ")
    [line] = access_lines(access, 1)
    raw_line = access.read_bytes()
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", raw_line), raw_line
    assert line == (
        r"\x1b[2J\x1b]0;owned\x07|/\xff\x1b\x0a|\xff\xfe\x22ua\x22|" + "caf\u00e9"
    )


def test_a_bottle_app_gets_every_access_log_line(serve, tmp_path):
    """Bottle's request object caches what it parses in the environ: reading the
    live environ while turning its values to text lost about half the lines."""
    access = tmp_path / "access.log"
    server = serve(
        "bottle_site:app", "--pythonpath", str(HERE / "framework_apps"),
        "--access-logfile", str(access),
    )  # fmt: skip
    count = 20
    for number in range(count):
        assert server.request(f"/hello/n{number}") == (200, f"hello n{number}".encode())
    lines = access_lines(access, count)
    assert [line.split('"')[1] for line in lines] == [
        f"GET /hello/n{number} HTTP/1.1" for number in range(count)
    ]
    assert "Failed to write the access log line" not in server.log.text


def test_a_format_naming_bottles_request_object_logs_it(serve, tmp_path):
    access = tmp_path / "access.log"
    server = serve(
        "bottle_site:app", "--pythonpath", str(HERE / "framework_apps"),
        "--access-logfile", str(access),
        "--access-logformat", "%({bottle.request}e)s %(s)s",
    )  # fmt: skip
    assert server.request("/hello/x")[0] == 200
    [line] = access_lines(access, 1)
    assert line == f"<LocalRequest: GET http://127.0.0.1:{server.port}/hello/x> 200"


# --- Start-up: the environment and the listeners --------------------------------------


def test_preload_sees_raw_env_at_import(serve):
    server = serve(
        "drop_in_apps:import_time_env", *APPS, "--preload",
        "--env", "DROP_IN_RAW_ENV=from-raw-env",
    )  # fmt: skip
    assert server.request("/") == (200, b"from-raw-env")


def listen_backlog(port: int) -> int:
    """The backlog of the socket listening on ``port``, as the kernel reports it
    (``ss``: a listening socket's Send-Q is its backlog)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    return int(out.split()[2])


def serve_with_fd(processes, listener: socket.socket, *args: str):
    """Start minigun with ``listener`` open in it (``args`` name the descriptor)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minigun", *args],
        cwd=ROOT,
        pass_fds=[listener.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    listener.close()
    server = processes.track(proc)
    server.wait_for("Booting worker")
    return server


def test_an_inherited_listening_socket_is_not_listened_again(processes):
    """systemd's socket (here at fd 3, LISTEN_FDS=1) keeps the backlog it was
    given: minigun's --backlog would show if it called listen() again."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(3)
    port = listener.getsockname()[1]
    launcher = (
        "import os, sys\n"
        f"os.dup2({listener.fileno()}, 3)\n"
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'minigun', *sys.argv[1:]])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, "--backlog", "77", "examples.hello:app"],
        cwd=ROOT,
        pass_fds=[listener.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    listener.close()
    server = processes.track(proc)
    server.wait_for("Booting worker")
    assert server.port == port
    assert server.request("/")[0] == 200
    assert listen_backlog(port) == 3


def test_a_bound_socket_given_by_fd_is_made_to_listen(processes):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = serve_with_fd(
        processes, listener,
        "--bind", f"fd://{listener.fileno()}", "--backlog", "77", "examples.hello:app",
    )  # fmt: skip
    assert server.request("/")[0] == 200
    assert listen_backlog(port) == 77


def test_with_reuse_port_a_stopping_server_leaves_the_socket_file(processes, tmp_path):
    """Two servers on one path (reuse_port): the second takes the path over, and
    the first, stopping, must not remove the file the second now serves on."""
    path = tmp_path / "minigun.sock"
    started = []
    for _ in range(2):  # one after the other: the second takes over the first's path
        proc, log = start_minigun(
            "--reuse-port", "examples.app_pid:app", bind=f"unix:{path}"
        )
        processes.started.append(proc)
        processes.extra_pids.add(proc.pid)
        log.wait_for("Booting worker")
        started.append(proc)
    first = started[0]
    first.send_signal(signal.SIGTERM)
    assert first.wait(10) == 0
    assert path.exists()
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        conn.connect(str(path))
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 200 ")


def test_the_unix_socket_belongs_to_user_and_group(processes, tmp_path):
    """nginx running as ``user`` must be able to connect (with umask 007, only the
    owner and the group may). Started as root, the file is given to nobody;
    unprivileged, ``--user`` and ``--group`` can only name ourselves."""
    if os.geteuid() == 0:
        user, group = STAND_IN_USER, STAND_IN_GROUP
        uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    else:
        uid, gid = os.getuid(), os.getgid()
        user, group = str(uid), str(gid)
    path = tmp_path / "minigun.sock"
    proc, log = start_minigun(
        "--user", user, "--group", group, "--umask", "007",
        "--preload", "examples.hello:app", bind=f"unix:{path}",
    )  # fmt: skip
    processes.extra_pids.add(proc.pid)
    processes.started.append(proc)
    log.wait_for("Booting worker")
    status = path.stat()
    assert (status.st_uid, status.st_gid) == (uid, gid)
    assert status.st_mode & 0o777 == 0o770


# --- 103 Early Hints, gunicorn.socket -------------------------------------------------


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_early_hints_come_before_the_response_on_http_1_1_only(serve, worker):
    """RFC 8297: ``wsgi.early_hints`` sends a 103 with the Link headers, then the
    final response follows on the same connection. HTTP/1.0 knows no interim
    responses (RFC 9110 section 15.2): it gets the final response alone."""
    server = serve("drop_in_apps:early_hints", *APPS, *WORKERS[worker])
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    interim, _, final = exchange(server.port, raw).partition(b"\r\n\r\n")
    assert interim.split(b"\r\n") == [
        b"HTTP/1.1 103 Early Hints",
        b"Link: </style.css>; rel=preload; as=style",
        b"Link: </app.js>",
    ]
    assert final.startswith(b"HTTP/1.1 200 OK\r\n")
    assert final.endswith(b"\r\n\r\npage")
    old = exchange(server.port, b"GET / HTTP/1.0\r\n\r\n")
    assert old.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"103" not in old


def test_gunicorn_socket_is_the_connection_beside_minigun_socket(serve):
    server = serve("drop_in_apps:gunicorn_socket", *APPS)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        response = b""
        while piece := conn.recv(4096):
            response += piece
        host, port = conn.getsockname()
    assert response.endswith(f"\r\n\r\n{host}:{port} True".encode())


# --- the app's name -------------------------------------------------------------------

APP_SOURCE = """
def app(environ, start_response):
    start_response("200 OK", [])
    return [b""]
"""


@pytest.mark.parametrize(
    ("given", "meant"),
    [("app.py", "app:application"), ("app.py:app", "app:app"),
     ("project/wsgi.py", "project.wsgi:application")],
)  # fmt: skip
def test_a_file_name_for_the_app_gets_gunicorns_hint(
    run_to_exit, tmp_path, given, meant
):
    """``minigun app.py`` is a common first try: the answer names the module meant."""
    (tmp_path / "project").mkdir()
    (tmp_path / "app.py").write_text(APP_SOURCE)
    (tmp_path / "project" / "wsgi.py").write_text(APP_SOURCE)
    code, output = run_to_exit("--chdir", str(tmp_path), given)
    assert code == 4, output
    assert f"did you mean '{meant}'?" in output


def test_a_module_name_taken_by_another_module_is_named(run_to_exit, tmp_path):
    """An app in ``io.py``: the name is the standard library's module, which
    Python imported before any other; the error says which file took it."""
    (tmp_path / "io.py").write_text(APP_SOURCE)
    code, output = run_to_exit("--chdir", str(tmp_path), "io:app")
    assert code == 5, output
    assert "Failed to find the attribute 'app' in the module 'io'." in output
    assert f"so {tmp_path / 'io.py'} is never imported under it" in output


def test_an_app_file_named_like_the_library_it_imports_is_told(run_to_exit, tmp_path):
    """``requests.py`` saying ``from requests import get`` imports itself."""
    (tmp_path / "requests.py").write_text("from requests import get\n" + APP_SOURCE)
    code, output = run_to_exit("--chdir", str(tmp_path), "requests:app")
    assert code == 4, output
    assert f"The file {tmp_path / 'requests.py'} has the name of the module" in output


LATE_STANDARD_MODULES = (
    "signal", "selectors", "json", "platform", "random", "tempfile", "queue",
    "threading", "logging", "datetime",
)  # fmt: skip
"""Standard modules the server (or gunicorn) imports after it has moved to ``chdir``:
the arbiter, the worker class, modules imported where first needed."""

APP_WITH_ITS_OWN_BOTTLE = """
import signal

import bottle


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{bottle.WHOSE} bottle, SIGTERM={int(signal.SIGTERM)}".encode()]
"""


def test_app_modules_named_like_standard_ones_shadow_nothing(serve, tmp_path):
    """An app folder holding ``signal.py``, ``json.py``, ... (a ``chdir`` and a
    ``pythonpath``) starts and serves: the standard library comes first on
    ``sys.path``, for the server and for the app alike. The app's own modules still
    come before the installed packages: its ``bottle.py`` is the one it imports."""
    project, extra = tmp_path / "project", tmp_path / "extra"
    for folder in (project, extra):
        folder.mkdir()
        for name in LATE_STANDARD_MODULES:
            (folder / f"{name}.py").write_text(
                f"raise ImportError('the app folder\\'s {name}.py was imported')\n"
            )
    (project / "own_app.py").write_text(APP_WITH_ITS_OWN_BOTTLE)
    (extra / "bottle.py").write_text("WHOSE = 'the app folder\\'s own'\n")
    server = serve(
        "own_app:app", "--chdir", str(project), "--pythonpath", str(extra),
        "--worker-class", "gthread",
    )  # fmt: skip
    assert server.request("/") == (200, b"the app folder's own bottle, SIGTERM=15")
    assert "was imported" not in server.log.text


# --- gthread: check_config ------------------------------------------------------------


def test_gthread_warns_when_no_connection_can_stay_alive(serve):
    """gunicorn's ``check_config`` warning: with no more connections than threads,
    a kept-alive connection takes a new client's place. The master says so once,
    before it forks; the defaults (1000 connections) say nothing."""
    crowded = serve(
        "examples.hello:app", "--worker-class", "gthread", "--threads", "4",
        "--worker-connections", "4",
    )  # fmt: skip
    crowded.wait_for(
        re.compile(
            r"\[WARNING\] worker_connections \(4\) is not more than threads \(4\).*"
            r"Raise worker_connections, or set keepalive to 0\."
        )
    )
    roomy = serve("examples.hello:app", "--worker-class", "gthread", "--threads", "4")
    assert roomy.request("/")[0] == 200
    assert "worker_connections (" not in roomy.log.text


# --- reuse_port: a listener per worker ------------------------------------------------


def listeners_of(port: int) -> list[set[int]]:
    """For each socket listening on ``port``, the pids that hold it (``ss -p``)."""
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    return [
        {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        for line in out.splitlines()
    ]


@pytest.mark.parametrize("worker", sorted(WORKERS))
def test_reuse_port_gives_each_worker_its_own_listener(serve, worker):
    """With reuse_port each worker binds a socket of its own (as gunicorn does),
    so the kernel spreads the connections over the workers. The master's socket
    is in the same group: the workers accept on it too, or the connections the
    kernel gives it would wait for ever. Every one of 60 connections is answered,
    by both workers."""
    server = serve("examples.app_pid:app", "--reuse-port", *WORKERS[worker], workers=2)
    workers = server.booted_pids()
    own = [{pid} for pid in workers]
    wait_until(
        lambda: all(holders in listeners_of(server.port) for holders in own),
        message="for a listening socket in each worker",
    )
    sockets = sorted(sorted(holders) for holders in listeners_of(server.port))
    shared = sorted([server.master_pid, *workers])
    assert sockets == sorted([*([pid] for pid in workers), shared])
    served = [server.request("/", timeout=5)[1] for _ in range(60)]
    assert {int(pid) for pid in served} == set(workers)
