"""Worker classes: what a forked child does with its life.

``--worker-class sync`` names :class:`minigun.workers.sync.SyncWorker`; the table
below maps the short names to their dotted paths, which ``Config.worker_class`` loads.
"""

SUPPORTED_WORKERS = {
    "sync": "minigun.workers.sync.SyncWorker",
    "gthread": "minigun.workers.gthread.ThreadWorker",
}
