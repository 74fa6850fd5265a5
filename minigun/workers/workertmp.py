"""The heartbeat file: how a worker tells the master "I am still alive".

A worker busy in a request cannot answer questions, and a pipe per worker would need
reading. Instead each worker owns an unlinked temporary file and touches it
(:meth:`WorkerTmp.notify`) whenever its loop comes round; the master only reads the
file's modification time (:meth:`WorkerTmp.last_update`). A worker whose time stops
moving for ``timeout`` seconds is stuck, and gets killed.

The file is created by the master *before* the fork with its time set to zero, which
means "has not notified yet". The worker's first ``notify()`` happens when it has
finished booting, so the master also learns from this one file when a worker is ready
(minigun uses that to retire old workers only once new ones can serve).
"""

from __future__ import annotations

import os
import tempfile

NEVER_NOTIFIED = 0.0
CLOSED = -1  # the descriptor after close()


class WorkerTmp:
    """An anonymous file whose mtime is the worker's last sign of life."""

    def __init__(
        self, tmp_dir: str | None = None, uid: int | None = None, gid: int | None = None
    ) -> None:
        """Create the file in the master; hand it to the worker's ``uid``/``gid``,
        so a worker that drops privileges may still touch it."""
        fd, name = tempfile.mkstemp(prefix="minigun-", dir=tmp_dir)
        os.unlink(name)  # nobody needs the name: master and worker share the descriptor
        self._fd = fd
        os.utime(self._fd, (NEVER_NOTIFIED, NEVER_NOTIFIED))
        if (uid, gid) != (None, None) and (uid, gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)

    def notify(self) -> None:
        """Move the file's modification time to now.

        ``utime`` with no explicit times only needs write permission, not ownership.
        """
        os.utime(self._fd)

    def last_update(self) -> float:
        """Seconds since the epoch of the last :meth:`notify` (0.0 if none yet)."""
        return os.fstat(self._fd).st_mtime

    def has_notified(self) -> bool:
        """Whether the worker has notified at least once, i.e. finished booting."""
        return self.last_update() != NEVER_NOTIFIED

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        """Close the descriptor once; a second call does nothing (so a number the
        process has reused since is never closed by mistake)."""
        if self._fd != CLOSED:
            os.close(self._fd)
            self._fd = CLOSED
