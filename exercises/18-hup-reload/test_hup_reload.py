"""Exercise 18: HUP re-reads the configuration and starts a new generation."""

from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog, settings, store

import minigun
from minigun import arbiter as arbiter_module
from minigun.arbiter import Arbiter
from minigun.config import Config


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture(autouse=True)
def keep_the_process_title(monkeypatch: pytest.MonkeyPatch) -> None:
    """reload() renames the process; the test runner keeps its name."""
    monkeypatch.setattr(arbiter_module.setproctitle, "setproctitle", lambda title: None)


def master_reloading_into(new_cfg: Config, calls: list[str]) -> Arbiter:
    """An arbiter on 2 workers whose app's reload() brings in ``new_cfg``."""
    old_cfg = settings(workers=2, bind=["127.0.0.1:8000"])
    store(new_cfg, on_reload=lambda server: calls.append("on_reload"))
    arbiter = Arbiter(FakeApp(old_cfg, next_cfg=new_cfg))
    arbiter.log = RecordingLog()
    arbiter.manage_workers = lambda: calls.append("manage_workers")
    arbiter.rebind = lambda: calls.append("rebind")
    return arbiter


def test_reload_runs_the_new_settings_in_a_new_generation():
    calls: list[str] = []
    new_cfg = settings(workers=4, bind=["127.0.0.1:8000"], timeout=45)
    master = master_reloading_into(new_cfg, calls)
    master.reload()
    found = {
        "app.reload() calls": master.app.reloads,
        "cfg is the new one": master.cfg is new_cfg,
        "num_workers": master.num_workers,
        "timeout": master.cfg.timeout,
        "generation": master.generation,
        "log files reopened": master.log.reopened,
    }
    expected = {
        "app.reload() calls": 1,
        "cfg is the new one": True,
        "num_workers": 4,
        "timeout": 45,
        "generation": 1,
        "log files reopened": 1,
    }
    assert found == expected, (
        f"after reload() into a config with workers=4, timeout=45: {found}; "
        f"expected {expected}"
    )
    assert calls == ["on_reload", "manage_workers"], (
        f"reload() with an unchanged bind called {calls}; expected on_reload, then "
        "manage_workers, and no rebind"
    )


def test_a_new_address_is_bound():
    calls: list[str] = []
    master = master_reloading_into(settings(bind=["127.0.0.1:9000"]), calls)
    master.reload()
    assert calls == ["rebind", "on_reload", "manage_workers"], (
        f"reload() moving the bind from 127.0.0.1:8000 to :9000 called {calls}; "
        "expected rebind first, then on_reload and manage_workers"
    )
