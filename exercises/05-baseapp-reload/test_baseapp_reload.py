"""Exercise 5: an embedded application reloads its options dict, or keeps the old."""

from pathlib import Path
from typing import Any

import pytest
from fakes import SettingsAsGiven

import minigun
from minigun.app.base import BaseApplication
from minigun.errors import ConfigError


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"embedded"]


def first_when_ready(server: Any) -> None:
    """A hook: runs in the master once the sockets are bound."""


def second_when_ready(server: Any) -> None:
    """The hook the edited options name after the reload."""


def hook_with_no_parameters() -> None:
    """when_ready is called as hook(server): this one cannot be."""


class StandaloneApplication(BaseApplication):
    """Serve ``application`` with the settings in ``options`` (seed 001's pattern)."""

    def __init__(self, application: Any, options: dict[str, Any]) -> None:
        self.options = options
        self.application = application
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return self.application


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> StandaloneApplication:
    """An embedded application on three options; a hook of no parameters is refused.

    Config.set stores each option as given and refuses only that hook, as the real
    one (exercise 6) refuses a hook whose parameters do not fit.
    """
    SettingsAsGiven(refused=(hook_with_no_parameters,)).install(monkeypatch)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    options = {"bind": "127.0.0.1:8123", "workers": 3, "when_ready": first_when_ready}
    return StandaloneApplication(app, options)


def test_reload_applies_the_edited_options(embedded: StandaloneApplication):
    embedded.options.update(workers=5, when_ready=second_when_ready)
    embedded.reload()
    cfg = embedded.cfg
    assert (cfg.workers, cfg.when_ready) == (5, second_when_ready), (
        "options changed to workers=5, when_ready=second_when_ready; after reload() "
        f"cfg has workers={cfg.workers}, when_ready={cfg.when_ready!r}"
    )


def test_a_removed_option_falls_back_to_its_default(embedded: StandaloneApplication):
    del embedded.options["workers"]
    embedded.reload()
    assert embedded.cfg.workers == 1, (
        "the options no longer set workers; after reload() cfg.workers is "
        f"{embedded.cfg.workers}, expected the default 1 (a reload starts from fresh "
        "defaults: do_load_config)"
    )


def test_a_bad_hook_keeps_the_old_configuration(embedded: StandaloneApplication):
    before = embedded.cfg
    embedded.options.update(workers=9, when_ready=hook_with_no_parameters)
    with pytest.raises(ConfigError) as raised:
        embedded.reload()
    assert "when_ready" in str(raised.value), (
        f"reload() raised {raised.value!r}; expected the ConfigError to name when_ready"
    )
    cfg = embedded.cfg
    assert cfg is before, (
        "reload() failed on a bad hook, and app.cfg is a new, half-loaded Config; "
        "expected the Config from before the reload, untouched"
    )
    assert (cfg.workers, cfg.when_ready) == (3, first_when_ready), (
        f"after the failed reload cfg has workers={cfg.workers}, "
        f"when_ready={cfg.when_ready!r}; expected the old 3 and first_when_ready"
    )


def test_only_configuration_errors_are_caught(embedded: StandaloneApplication):
    class Broken(Exception):
        pass

    def broken_load_config() -> None:
        raise Broken("a bug in load_config")

    embedded.load_config = broken_load_config
    with pytest.raises(Broken):
        embedded.reload()
