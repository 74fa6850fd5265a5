"""The benchmark's two applications in ASGI, identical for both servers.

``asgi_hello`` and ``asgi_sleep50`` are :mod:`bench.apps`'s ``hello`` and
``sleep50`` in ASGI (the second awaits its 50 ms, as an ASGI application waits on
its database). They live apart from the WSGI ones because they need ``asyncio``:
imported by the WSGI applications' module, it would sit in every sync and gthread
worker of both servers (4.6 MiB each, with the ``ssl`` it imports) and in their
memory row.
"""

import asyncio

from bench.apps import HELLO, SLEEP_SECONDS

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
