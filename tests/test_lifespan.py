"""The lifespan call, in-process: what each answer (or none) means in each mode."""

from __future__ import annotations

import asyncio

import pytest

from exercises.fakes import RecordingLog
from minigun.workers.lifespan import Lifespan

pytestmark = pytest.mark.timeout(10)


def lifespan_app(startup_answer: str | None, events: list[str]):
    """An app that answers startup with ``startup_answer`` (``None``: raise)."""

    async def app(scope, receive, send):
        if scope["type"] != "lifespan":
            return
        events.append((await receive())["type"])
        if startup_answer is None:
            raise RuntimeError("no lifespan here")
        scope["state"]["ready"] = True
        await send({"type": startup_answer, "message": "db down"})
        events.append((await receive())["type"])
        await send({"type": "lifespan.shutdown.complete"})

    return app


def run(app, mode: str) -> tuple[bool, Lifespan, RecordingLog]:
    log = RecordingLog()

    async def main() -> tuple[bool, Lifespan]:
        lifespan = Lifespan(app, mode, log)
        started = await lifespan.startup()
        if started:
            await lifespan.shutdown(timeout=5)
        return started, lifespan

    started, lifespan = asyncio.run(main())
    return started, lifespan, log


def test_startup_then_shutdown_and_the_state_the_app_left():
    events: list[str] = []
    started, lifespan, log = run(
        lifespan_app("lifespan.startup.complete", events), "on"
    )
    assert started
    assert events == ["lifespan.startup", "lifespan.shutdown"]
    assert lifespan.state == {"ready": True}
    assert ("info", "Application shutdown complete.") in log.lines


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_startup_failed_is_a_failure_in_every_mode(mode):
    started, _, log = run(lifespan_app("lifespan.startup.failed", []), mode)
    assert not started
    assert ("error", "Application startup failed: db down") in log.lines


def test_an_app_without_lifespan_is_served_in_auto_mode_only():
    assert run(lifespan_app(None, []), "auto")[0]
    started, _, log = run(lifespan_app(None, []), "on")
    assert not started
    assert log.lines[-1][0] == "error"
    assert "no lifespan here" in log.lines[-1][1]


def test_off_never_calls_the_app():
    events: list[str] = []
    started, lifespan, _ = run(lifespan_app("lifespan.startup.complete", events), "off")
    assert started
    assert events == []
    assert lifespan.call is None
