"""Exercise 4: the sources of a setting, from the weakest to the strongest."""

import sys
from pathlib import Path

import pytest
from fakes import SettingsAsGiven

import minigun
from minigun.app.base import Application
from minigun.app.wsgiapp import WSGIApplication


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory and environment; sys.path restored afterwards.

    Config.set stores each value as given, unconverted (``--workers 7`` stays the
    string ``"7"``): the real one is exercise 6, and these tests are about which
    source wins, not about validation.
    """
    SettingsAsGiven().install(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("MINIGUN_CMD_ARGS", "WEB_CONCURRENCY", "PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def settings_of(argv: list[str]):
    """The configuration ``minigun ARGV`` would run with."""
    return WSGIApplication(argv=argv).cfg


def test_command_line_beats_environment_beats_file_beats_default(
    folder: Path, monkeypatch: pytest.MonkeyPatch
):
    config = folder / "server.conf.py"
    config.write_text("workers = 3\ntimeout = 40\ngraceful_timeout = 11\n")
    monkeypatch.setenv("MINIGUN_CMD_ARGS", "--workers 5 --timeout 50")
    argv = ["-c", str(config), "--workers", "7", "app:app"]
    cfg = settings_of(argv)
    found = {
        "workers": cfg.workers,
        "timeout": cfg.timeout,
        "graceful_timeout": cfg.graceful_timeout,
        "keepalive": cfg.keepalive,
    }
    expected = {
        "workers": "7",  # command line, over MINIGUN_CMD_ARGS's 5 and the file's 3
        "timeout": "50",  # MINIGUN_CMD_ARGS, over the file's 40
        "graceful_timeout": 11,  # the file, over the default 30
        "keepalive": 2,  # nobody set it: the default
    }
    assert found == expected, (
        f"minigun {' '.join(argv)} with MINIGUN_CMD_ARGS='--workers 5 --timeout 50' "
        f"and a file setting workers=3, timeout=40, graceful_timeout=11 gave "
        f"{found}, expected {expected}"
    )


def test_default_config_file_is_read_from_the_working_directory(folder: Path):
    (folder / "minigun.conf.py").write_text("workers = 4\n")
    cfg = settings_of(["app:app"])
    assert cfg.workers == 4, (
        f"with ./minigun.conf.py saying workers = 4 and no -c, workers is "
        f"{cfg.workers}, expected 4"
    )


def test_config_file_named_in_the_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch
):
    config = folder / "from-env.py"
    config.write_text("timeout = 17\n")
    monkeypatch.setenv("MINIGUN_CMD_ARGS", f"-c {config}")
    cfg = settings_of(["app:app"])
    assert cfg.timeout == 17, (
        f"MINIGUN_CMD_ARGS='-c {config.name}' with timeout = 17 in that file gave "
        f"timeout {cfg.timeout}, expected 17"
    )


def test_the_file_beats_an_environment_default(
    folder: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("WEB_CONCURRENCY", "6")
    (folder / "minigun.conf.py").write_text("workers = 2\n")
    cfg = settings_of(["app:app"])
    assert cfg.workers == 2, (
        f"WEB_CONCURRENCY=6 (the default's source) and workers = 2 in the file gave "
        f"workers {cfg.workers}, expected the file's 2"
    )


class PresetApplication(Application):
    """An application whose init() hands over settings, as an embedding program may."""

    def init(self, parser, opts, args):
        return {"workers": 9, "timeout": 90}

    def load(self):
        raise AssertionError("configuration tests never load the application")


def test_settings_from_init_are_the_weakest_given_source(folder: Path):
    (folder / "minigun.conf.py").write_text("workers = 6\n")
    cfg = PresetApplication(argv=[]).cfg
    found = (cfg.workers, cfg.timeout)
    assert found == (6, 90), (
        f"init() returned workers=9, timeout=90 and the file says workers = 6: got "
        f"(workers, timeout) = {found}, expected (6, 90): the file overrides init()"
    )
