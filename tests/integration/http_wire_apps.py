"""Apps for ``test_http_wire.py``, which a real minigun loads via ``--pythonpath``."""

import os
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.validate import validator

from examples.flaskapp import app as flask_app

_checked_flask = validator(flask_app)


def validated_flask(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """The example Flask app, checked for PEP 3333 on every call by wsgiref.

    wsgiref.validate predates the ``wsgi.input_terminated`` extension, with which
    Werkzeug calls ``read()`` without a size; validate insists on ``read(size)``.
    Without the key Werkzeug reads by Content-Length in sized reads, which validate
    accepts; everything else minigun provides is checked as is.
    """
    environ = {k: v for k, v in environ.items() if k != "wsgi.input_terminated"}
    return _checked_flask(environ, start_response)


def file_app(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Serve the file named by ``$MINIGUN_WIRE_FILE`` through ``wsgi.file_wrapper``."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    handle = open(os.environ["MINIGUN_WIRE_FILE"], "rb")  # noqa: SIM115 (closed by the server)
    return environ["wsgi.file_wrapper"](handle)


def wrapped_read_error(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Read the body as many frameworks do: a failed read becomes their own error."""
    try:
        body = environ["wsgi.input"].read()
    except OSError as error:
        raise RuntimeError("the upload failed") from error
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def read_then_readline(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """``read(2)``, then ``readline()`` twice: each result on a line of its own."""
    stream = environ["wsgi.input"]
    parts = [stream.read(2), stream.readline(), stream.readline()]
    body = b"".join(repr(part).encode() + b"\n" for part in parts)
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def measured_read(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Read the whole body under tracemalloc; answer its size and the peak ratio."""
    tracemalloc.start()
    try:
        body = environ["wsgi.input"].read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    answer = f"{len(body)} {peak / max(len(body), 1):.3f}".encode()
    start_response("200 OK", [("Content-Length", str(len(answer)))])
    return [answer]


def status_from_path(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """``/204`` answers ``204``, with a Content-Length and a body it must not have."""
    status = environ["PATH_INFO"].strip("/")
    start_response(f"{status} Whatever", [("Content-Length", "5")])
    return [b"hello"]


def answer_then_read(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Start the response, then read the body: a read that fails comes too late to
    answer."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    yield b"started\n"
    yield environ["wsgi.input"].read()


def fails_after_first_chunk(
    environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Send the head and a first piece of a body of unknown length, then fail."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first piece\n"
    raise RuntimeError("the application failed half-way through its body")
