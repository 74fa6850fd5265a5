"""Embedding minigun in your own program: a BaseApplication configured from a dict.

Run it with ``python examples/custom_app.py`` (it serves on http://127.0.0.1:8080), or
give another address: ``python examples/custom_app.py 127.0.0.1:0``.

This is the pattern gunicorn documents as a "custom application": subclass
:class:`~minigun.app.base.BaseApplication`, copy the options you want into ``self.cfg``
in ``load_config()``, and return your WSGI callable from ``load()``. Hooks are just
more options whose values are functions; ``cfg.set`` checks how many arguments each
one takes before the server starts.
"""

import sys
from typing import Any

from minigun.app.base import BaseApplication

DEFAULT_BIND = "127.0.0.1:8080"


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A tiny WSGI application."""
    body = b"Hello from an embedded minigun\n"
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]


def when_ready(server: Any) -> None:
    """Runs in the master once the sockets are bound."""
    print(f"custom_app: ready with {server.cfg.workers} workers", flush=True)


def on_exit(server: Any) -> None:
    """Runs in the master just before it exits."""
    print("custom_app: bye", flush=True)


class StandaloneApplication(BaseApplication):
    """Serve ``application`` with the settings in ``options``."""

    def __init__(self, application: Any, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}
        self.application = application
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings and value is not None:
                self.cfg.set(name.lower(), value)

    def load(self) -> Any:
        return self.application


if __name__ == "__main__":
    options = {
        "bind": sys.argv[1] if len(sys.argv) > 1 else DEFAULT_BIND,
        "workers": 2,
        "when_ready": when_ready,
        "on_exit": on_exit,
    }
    sys.exit(StandaloneApplication(app, options).run())
