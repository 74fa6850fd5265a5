"""Socket activation: the sockets systemd opens for the server (sd_listen_fds(3)).

With a socket unit, systemd binds the listener itself, before the service starts,
and starts the server with the socket already open at descriptor 3 (then 4, 5, ...
if there are more). Two environment variables say so: ``LISTEN_FDS``, how many,
and ``LISTEN_PID``, the process they are meant for, so that a child that inherits
the environment does not take them for its own.

gunicorn has this module too, with ``sd_notify`` beside it; minigun does not tell
systemd when it is ready (a unit for minigun is ``Type=simple``).
"""

from __future__ import annotations

import os

SD_LISTEN_FDS_START = 3  # the first inherited descriptor, after stdin, stdout, stderr


def listen_fds() -> list[int] | None:
    """The descriptors systemd passed to this process, or ``None`` if it passed none.

    The two variables are removed, as ``sd_listen_fds(1)`` does, so that neither the
    workers nor a master started by USR2 mistake the sockets for their own.
    """
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = int(os.environ.pop("LISTEN_FDS", "0"))
    del os.environ["LISTEN_PID"]
    return list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + count))
