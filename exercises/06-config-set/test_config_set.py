"""Exercise 6: every value enters the registry through ``Config.set``, validated."""

from pathlib import Path

import pytest

import minigun
from minigun.config import Config
from minigun.errors import ConfigError


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def cfg(monkeypatch: pytest.MonkeyPatch) -> Config:
    """A fresh registry, holding its defaults."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return Config()


def set_and_catch(cfg: Config, name: str, value: object) -> ConfigError:
    try:
        cfg.set(name, value)
    except ConfigError as error:
        return error
    pytest.fail(
        f"cfg.set({name!r}, {value!r}) returned and stored {cfg.values.get(name)!r}; "
        "expected a ConfigError"
    )


def test_a_value_is_stored_as_its_validator_returns_it(cfg: Config):
    cfg.set("workers", "4")
    assert cfg.workers == 4, (
        f"cfg.set('workers', '4') then cfg.workers gave {cfg.workers!r}; expected the "
        "validated int 4, not the raw string"
    )
    cfg.set("bind", "127.0.0.1:9000")
    assert cfg.bind == ["127.0.0.1:9000"], (
        f"cfg.set('bind', '127.0.0.1:9000') gave {cfg.bind!r}; expected a list"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [("many", "expected a whole number"), (0, "must be 1 or more")],
)
def test_a_bad_value_is_one_line_naming_setting_value_and_reason(
    cfg: Config, value: object, reason: str
):
    message = str(set_and_catch(cfg, "workers", value))
    expected = f"Invalid value for workers: {value!r}: {reason}"
    assert message == expected, (
        f"cfg.set('workers', {value!r}) said {message!r}; expected {expected!r}"
    )


def test_a_value_of_the_wrong_type_is_a_config_error_too(cfg: Config):
    message = str(set_and_catch(cfg, "workers", [4]))
    assert message.startswith("Invalid value for workers: [4]"), (
        f"cfg.set('workers', [4]) said {message!r}; the validator raises TypeError "
        "here, which must become the same one-line ConfigError as a ValueError"
    )


def test_the_error_hides_the_validators_traceback(cfg: Config):
    error = set_and_catch(cfg, "timeout", "soon")
    assert error.__suppress_context__ and error.__cause__ is None, (
        "the ConfigError for cfg.set('timeout', 'soon') is chained to the "
        "validator's error; raise it `from None`, so the user reads one line"
    )


def test_an_unknown_setting_is_named(cfg: Config):
    message = str(set_and_catch(cfg, "wokers", 4))
    assert message == "No such setting: wokers", (
        f"cfg.set('wokers', 4) said {message!r}; expected 'No such setting: wokers'"
    )


def test_a_bad_value_leaves_the_old_one(cfg: Config):
    cfg.set("workers", 3)
    set_and_catch(cfg, "workers", "many")
    assert cfg.workers == 3, (
        f"after a rejected cfg.set('workers', 'many'), cfg.workers is {cfg.workers!r}; "
        "expected the 3 set before"
    )


def test_a_hook_is_checked_for_its_parameters(cfg: Config):
    def when_ready() -> None:
        """Called as when_ready(server): one parameter short."""

    message = str(set_and_catch(cfg, "when_ready", when_ready))
    assert "when_ready" in message and "1 parameters (server)" in message, (
        f"cfg.set('when_ready', <a function of no parameters>) said {message!r}; "
        "expected it to name the hook and the parameters it must accept"
    )
