"""``--reload``: a worker restarts when a source file changes, against a real server.

The application lives in a temporary folder and is edited in place, as a developer
edits it; each test waits on the log and on the answers, never on a fixed sleep.
The tests of a change run once with each engine (``--reload-engine poll`` and
``inotify``); which engine a worker really uses is read from outside, in its open
file descriptors: an inotify instance is one, a poller has none.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import wait_until

ENGINES = ("poll", "inotify")

VERSION_1 = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"version 1"]
"""
VERSION_2 = VERSION_1.replace("version 1", "version 2")
SYNTAX_ERROR = VERSION_1.replace("def app(", "def app(:")


def edit(path, text: str) -> None:
    """Save ``path`` as many editors do: write a new file beside it and rename it
    into place. Its modification time is set, before the rename, surely unlike the
    last one (a coarse file system could otherwise give both versions the same
    time, and Python's bytecode cache would then hold the old code)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text)
    os.utime(draft, ns=(time.time_ns(), max(time.time_ns(), before + 1_000_000_000)))
    os.replace(draft, path)


def watches_with_inotify(pid: int) -> bool:
    """Whether the process holds an inotify instance (read from /proc)."""
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            links.append(os.readlink(fd))
        except OSError:  # closed in between
            continue
    return "anon_inode:inotify" in links


def without_inotify_simple(tmp_path) -> dict[str, str]:
    """An environment in which ``import inotify_simple`` fails, as where the
    ``minigun[inotify]`` extra is not installed (a ``sitecustomize`` blocks it)."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['inotify_simple'] = None\n"
    )
    return {"PYTHONPATH": str(blocker)}


def answer(server) -> tuple[int, bytes]:
    return server.request("/")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_edited_module_is_served_by_a_new_worker(serve, tmp_path, engine):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve(
        "editable_app:app", "--reload", "--reload-engine", engine,
        "--pythonpath", str(tmp_path),
    )  # fmt: skip
    server.wait_for(f"Reload engine: {engine}")
    assert answer(server) == (200, b"version 1")
    first_worker = server.booted_pids()[0]
    assert watches_with_inotify(first_worker) == (engine == "inotify")
    edit(module, VERSION_2)
    server.wait_for(rf"Worker reloading: {module} modified")
    wait_until(lambda: answer(server) == (200, b"version 2"), timeout=15)
    assert first_worker not in server.worker_pids()
    assert "exited with code" not in server.log.text


@pytest.mark.parametrize("engine", ENGINES)
def test_a_syntax_error_is_reported_once_and_fixed_by_the_next_edit(
    serve, tmp_path, engine
):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve(
        "editable_app:app", "--reload", "--reload-engine", engine,
        "--pythonpath", str(tmp_path),
    )  # fmt: skip
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


@pytest.mark.parametrize("engine", ENGINES)
def test_an_extra_file_restarts_the_workers_too(serve, tmp_path, engine):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    templates = tmp_path / "templates"  # a folder no module is in
    templates.mkdir()
    template = templates / "page.html"
    template.write_text("<p>1</p>")
    server = serve(
        "editable_app:app", "--reload", "--reload-engine", engine,
        "--pythonpath", str(tmp_path), "--reload-extra-file", str(template),
    )  # fmt: skip
    assert answer(server) == (200, b"version 1")  # loaded: the watch has begun
    first_worker = server.booted_pids()[0]
    (templates / "unwatched.txt").write_text("a file beside it changes nothing")
    edit(template, "<p>2</p>")
    server.wait_for(rf"Worker reloading: {template} modified")
    server.wait_for("Booting worker", count=2)
    assert "unwatched.txt" not in server.log.text
    assert first_worker not in server.worker_pids()


def test_inotify_asked_for_where_it_cannot_run_is_one_line_and_exit_1(
    run_to_exit, tmp_path
):
    code, output = run_to_exit(
        "--reload", "--reload-engine", "inotify", "examples.hello:app",
        env=without_inotify_simple(tmp_path),
    )  # fmt: skip
    assert code == 1, output
    assert "Traceback" not in output
    [error] = [line for line in output.splitlines() if line.startswith("Error:")]
    assert "reload_engine is 'inotify', but inotify cannot run here" in error
    assert "pip install 'minigun[inotify]'" in error
    assert "Booting worker" not in output


def test_auto_polls_where_inotify_cannot_run(serve, tmp_path):
    server = serve(
        "examples.hello:app", "--reload", env=without_inotify_simple(tmp_path)
    )
    server.wait_for(
        r"Reload engine: poll \(inotify cannot run here: .*minigun\[inotify\]"
    )
    assert not watches_with_inotify(server.booted_pids()[0])


def test_without_reload_an_edit_changes_nothing(serve, tmp_path):
    module = tmp_path / "editable_app.py"
    module.write_text(VERSION_1)
    server = serve("editable_app:app", "--pythonpath", str(tmp_path))
    assert answer(server) == (200, b"version 1")
    edit(module, VERSION_2)
    time.sleep(2)  # two of the reloader's polls, had it been running
    assert answer(server) == (200, b"version 1")
    assert "reloading" not in server.log.text
