"""Writing your own worker: an asyncio event loop that honours the worker contract.

Load it by its dotted path, like any worker class::

    minigun -k examples.asyncio_worker.AsyncioWorker examples.hello:app

The chapter builds it in steps, each one a promise the master relies on:

1. ``Worker.run()`` raises ``NotImplementedError``: a worker class *is* its accept
   loop. Everything before it (fork, signals reset, app loaded, ``post_worker_init``)
   is done by :meth:`minigun.workers.base.Worker.init_process`.
2. Serving one connection is already written: the base class's ``handle()`` parses
   a request, runs the hooks (``pre_request``, ``post_request``), counts it for
   ``max_requests`` and answers errors. We inherit it through :class:`SyncWorker`
   (whose ``accept_and_serve`` the backlog drain uses) and replace only ``run()``.
3. The loop: one task per listener awaits ``loop.sock_accept()``.
4. The heartbeat: a task that calls :meth:`notify` and checks the parent pid. The
   request is served in the loop's own thread, so an application stuck in a
   request stops the heartbeat too, and the master's ``timeout`` kills the worker.
5. Signals: ``TERM`` through ``loop.add_signal_handler``; the handler only records
   the wish to stop and wakes the loop (``INT``, ``QUIT`` and ``ABRT`` keep the base
   class's handlers, which leave at once).
6. The graceful stop: finish the request in hand, stop accepting, serve what is
   already queued on the listeners within ``graceful_timeout``, return from run().
7. ``max_requests``: the inherited counter turns :attr:`alive` off; the accept task
   notices after its request and stops the loop the same way.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from minigun.workers.sync import SyncWorker


class AsyncioWorker(SyncWorker):
    """An asyncio loop accepts; each connection is served as the sync worker does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping: asyncio.Event | None = None  # made inside the loop

    def run(self) -> None:
        asyncio.run(self.serve())
        self.drain_backlog()  # the base class's: only after TERM, within its deadline

    async def serve(self) -> None:
        """Accept and beat the heartbeat until asked to stop."""
        loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, self.on_term)
        tasks = [asyncio.create_task(self.accept_loop(sock)) for sock in self.sockets]
        tasks.append(asyncio.create_task(self.heartbeat()))
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def on_term(self) -> None:
        """TERM: the base class's bookkeeping (``alive``, the drain deadline), then
        wake the loop; the request in hand, if any, has already finished."""
        self.handle_exit(signal.SIGTERM, None)
        self.stop()

    def stop(self) -> None:
        if self.stopping is not None:
            self.stopping.set()

    async def heartbeat(self) -> None:
        """Tell the master we are alive; leave if the master is gone."""
        while self.alive:
            self.notify()
            if not self.is_parent_alive():
                self.alive = False
                break
            await asyncio.sleep(self.poll_interval())
        self.stop()

    async def accept_loop(self, listener: Any) -> None:
        """Wait for a connection without blocking the loop, then serve it."""
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        while self.alive:
            sock, peer_addr = await loop.sock_accept(listener)
            sock.setblocking(True)
            try:
                self.handle(listener, sock, peer_addr)  # blocking, like the sync worker
            finally:
                sock.close()
        self.stop()  # max_requests turned alive off
