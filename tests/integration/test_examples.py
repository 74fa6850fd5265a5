"""The examples serve real requests: Flask, an app factory, a gunicorn config file,
and a program embedding minigun through BaseApplication."""

import os
import signal
import subprocess
import sys

from conftest import ROOT, START_TIMEOUT


def test_flask_app(serve):
    server = serve("examples.flaskapp:app")
    assert server.request("/") == (200, b"Hello from Flask on minigun\n")
    assert server.request("/echo", method="POST", body=b"ping") == (200, b"ping")


def test_app_factory_with_literal_arguments(serve):
    server = serve('examples.factory:create_app("Hi", repeat=2)')
    assert server.request("/") == (200, b"Hi\nHi\n")


def test_gunicorn_config_file_serves_with_its_hooks(serve):
    # No APP_MODULE on the command line: the file's wsgi_app names it.
    server = serve("--config=examples/gunicorn.conf.py")
    server.wait_for(r"Server is ready\. Spawning workers")
    server.wait_for(r"Worker spawned \(pid: \d+\)")
    status, body = server.request("/")
    assert status == 200
    assert body.startswith(b"Hello from minigun worker")


def test_embedded_application_with_hooks_from_the_options_dict(processes):
    proc = subprocess.Popen(
        [sys.executable, "examples/custom_app.py", "127.0.0.1:0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = processes.track(proc)  # stopped by pid at teardown, whatever happens
    server.wait_for("custom_app: ready with 2 workers", timeout=START_TIMEOUT)
    assert server.request("/") == (200, b"Hello from an embedded minigun\n")
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    server.wait_for("custom_app: bye")
