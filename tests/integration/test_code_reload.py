"""``--reload``: a worker restarts when a source file changes, against a real server.

The application lives in a temporary folder and is edited in place, as a developer
edits it; each test waits on the log and on the answers, never on a fixed sleep.
"""

from __future__ import annotations

import os
import time

from conftest import wait_until

VERSION_1 = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"version 1"]
"""
VERSION_2 = VERSION_1.replace("version 1", "version 2")
SYNTAX_ERROR = VERSION_1.replace("def app(", "def app(:")


def edit(path, text: str) -> None:
    """Rewrite ``path`` with a modification time surely unlike the last one (a
    coarse file system could otherwise give both writes the same time, and
    Python's bytecode cache would then hold the old code)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(time.time_ns(), max(time.time_ns(), before + 1_000_000_000)))


def answer(server) -> tuple[int, bytes]:
    return server.request("/")


def test_an_edited_module_is_served_by_a_new_worker(serve, tmp_path):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve("editable_app:app", "--reload", "--pythonpath", str(tmp_path))
    assert answer(server) == (200, b"version 1")
    first_worker = server.booted_pids()[0]
    edit(module, VERSION_2)
    server.wait_for(rf"Worker reloading: {module} modified")
    wait_until(lambda: answer(server) == (200, b"version 2"), timeout=15)
    assert first_worker not in server.worker_pids()
    assert "exited with code" not in server.log.text


def test_a_syntax_error_is_reported_once_and_fixed_by_the_next_edit(serve, tmp_path):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve("editable_app:app", "--reload", "--pythonpath", str(tmp_path))
    assert answer(server) == (200, b"version 1")  # loaded: the watch has begun
    edit(module, SYNTAX_ERROR)
    server.wait_for("Failed to load the application")
    server.wait_for("SyntaxError")
    wait_until(lambda: answer(server)[0] == 500, timeout=15)
    booted = len(server.booted_pids())
    time.sleep(3)  # what a crash loop would fill with new workers; none may come
    assert len(server.booted_pids()) == booted, "a worker per second: a crash loop"
    assert server.log.text.count("Failed to load the application") == 1
    assert b"SyntaxError" not in answer(server)[1], "the reason is for the log only"
    edit(module, VERSION_2)
    wait_until(lambda: answer(server) == (200, b"version 2"), timeout=15)


def test_an_extra_file_restarts_the_workers_too(serve, tmp_path):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    template = tmp_path / "page.html"
    template.write_text("<p>1</p>")
    server = serve(
        "editable_app:app", "--reload", "--pythonpath", str(tmp_path),
        "--reload-extra-file", str(template),
    )  # fmt: skip
    assert answer(server) == (200, b"version 1")  # loaded: the watch has begun
    edit(template, "<p>2</p>")
    server.wait_for(rf"Worker reloading: {template} modified")
    server.wait_for("Booting worker", count=2)


def test_without_reload_an_edit_changes_nothing(serve, tmp_path):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve("editable_app:app", "--pythonpath", str(tmp_path))
    assert answer(server) == (200, b"version 1")
    edit(module, VERSION_2)
    time.sleep(2)  # two of the reloader's polls, had it been running
    assert answer(server) == (200, b"version 1")
    assert "reloading" not in server.log.text
