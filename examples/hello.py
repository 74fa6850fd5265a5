"""The smallest useful WSGI application: what `make run` serves."""

import os


def app(environ, start_response):
    """Say hello and name the worker process, so you can watch requests spread."""
    body = f"Hello from minigun worker {os.getpid()}\n".encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
