"""A FastAPI app and a Starlette app, served by the asgi worker in the tests.

Side effects the tests look for from outside go to the file named by the environment
variable ``ASGI_EVENTS`` (set with ``-e``): one line per lifespan event, background
task and stream that ended, each with the worker's pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def record(event: str) -> None:
    """Append ``event`` and the pid to the events file (one write: one line)."""
    with Path(os.environ["ASGI_EVENTS"]).open("a") as events:
        events.write(f"{event} {os.getpid()}\n")


@contextlib.asynccontextmanager
async def lifespan(app):
    record("startup")
    if os.environ.get("ASGI_FAIL_STARTUP"):
        raise RuntimeError("the database is not there")
    yield {"greeting": "hello from the lifespan"}
    record("shutdown")


app = FastAPI(lifespan=lifespan)


@app.get("/json")
async def json_route(request: Request) -> dict:
    return {"ok": True, "items": [1, 2, 3], "greeting": request.state.greeting}


@app.get("/", response_class=PlainTextResponse)
async def pid_as_text() -> str:
    return str(os.getpid())


@app.get("/pid")
async def pid() -> dict:
    return {"pid": os.getpid()}


@app.get("/scope")
async def scope(request: Request) -> dict:
    return {
        "root_path": request.scope["root_path"],
        "path": request.scope["path"],
        "scheme": request.scope["scheme"],
        "client": request.scope["client"][0],
    }


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def pieces():
        for n in range(5):
            yield f"piece {n}\n".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(pieces(), media_type="text/plain")


@app.get("/forever")
async def forever() -> StreamingResponse:
    async def pieces():
        try:
            while True:
                yield b"tick\n" * 100
                await asyncio.sleep(0.02)
        finally:
            record("stream closed")

    return StreamingResponse(pieces(), media_type="text/plain")


@app.post("/upload")
async def upload(request: Request) -> dict:
    digest = hashlib.sha256()
    size = 0
    async for piece in request.stream():
        digest.update(piece)
        size += len(piece)
    return {"bytes": size, "sha256": digest.hexdigest()}


@app.post("/background")
async def background(tasks: BackgroundTasks, name: str) -> dict:
    async def later() -> None:
        await asyncio.sleep(0.2)
        record(f"background {name}")

    tasks.add_task(later)
    return {"queued": name}


@app.get("/slow")
async def slow(sleep: float) -> dict:
    await asyncio.sleep(sleep)
    return {"slept": sleep, "pid": os.getpid()}


@app.get("/block")
def block_the_loop_by_mistake(seconds: float) -> dict:
    """A sync route: FastAPI runs it in a thread pool, so the loop stays free."""
    time.sleep(seconds)
    return {"blocked": seconds}


@app.get("/block-async")
async def block_in_a_coroutine(seconds: float) -> dict:
    """The mistake the worker must detect: a blocking call in a coroutine."""
    time.sleep(seconds)
    return {"blocked": seconds}


async def hello(request):
    return PlainTextResponse(f"hello from starlette, {request.state.greeting}")


async def echo(request):
    body = await request.body()
    return JSONResponse({"length": len(body), "method": request.method})


starlette_app = Starlette(
    routes=[Route("/", hello), Route("/echo", echo, methods=["POST"])],
    lifespan=lifespan,
)
