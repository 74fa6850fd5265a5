"""An application with a bug on ``/boom``: the worker must answer 500 and live on."""

import os
from wsgiref.validate import validator


class AppBug(Exception):
    """The bug the tests expect to see in the error log."""


def app(environ, start_response):
    """Raise on ``/boom``; otherwise reply with the pid."""
    if environ["PATH_INFO"] == "/boom":
        raise AppBug("boom: a bug in the application")
    body = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]


validated_app = validator(app)
