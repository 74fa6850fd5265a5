"""Small WSGI apps for the deployment tests (TLS, nginx in front), on --pythonpath.

Each answers with what a test needs to see from the outside: the environ a proxy
shaped (``environ_app``), what arrived of an upload (``upload_app``), a response
produced over time (``stream_app``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time

ENVIRON_KEYS = (
    "wsgi.url_scheme",
    "REMOTE_ADDR",
    "HTTP_HOST",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "SERVER_NAME",
    "SERVER_PORT",
)
STREAM_PIECES = 4
STREAM_PAUSE = 0.4  # seconds between two pieces of stream_app
READ_SIZE = 1 << 16


def _json(start_response, value, status="200 OK"):
    body = json.dumps(value).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def environ_app(environ, start_response):
    """The environ keys a proxy or TLS decides, and the worker's pid."""
    seen = {key: environ.get(key) for key in ENVIRON_KEYS}
    seen["pid"] = os.getpid()
    return _json(start_response, seen)


def upload_app(environ, start_response):
    """Read the whole body in pieces; answer its length and SHA-256."""
    digest = hashlib.sha256()
    length = 0
    while piece := environ["wsgi.input"].read(READ_SIZE):
        digest.update(piece)
        length += len(piece)
    return _json(start_response, {"length": length, "sha256": digest.hexdigest()})


def stream_app(environ, start_response):
    """Pieces with a pause between them, no Content-Length: a streamed response.

    ``X-Accel-Buffering: no`` asks nginx to pass each piece on as it comes instead
    of buffering the whole response.
    """
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("X-Accel-Buffering", "no")]
    )
    for number in range(STREAM_PIECES):
        if number:
            time.sleep(STREAM_PAUSE)
        yield f"piece {number}\n".encode()
