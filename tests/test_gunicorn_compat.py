"""The shim that lets a gunicorn worker class run under minigun's arbiter."""

from __future__ import annotations

import os
import ssl

import pytest
from gunicorn.workers.base import Worker as GunicornWorker

from exercises.fakes import FakeApp, RecordingLog
from minigun.config import Config
from minigun.sock import TCPSocket
from minigun.workers.gunicorn_compat import GunicornConfig, GunicornWorkerShim, adapt
from minigun.workers.sync import SyncWorker
from minigun.workers.workertmp import WorkerTmp

pytestmark = pytest.mark.timeout(10)


class ThirdPartyWorker(GunicornWorker):
    """What uvicorn-worker's class is: a subclass of gunicorn's Worker."""


def test_a_minigun_worker_and_any_other_class_are_left_alone():
    assert adapt(SyncWorker) is SyncWorker
    assert adapt(dict) is dict


def test_config_resolves_a_gunicorn_worker_class_behind_the_shim():
    cfg = Config()
    cfg.set("worker_class", f"{__name__}.ThirdPartyWorker")
    worker_class = cfg.worker_class
    assert issubclass(worker_class, GunicornWorkerShim)
    assert issubclass(worker_class, ThirdPartyWorker)
    assert worker_class.__name__ == "ThirdPartyWorker"


def test_the_shimmed_worker_gets_what_minigun_and_gunicorn_each_read():
    cfg = Config()
    cfg.set("bind", ["127.0.0.1:0"])
    listener = TCPSocket(("127.0.0.1", 0), cfg)
    worker = adapt(ThirdPartyWorker)(
        1, os.getpid(), [listener], FakeApp(cfg), 30, cfg, RecordingLog()
    )
    try:
        assert worker.sockets == [
            listener.sock
        ]  # plain sockets, as gunicorn hands them
        assert worker.timeout == 15  # half, as gunicorn's arbiter hands it
        assert isinstance(worker.tmp, WorkerTmp)  # the master asks it has_notified()
        assert not worker.tmp.has_notified()
        assert callable(worker.run_in_child)
        assert worker.cfg.settings["backlog"].value == cfg.backlog
        assert worker.cfg.initgroups is False
        assert worker.cfg.keepalive == cfg.keepalive
    finally:
        worker.tmp.close()
        listener.close()


def test_gunicorns_tls_options_come_from_minigun_settings(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not read here")
    key.write_text("not read here")
    cfg = Config()
    cfg.set("certfile", str(cert))
    cfg.set("keyfile", str(key))
    options = GunicornConfig(cfg).ssl_options
    assert options["certfile"] == str(cert)
    assert options["keyfile"] == str(key)
    assert options["ssl_version"] == ssl.PROTOCOL_TLS_SERVER
