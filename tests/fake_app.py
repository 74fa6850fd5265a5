"""The one application stand-in of the unit tests in ``tests/``.

The arbiter and the workers need an application object only for its ``cfg``, its
``wsgi()`` and its ``reload()``; a real :class:`~minigun.app.base.BaseApplication`
would also read the command line and a config file. Import it (``from fake_app
import FakeApp``) rather than writing another: one fake, so a change to what the
arbiter asks of its application is made in one place.

The exercises keep their own, in ``exercises/fakes.py``: a student's exercise
folder is run on its own, against a work copy of minigun, and must not import from
the project's test suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def empty_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list:
    """A WSGI app that answers nothing: enough for code that only loads one."""
    return []


class FakeApp:
    """An application with a ``cfg``; ``wsgi()`` returns :func:`empty_app` or raises.

    ``error`` makes ``wsgi()`` raise it, as an app whose import fails in the worker;
    ``reload()`` counts its calls and swaps in ``next_cfg`` when one is given, as
    re-reading an edited config file would.
    """

    def __init__(
        self,
        cfg: Any = None,
        error: BaseException | None = None,
        next_cfg: Any = None,
    ) -> None:
        self.cfg = cfg
        self.error = error
        self.next_cfg = next_cfg
        self.reloads = 0

    def wsgi(self) -> WSGIApp:
        if self.error is not None:
            raise self.error
        return empty_app

    def reload(self) -> None:
        self.reloads += 1
        if self.next_cfg is not None:
            self.cfg = self.next_cfg
