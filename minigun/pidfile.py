"""The pidfile: one file that names the running master.

Operators and init scripts find the master through it (``kill -HUP $(cat app.pid)``).
Rules: refuse to start over a pidfile whose process is alive; write the file in one
``rename`` so a reader never sees half a number; and remove it on the way out only if
it still holds *our* pid (after a USR2 upgrade the new master owns the name).
"""

from __future__ import annotations

import errno
import os
import tempfile

from minigun.errors import HaltServer


class Pidfile:
    """A pidfile at ``path``: :meth:`create` writes it, :meth:`unlink` removes it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid: int | None = None

    def create(self, pid: int) -> None:
        """Write ``pid``, or halt if another live process already holds the file, or
        if the file cannot be written (a folder that does not exist, no permission)."""
        old_pid = self.validate()
        if old_pid is not None and old_pid != pid:
            raise HaltServer(
                f"Already running on PID {old_pid} (or pid file '{self.path}' is stale)"
            )
        self.pid = pid
        try:
            self._write(pid)
        except OSError as error:
            raise HaltServer(
                f"Cannot write the pid file {self.path!r}: {error.strerror or error}"
            ) from None

    def rename(self, path: str) -> None:
        """Move our pidfile to ``path`` (a USR2's new master takes the old name)."""
        self.unlink()
        self.path = path
        if self.pid is not None:
            self.create(self.pid)

    def unlink(self) -> None:
        """Remove the file, but only if it still names our process."""
        try:
            with open(self.path) as file:
                written = int(file.read().strip() or 0)
            if written == self.pid:
                os.unlink(self.path)
        except (OSError, ValueError):
            pass

    def validate(self) -> int | None:
        """The pid in the file if that process is alive, else ``None``."""
        try:
            with open(self.path) as file:
                pid = int(file.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except OSError as error:
            if error.errno == errno.ESRCH:
                return None
            if error.errno == errno.EPERM:
                return pid
            raise
        return pid

    def _write(self, pid: int) -> None:
        """Write atomically: a temporary file in the same folder, then ``rename``."""
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, tmp_path = tempfile.mkstemp(dir=folder, prefix=".minigun-pid-")
        with os.fdopen(fd, "w") as file:
            file.write(f"{pid}\n")
        os.chmod(tmp_path, 0o644)
        os.rename(tmp_path, self.path)
