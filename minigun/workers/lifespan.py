"""The ASGI lifespan protocol: the application's own start-up and shutdown.

The chapter's question: a WSGI application is imported and that is all; an ASGI
application may want to open its database pool once per worker, inside the worker's
event loop, and close it on the way out. How does the worker let it, and what if it
fails?

The worker calls the application once more, with a ``lifespan`` scope, and keeps that
call running for the worker's whole life: it sends ``lifespan.startup`` before it
accepts a connection and ``lifespan.shutdown`` after the last request. Rules
(``asgi_lifespan``):

- ``on``: the application must answer ``startup.complete``; ``startup.failed``, an
  exception, or returning without an answer is a boot error (the worker exits with
  :data:`~minigun.errors.WORKER_BOOT_ERROR` and the master halts, as for an
  application that fails to import).
- ``auto`` (the default): the same, except that an application that raises or
  returns before answering simply does not speak lifespan (a plain function app);
  it is logged at info and served. ``startup.failed`` is still a boot error.
- ``off``: no lifespan call at all.
- The ``state`` dict of the lifespan scope is copied into every request's scope.
"""

from __future__ import annotations

import asyncio
from typing import Any

from minigun.glogging import Logger
from minigun.http.asgi import ASGI_VERSION, ASGIApp, Message


class Lifespan:
    """One worker's lifespan call to the application."""

    def __init__(self, app: ASGIApp, mode: str, log: Logger) -> None:
        self.app = app
        self.mode = mode
        self.log = log
        self.state: dict[str, Any] = {}
        self.events: asyncio.Queue[Message] = asyncio.Queue()
        self.answers: asyncio.Queue[Message] = asyncio.Queue()
        self.call: asyncio.Task[None] | None = None

    async def startup(self) -> bool:
        """Send ``startup``; ``False`` if the application failed to start."""
        if self.mode == "off":
            return True
        scope = {"type": "lifespan", "asgi": dict(ASGI_VERSION), "state": self.state}
        self.call = asyncio.ensure_future(self.app(scope, self.receive, self.send))
        answer = await self.ask({"type": "lifespan.startup"})
        if answer is None:
            return self.unanswered("startup")
        if answer["type"] == "lifespan.startup.failed":
            self.log.error("Application startup failed: %s", answer.get("message", ""))
            return False
        self.log.info("Application startup complete.")
        return True

    async def shutdown(self, timeout: float) -> None:
        """Send ``shutdown`` and wait for the answer, at most ``timeout`` seconds."""
        if self.call is None or self.call.done():
            return
        try:
            answer = await asyncio.wait_for(
                self.ask({"type": "lifespan.shutdown"}), timeout
            )
        except TimeoutError:
            self.log.warning("Application shutdown did not end in %g s", timeout)
            self.call.cancel()
            return
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            self.log.error("Application shutdown failed: %s", answer.get("message", ""))
        elif answer is not None:
            self.log.info("Application shutdown complete.")

    async def ask(self, event: Message) -> Message | None:
        """Send ``event``; the application's answer, or ``None`` if the call ended
        (returned or raised) without one."""
        assert self.call is not None
        await self.events.put(event)
        answer = asyncio.ensure_future(self.answers.get())
        await asyncio.wait({answer, self.call}, return_when=asyncio.FIRST_COMPLETED)
        if answer.done():
            return answer.result()
        answer.cancel()
        return None

    def unanswered(self, phase: str) -> bool:
        """The call ended without answering ``phase``: fatal only in ``on`` mode."""
        assert self.call is not None
        error = self.call.exception()
        if self.mode == "on":
            self.log.error("Application %s failed: %r", phase, error)
            return False
        self.log.info("ASGI 'lifespan' protocol appears unsupported: %r", error)
        return True

    async def receive(self) -> Message:
        return await self.events.get()

    async def send(self, message: Message) -> None:
        await self.answers.put(message)
