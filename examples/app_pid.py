"""Answer with the worker's pid: how the integration tests see which process served."""

import os
from wsgiref.validate import validator


def app(environ, start_response):
    """Reply ``<pid>`` as plain text."""
    body = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]


validated_app = validator(app)
