"""Exercise 11: the WSGI call, its body written out and always closed (PEP 3333)."""

import io
import os
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeApp, RecordingLog, never_retire

import minigun
from minigun.config import Config
from minigun.http.wsgi import FileWrapper
from minigun.workers.handler import RequestHandler
from minigun.workers.sync import SyncWorker

ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class AppBroke(Exception):
    """What a failing body raises (not RuntimeError: NotImplementedError is one)."""


class FakeResponse:
    """The response as the application sees it: every call recorded in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def start_response(self, status: str, headers: list, exc_info: Any = None) -> Any:
        self.events.append(("start_response", status))
        write = self.write  # PEP 3333: start_response hands back a write callable
        return write

    def write(self, data: bytes) -> None:
        self.events.append(("write", data))

    def write_file(self, wrapper: FileWrapper) -> None:
        self.events.append(("write_file", wrapper))

    def close(self) -> None:
        self.events.append(("close", None))


class ClosingBody:
    """A body with ``close()``, like a framework's streaming response."""

    def __init__(self, events: list, chunks: list[bytes], fail: bool = False) -> None:
        self.events, self.chunks, self.fail = events, chunks, fail

    def __iter__(self):
        yield from self.chunks
        if self.fail:
            raise AppBroke("the body failed half-way")

    def close(self) -> None:
        self.events.append(("body.close", None))


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch):
    never_retire(monkeypatch)
    cfg = Config()
    sync_worker = SyncWorker(1, os.getpid(), [], FakeApp(cfg), 30, cfg, RecordingLog())
    yield sync_worker
    sync_worker.tmp.close()


def serve(worker: SyncWorker, make_body) -> FakeResponse:
    resp = FakeResponse()
    calls = []

    def application(environ: dict, start_response: Any) -> Any:
        calls.append((environ, start_response))
        start_response("200 OK", [])
        return make_body(resp.events)

    RequestHandler(worker, application).run_app(resp, ENVIRON)
    assert calls == [(ENVIRON, resp.start_response)], (
        f"the application was called as {calls}; expected once, with the environ "
        "and resp.start_response"
    )
    return resp


def test_each_chunk_is_written_in_order_then_the_response_closed(worker):
    resp = serve(worker, lambda events: [b"hel", b"", b"lo"])
    expected = [
        ("start_response", "200 OK"),
        ("write", b"hel"),
        ("write", b""),
        ("write", b"lo"),
        ("close", None),
    ]
    assert resp.events == expected, (
        f"the response saw {resp.events}; expected {expected}"
    )


def test_the_bodys_close_is_called_after_the_response(worker):
    resp = serve(worker, lambda events: ClosingBody(events, [b"x"]))
    assert resp.events[-2:] == [("close", None), ("body.close", None)], (
        f"the response saw {resp.events}; expected the response's close() and then "
        "the body's own close()"
    )


def test_the_bodys_close_is_called_even_when_iterating_fails(worker):
    resp = FakeResponse()

    def application(environ, start_response):
        return ClosingBody(resp.events, [b"x"], fail=True)

    with pytest.raises(AppBroke):
        RequestHandler(worker, application).run_app(resp, ENVIRON)
    assert ("body.close", None) in resp.events, (
        f"iterating the body raised; the calls were {resp.events}; expected the body's "
        "close() anyway (PEP 3333: frameworks release resources there)"
    )
    assert ("close", None) not in resp.events, (
        "iterating the body raised, yet the response's close() was called: a response "
        "cut short must not be finished as if it were whole"
    )


def test_a_file_wrapper_goes_out_with_write_file(worker):
    wrapper = FileWrapper(io.BytesIO(b"a file"))
    resp = serve(worker, lambda events: wrapper)
    assert ("write_file", wrapper) in resp.events, (
        f"the application returned a FileWrapper; the response saw {resp.events}; "
        "expected resp.write_file(wrapper), so a real file can use sendfile"
    )
    assert all(name != "write" for name, _ in resp.events), (
        f"a FileWrapper was also iterated into resp.write: {resp.events}"
    )
