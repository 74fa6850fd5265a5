"""Running a gunicorn worker class under minigun's arbiter.

The chapter's question: a third-party worker class, such as uvicorn-worker's
``uvicorn_worker.UvicornWorker``, subclasses *gunicorn's* ``Worker``, not minigun's.
What does it take for minigun's master to fork one and keep it?

Three small bridges, made when ``Config.worker_class`` resolves the class
(:func:`adapt`):

- **The child's side of the fork.** minigun's master calls
  ``worker.run_in_child(server, inherited)``, which gunicorn's ``Worker`` lacks.
  :class:`GunicornWorkerShim` lends it minigun's own (with the few methods it
  calls), so the child forgets its master, runs ``post_fork``, boots and exits with
  the same codes as any minigun worker; the rest of the life (``init_process``, the
  signals, the loop) is gunicorn's and the third party's, untouched.
- **The config.** gunicorn's worker reads ``cfg.settings[name].value``,
  ``cfg.ssl_options`` and settings minigun does not have (``initgroups``,
  ``reload``); :class:`GunicornConfig` answers those, and everything else from
  minigun's config.
- **What the master reads back.** The heartbeat file is minigun's
  (:class:`~minigun.workers.workertmp.WorkerTmp`, which the master asks whether a
  worker has booted), the listeners are the plain sockets gunicorn's workers take,
  and the ``timeout`` handed over is half the setting, as gunicorn's arbiter hands
  it: such a worker notifies once per that period, and must not be taken for dead.

The cost: gunicorn is installed (the third-party package requires it anyway), the
shim reads a few of gunicorn's attribute names, and what the third-party worker does
with requests (its own parser, its own access log format) is not minigun's.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from minigun.config import Config
from minigun.workers import base
from minigun.workers.workertmp import WorkerTmp

#: gunicorn settings its ``Worker`` reads that minigun does not have, and the value
#: that means "not used".
GUNICORN_ONLY_VALUES: dict[str, Any] = {
    "initgroups": False,
    "reload": False,
    "reload_engine": "auto",
    "reload_extra_files": [],
}


def gunicorn_worker_base() -> type | None:
    """gunicorn's ``Worker`` class, if gunicorn is installed."""
    try:
        from gunicorn.workers.base import Worker  # noqa: PLC0415 (optional)
    except ImportError:
        return None
    worker_class: type = Worker
    return worker_class


def adapt(worker_class: type) -> type:
    """``worker_class`` as minigun's arbiter can run it: a minigun worker as it is,
    a gunicorn worker with :class:`GunicornWorkerShim` in front of it."""
    gunicorn_worker = gunicorn_worker_base()
    if issubclass(worker_class, base.Worker) or gunicorn_worker is None:
        return worker_class
    if not issubclass(worker_class, gunicorn_worker):
        return worker_class
    namespace = {"__module__": worker_class.__module__, "__doc__": worker_class.__doc__}
    return type(worker_class.__name__, (GunicornWorkerShim, worker_class), namespace)


class GunicornConfig:
    """minigun's config, read the way gunicorn's ``Worker`` reads its own."""

    def __init__(self, cfg: Config) -> None:
        self.minigun_cfg = cfg

    def __getattr__(self, name: str) -> Any:
        if name in GUNICORN_ONLY_VALUES:
            return GUNICORN_ONLY_VALUES[name]
        return getattr(self.minigun_cfg, name)

    @property
    def settings(self) -> dict[str, SimpleNamespace]:
        """gunicorn's ``cfg.settings[name].value``."""
        return {
            name: SimpleNamespace(value=value)
            for name, value in self.minigun_cfg.values.items()
        }

    @property
    def ssl_options(self) -> dict[str, Any]:
        """gunicorn's TLS settings in one dict, from minigun's."""
        import ssl  # noqa: PLC0415 (a server without TLS never loads it)

        cfg = self.minigun_cfg
        return {
            "keyfile": cfg.keyfile,
            "certfile": cfg.certfile,
            "password": None,
            "ssl_version": ssl.PROTOCOL_TLS_SERVER,
            "cert_reqs": cfg.cert_reqs,
            "ca_certs": cfg.ca_certs,
            "ciphers": cfg.ciphers,
        }


class GunicornWorkerShim:
    """Put in front of a gunicorn worker class: minigun's side of the fork."""

    # Borrowed from minigun's Worker: the child's life around init_process.
    run_in_child = base.Worker.run_in_child
    forget_master_state = base.Worker.forget_master_state
    call_hook = base.Worker.call_hook
    call_hook_or_raise = base.Worker.call_hook_or_raise

    def __init__(
        self,
        age: int,
        ppid: int,
        sockets: list[Any],
        app: Any,
        timeout: float,
        cfg: Config,
        log: Any,
    ) -> None:
        plain_sockets = [listener.sock for listener in sockets]
        gunicorn_cfg = GunicornConfig(cfg)
        super().__init__(  # type: ignore[call-arg]  # gunicorn's Worker.__init__
            age, ppid, plain_sockets, app, timeout / 2, gunicorn_cfg, log
        )
        self.tmp.close()  # type: ignore[has-type]  # gunicorn's heartbeat file
        self.tmp = WorkerTmp(cfg.worker_tmp_dir, cfg.uid, cfg.gid)
