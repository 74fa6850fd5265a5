"""The two applications the benchmark serves, identical for both servers.

``hello`` measures the server itself (the application does almost nothing);
``sleep50`` measures concurrency (every request waits 50 ms, as if on a database).
Their ASGI twins are in :mod:`bench.asgi_apps`, apart: they need ``asyncio``, which
a WSGI worker never loads.
"""

import time

HELLO = b"Hello, world!\n"
SLEEP_SECONDS = 0.05


def hello(environ, start_response):
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))],
    )
    return [HELLO]


def sleep50(environ, start_response):
    time.sleep(SLEEP_SECONDS)
    return hello(environ, start_response)
