"""The reloader: a worker restarts when a source file it runs has changed.

The chapter's question (the worker's life cycle, under ``--reload``): how does a
server pick up edited code during development without anyone sending ``HUP``?
Each worker watches the files of the modules it has imported, and when one
changes it stops, like a worker retiring after ``max_requests``: the master sees
an ordinary exit and forks a replacement, which imports the new code.

Rules of this module:

- Polling, from the standard library only: every ``interval`` seconds the
  modification time of each watched file is read again. A file that appears in
  ``sys.modules`` later (a lazy import) is watched from then on.
- The watch ends at the first change: one restart per edit, however many files
  the editor touched.
- It runs in a thread of the worker, started after the application is loaded,
  so its baseline is the code the worker actually runs.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable

POLL_INTERVAL = 1.0  # seconds between two looks at the files' modification times


class Reloader(threading.Thread):
    """Watch the loaded modules' files and ``extra_files``; call ``on_change``
    with the first one that changes, then stop.

    A daemon thread: a worker leaving for any other reason does not wait for it.
    """

    def __init__(
        self,
        on_change: Callable[[str], None],
        extra_files: Iterable[str] = (),
        interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__(name="minigun-reloader", daemon=True)
        self.on_change = on_change
        self.extra_files = [os.path.abspath(path) for path in extra_files]
        self.interval = interval
        self.stopped = threading.Event()
        self.mtimes = self.snapshot()

    def watched_files(self) -> set[str]:
        """The source file of every imported module, and the extra files."""
        files = set(self.extra_files)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                files.add(os.path.abspath(path))
        return files

    def snapshot(self) -> dict[str, int | None]:
        """Each watched file's modification time (``None``: it does not exist)."""
        return {path: _mtime(path) for path in self.watched_files()}

    def changed_file(self) -> str | None:
        """The first file whose modification time moved since the last look."""
        current = self.snapshot()
        for path, mtime in current.items():
            if path in self.mtimes and self.mtimes[path] != mtime:
                return path
        self.mtimes.update(current)  # files imported since: watched from now on
        return None

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            path = self.changed_file()
            if path is not None:
                self.on_change(path)
                return

    def stop(self) -> None:
        self.stopped.set()


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
