"""Worker classes: what a forked child does with its life.

``--worker-class sync`` names :class:`minigun.workers.sync.SyncWorker`; the table
below maps the short names to their dotted paths, which
:func:`minigun.util.load_class` resolves when ``Config.worker_class`` asks for the
class. Only the names: importing this package imports no worker class.
"""

from collections.abc import Mapping

SUPPORTED_WORKERS: Mapping[str, str] = {
    "sync": "minigun.workers.sync.SyncWorker",
    "gthread": "minigun.workers.gthread.ThreadWorker",
    "asgi": "minigun.workers.asgi.ASGIWorker",
}
"""Short worker-class names and the classes they stand for."""
