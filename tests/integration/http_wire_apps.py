"""Apps for ``test_http_wire.py``, which a real minigun loads via ``--pythonpath``."""

import os
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
