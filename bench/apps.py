"""The two applications the benchmark serves, identical for both servers.

``hello`` measures the server itself (the application does almost nothing);
``sleep50`` measures concurrency (every request waits 50 ms, as if on a database).
``asgi_hello`` and ``asgi_sleep50`` are the same two in ASGI (the second awaits its
50 ms, as an ASGI application waits on its database).
"""

import asyncio
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


HELLO_HEADERS = [
    (b"content-type", b"text/plain"),
    (b"content-length", str(len(HELLO)).encode()),
]


async def asgi_hello(scope, receive, send):
    if scope["type"] != "http":
        return  # no lifespan: both servers serve it anyway ("auto")
    await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
    await send({"type": "http.response.body", "body": HELLO})


async def asgi_sleep50(scope, receive, send):
    if scope["type"] == "http":
        await asyncio.sleep(SLEEP_SECONDS)
    await asgi_hello(scope, receive, send)
