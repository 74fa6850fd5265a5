"""An application factory: ``minigun 'examples.factory:create_app("Hi", repeat=2)'``.

minigun parses the call with :mod:`ast` and accepts literal arguments only (strings,
numbers, lists, dicts, ``True``/``False``/``None``), so a command line never runs code.
"""

from collections.abc import Callable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Any], list[bytes]]


def create_app(greeting: str = "Hello", repeat: int = 1) -> WSGIApp:
    """Build a WSGI app that answers ``greeting`` ``repeat`` times."""
    body = ("\n".join([greeting] * repeat) + "\n").encode()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app
