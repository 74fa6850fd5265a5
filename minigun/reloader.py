"""The reloader: a worker restarts when a source file it runs has changed.

The chapter's question (the worker's life cycle, under ``--reload``): how does a
server pick up edited code during development without anyone sending ``HUP``?
Each worker watches the files of the modules it has imported, and when one
changes it stops, like a worker retiring after ``max_requests``: the master sees
an ordinary exit and forks a replacement, which imports the new code.

Rules of this module:

- One interface, two engines. :class:`Reloader` knows *what* to watch (the file of
  every module in ``sys.modules``, and the extra files) and runs in a thread of
  the worker; an engine knows *how* to notice a change. :class:`PollReloader`
  reads each file's modification time once a second, from the standard library
  alone. :class:`InotifyReloader` asks the kernel (Linux's inotify, through the
  small ``inotify_simple`` library, the ``minigun[inotify]`` extra) to wake it when
  a watched folder changes, so it costs nothing while nothing changes and sees an
  edit at once.
- ``reload_engine`` picks one: ``poll``, ``inotify``, or ``auto`` (inotify where it
  can run, else poll), as in gunicorn. :func:`check_engine` runs in the master at
  start-up, so an engine asked for by name that cannot run here is one line and
  exit 1, never a worker failing to boot.
- A file that appears in ``sys.modules`` later (a lazy import) is watched from
  then on, by both engines.
- The watch ends at the first change: one restart per edit, however many files
  the editor touched.
- It starts after the application is loaded, so its baseline is the code the
  worker actually runs.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

POLL_INTERVAL = 1.0  # seconds between two looks at the files (poll), or at sys.modules
INSTALL_HINT = "pip install 'minigun[inotify]'"


class EngineUnavailable(Exception):
    """The inotify engine cannot run here; the message says why."""


class Reloader(threading.Thread):
    """Watch the loaded modules' files and ``extra_files``; call ``on_change``
    with the first one that changes, then stop.

    What to watch is decided here; how a change is noticed is the engine's
    :meth:`wait_for_change`. A daemon thread: a worker leaving for any other reason
    does not wait for it.
    """

    engine = "none"

    def __init__(
        self,
        on_change: Callable[[str], None],
        extra_files: Iterable[str] = (),
        interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__(name=f"minigun-reloader-{self.engine}", daemon=True)
        self.on_change = on_change
        self.extra_files = [os.path.abspath(path) for path in extra_files]
        self.interval = interval
        self.stopped = threading.Event()
        self.begin_watching()

    def begin_watching(self) -> None:
        """Take the engine's first look at the files. In the constructor, not in the
        thread: a change made while the thread is starting must still count."""
        raise NotImplementedError

    def watched_files(self) -> set[str]:
        """The source file of every imported module, and the extra files."""
        files = set(self.extra_files)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                files.add(os.path.abspath(path))
        return files

    def run(self) -> None:
        path = self.wait_for_change()
        if path is not None:
            self.on_change(path)

    def wait_for_change(self) -> str | None:
        """Block until a watched file changes and return it; ``None`` once stopped."""
        raise NotImplementedError

    def stop(self) -> None:
        self.stopped.set()


class PollReloader(Reloader):
    """Read every watched file's modification time each ``interval`` seconds."""

    engine = "poll"

    def begin_watching(self) -> None:
        self.mtimes = self.snapshot()

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

    def wait_for_change(self) -> str | None:
        while not self.stopped.wait(self.interval):
            path = self.changed_file()
            if path is not None:
                return path
        return None


class InotifyReloader(Reloader):
    """Let the kernel report changes in the folders that hold the watched files.

    A folder is watched, not each file: an editor often saves by writing a new
    file and renaming it over the old one, and a watch on the old file would
    follow it away. An event counts only when it names a watched file, so a log
    file or a ``.pyc`` written beside the code restarts nothing.
    """

    engine = "inotify"
    CHANGES = ("CLOSE_WRITE", "MOVED_TO", "ATTRIB")
    """Written and closed, renamed into place, touched. Not created, deleted or
    renamed away: those come first in a save (a new file opened, an old one moved
    aside) and the new content after them; a restart then would import a file
    half written or not there yet."""

    def begin_watching(self) -> None:
        self.inotify_simple = _import_inotify_simple()
        try:
            self.inotify = self.inotify_simple.INotify()
        except OSError as error:  # EMFILE: the user's inotify instances are used up
            raise EngineUnavailable(f"no inotify instance: {error}") from error
        flags = self.inotify_simple.flags
        self.mask = 0
        for name in self.CHANGES:
            self.mask |= flags[name]
        self.folders: dict[int, str] = {}  # watch descriptor -> folder
        self.files: set[str] = set()
        self.watch_new_files()

    def watch_new_files(self) -> None:
        """Add the folders of files imported since the last call."""
        files = self.watched_files()
        watched_folders = set(self.folders.values())
        for folder in {os.path.dirname(path) for path in files - self.files}:
            if folder in watched_folders:
                continue
            try:
                descriptor = self.inotify.add_watch(folder, self.mask)
            except OSError:  # gone, or the watch limit reached: nothing to see there
                continue
            self.folders[descriptor] = folder
            watched_folders.add(folder)
        self.files = files

    def wait_for_change(self) -> str | None:
        timeout_ms = int(self.interval * 1000)
        try:
            while not self.stopped.is_set():
                for event in self.inotify.read(timeout=timeout_ms):
                    folder = self.folders.get(event.wd)
                    path = os.path.join(folder, event.name) if folder else None
                    if path in self.files:
                        return path
                self.watch_new_files()
            return None
        finally:
            self.inotify.close()


@dataclass(frozen=True)
class EngineChoice:
    """The engine a worker will use, and why, for the master's log line."""

    engine: str  # "poll" or "inotify"
    reason: str


def check_engine(requested: str) -> EngineChoice:
    """The engine ``reload_engine`` gets on this machine, checked in the master.

    ``auto`` falls back to polling when inotify cannot run.

    Raises:
        EngineUnavailable: ``inotify`` was asked for by name and cannot run.
    """
    if requested == "poll":
        return EngineChoice("poll", "asked for")
    try:
        _import_inotify_simple().INotify().close()
    except (EngineUnavailable, OSError) as error:
        if requested == "inotify":
            raise EngineUnavailable(str(error)) from error
        return EngineChoice("poll", f"inotify cannot run here: {error}")
    return EngineChoice("inotify", f"{requested}: the kernel's inotify")


def create_reloader(
    requested: str,
    on_change: Callable[[str], None],
    extra_files: Iterable[str],
    warn: Callable[[str], None],
) -> Reloader:
    """A reloader of the engine ``reload_engine`` asks for, in the worker.

    The master checked the engine at start-up (:func:`check_engine`). If inotify
    fails here all the same (this user's inotify instances used up by other
    programs since), the worker polls rather than fail to boot, and says so.
    """
    if requested != "poll":
        try:
            return InotifyReloader(on_change, extra_files)
        except EngineUnavailable as error:
            if requested == "inotify":
                warn(f"inotify cannot run in this worker ({error}); polling")
    return PollReloader(on_change, extra_files)


def _import_inotify_simple() -> ModuleType:
    """The optional library, imported only when the inotify engine is wanted."""
    try:
        import inotify_simple  # noqa: PLC0415 (optional: the minigun[inotify] extra)
    except ImportError as error:
        raise EngineUnavailable(f"{error} ({INSTALL_HINT})") from error
    return inotify_simple


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
