"""The reloader's two engines, in this process, on files in a temporary folder.

tests/integration/test_code_reload.py runs them under a real server; these pin what
each engine counts as a change, without a server in between.
"""

from __future__ import annotations

import os
import queue
import sys
import time

import pytest

from minigun import reloader
from minigun.reloader import InotifyReloader, PollReloader

WAIT = 10.0  # seconds a change may take to be seen on a loaded machine
NOTHING_SEEN = 0.5  # seconds a test waits to prove that nothing is reported


def started(engine: type[reloader.Reloader], *files) -> tuple:
    """An engine watching ``files``, running, and the queue it reports to."""
    changes: queue.Queue[str] = queue.Queue()
    watcher = engine(changes.put, [str(path) for path in files], interval=0.1)
    watcher.start()
    return watcher, changes


def save(path, text: str) -> None:
    """Write a draft beside ``path`` and rename it into place, as editors do, with
    a modification time surely unlike the last one."""
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text)
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(draft, ns=(later, later))
    os.replace(draft, path)


@pytest.mark.parametrize("engine", [PollReloader, InotifyReloader])
def test_a_saved_file_is_reported_once(tmp_path, engine):
    page = tmp_path / "page.html"
    page.write_text("1")
    watcher, changes = started(engine, page)
    save(page, "2")
    assert changes.get(timeout=WAIT) == str(page)
    watcher.join(WAIT)
    assert not watcher.is_alive(), "the watch ends at the first change"


@pytest.mark.parametrize("engine", [PollReloader, InotifyReloader])
def test_a_file_beside_a_watched_one_is_not_a_change(tmp_path, engine):
    page = tmp_path / "page.html"
    page.write_text("1")
    watcher, changes = started(engine, page)
    (tmp_path / "access.log").write_text("a log written beside the code")
    time.sleep(NOTHING_SEEN)  # proving that nothing is reported: a fixed wait
    assert changes.empty()
    watcher.stop()
    watcher.join(WAIT)
    assert not watcher.is_alive()


def test_inotify_counts_a_touch_as_poll_does(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("1")
    _watcher, changes = started(InotifyReloader, page)
    os.utime(page)
    assert changes.get(timeout=WAIT) == str(page)


def test_inotify_does_not_restart_on_a_file_moved_away(tmp_path):
    """A save that moves the old file aside first must not restart the worker
    before the new file is there."""
    page = tmp_path / "page.html"
    page.write_text("1")
    watcher, changes = started(InotifyReloader, page)
    os.replace(page, tmp_path / "page.html~")
    time.sleep(NOTHING_SEEN)  # proving that nothing is reported: a fixed wait
    assert changes.empty()
    page.write_text("2")
    assert changes.get(timeout=WAIT) == str(page)
    watcher.join(WAIT)


def test_the_engine_asked_for(monkeypatch):
    assert reloader.check_engine("poll").engine == "poll"
    assert reloader.check_engine("auto").engine == "inotify"
    assert reloader.check_engine("inotify").engine == "inotify"
    monkeypatch.setitem(sys.modules, "inotify_simple", None)
    assert reloader.check_engine("auto").engine == "poll"
    assert "minigun[inotify]" in reloader.check_engine("auto").reason
    with pytest.raises(reloader.EngineUnavailable, match="minigun\\[inotify\\]"):
        reloader.check_engine("inotify")


def test_a_worker_polls_when_inotify_fails_in_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "inotify_simple", None)
    warnings: list[str] = []
    watcher = reloader.create_reloader("inotify", print, [], warnings.append)
    assert isinstance(watcher, PollReloader)
    assert warnings and "polling" in warnings[0]
    assert isinstance(reloader.create_reloader("auto", print, [], print), PollReloader)
