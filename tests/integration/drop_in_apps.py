"""Applications for test_drop_in.py: each does one thing a gunicorn user's app does
that minigun once answered differently."""

from __future__ import annotations

import os

# Read at import, as settings modules do: with --preload the master imports this
# module, so raw_env must already be in the master's environment.
IMPORT_TIME_VALUE = os.environ.get("DROP_IN_RAW_ENV", "unset")


def path(environ, start_response):
    """The path it was asked for: a second request on the connection would show."""
    body = environ["PATH_INFO"].encode("latin-1")
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def secret_header(environ, start_response):
    """A header whose value would split the head, and holds a secret (made at run
    time, as a real one is: a traceback's source line must not show it either)."""
    token = "-".join(["s3cr3t", "t0ken"])
    start_response("200 OK", [("Set-Cookie", f"session={token}\r\nX-Evil: 1")])
    return [b"never sent"]


def empty(environ, start_response):
    start_response("204 No Content", [])
    return []


def no_reason_phrase(environ, start_response):
    start_response("200", [("Content-Length", "2")])
    return [b"ok"]


def writes_to_wsgi_errors(environ, start_response):
    environ["wsgi.errors"].write("Traceback (most recent call last):\n")
    environ["wsgi.errors"].writelines(["  the app's own report\n"])
    environ["wsgi.errors"].flush()
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def import_time_env(environ, start_response):
    body = IMPORT_TIME_VALUE.encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def early_hints(environ, start_response):
    """Hints its stylesheet and script before it answers, as a page would."""
    environ["wsgi.early_hints"](
        [("Link", "</style.css>; rel=preload; as=style"), ("Link", "</app.js>")]
    )
    start_response("200 OK", [("Content-Length", "4")])
    return [b"page"]


def gunicorn_socket(environ, start_response):
    """Reads the connection's socket by gunicorn's key: its peer, echoed back."""
    peer = environ["gunicorn.socket"].getpeername()
    same = environ["gunicorn.socket"] is environ["minigun.socket"]
    body = f"{peer[0]}:{peer[1]} {same}".encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
