"""The application the hook tests serve: a good path, a bug, and a hang.

``/boom`` raises (``post_request`` must still run, the client gets a 500), and
``/hang`` sleeps past any sensible ``timeout`` so the master aborts the worker
(``worker_abort``). Anything else answers with the worker's pid.
"""

import os
import time

HANG_SECONDS = 60  # far longer than the tests' timeout: the master must step in


class AppBug(Exception):
    """The bug ``/boom`` raises, so the error log can be told from others."""


def app(environ, start_response):
    """Raise on ``/boom``, hang on ``/hang``, else reply with the pid."""
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise AppBug("boom: a bug in the application")
    if path == "/hang":
        time.sleep(HANG_SECONDS)
    body = str(os.getpid()).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]
