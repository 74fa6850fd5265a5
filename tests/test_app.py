"""The application stack: BaseApplication's contract, the sources, WSGIApplication."""

import sys
import textwrap
import types

import pytest

from minigun.app.base import Application, BaseApplication
from minigun.app.wsgiapp import WSGIApplication
from minigun.errors import AppImportError, ConfigError

# A class every Python has, standing in for the worker class so that these tests
# check the application stack without importing the workers.
FAKE_WORKER = "collections.OrderedDict"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """An empty working directory, no MINIGUN_CMD_ARGS, and sys.path restored."""
    monkeypatch.delenv("MINIGUN_CMD_ARGS", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.fixture
def app_dir(tmp_path, monkeypatch):
    """A directory, not on sys.path, holding a module ``greeter`` with an app."""
    monkeypatch.delitem(sys.modules, "greeter", raising=False)
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "greeter.py").write_text(
        textwrap.dedent(
            """
            def app(environ, start_response):
                return [b"hi"]
            """
        )
    )
    return directory


def wsgi_app(environ, start_response):
    return [b"embedded"]


class DictApplication(BaseApplication):
    """The embedding pattern: settings from a dict, the app passed in."""

    def __init__(self, application, options):
        self.application = application
        self.options = options
        self.loads = 0
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        self.loads += 1
        return self.application


# --- BaseApplication ------------------------------------------------------------------


def test_options_dict_configures_the_server_including_hooks():
    def when_ready(server):
        return server

    app = DictApplication(wsgi_app, {"workers": 3, "when_ready": when_ready})
    assert app.cfg.workers == 3
    assert app.cfg.when_ready("arbiter") == "arbiter"


def test_a_bad_option_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="Invalid value for workers: 'x'"):
        DictApplication(wsgi_app, {"workers": "x"})


def test_wsgi_loads_the_app_once():
    app = DictApplication(wsgi_app, {})
    assert app.wsgi() is wsgi_app
    assert app.wsgi() is wsgi_app
    assert app.loads == 1


def test_reload_reads_the_configuration_again():
    app = DictApplication(wsgi_app, {"workers": 2})
    app.options["workers"] = 5
    app.reload()
    assert app.cfg.workers == 5


def test_failed_reload_keeps_the_old_configuration():
    app = DictApplication(wsgi_app, {"workers": 2})
    old_cfg = app.cfg
    app.options["workers"] = "many"
    with pytest.raises(ConfigError):
        app.reload()
    assert app.cfg is old_cfg
    assert app.cfg.workers == 2


def test_run_hands_the_application_to_an_arbiter(monkeypatch):
    started = []

    class FakeArbiter:
        def __init__(self, app):
            self.app = app

        def run(self):
            started.append(self.app)

    fake_module = types.ModuleType("minigun.arbiter")
    fake_module.Arbiter = FakeArbiter
    monkeypatch.setitem(sys.modules, "minigun.arbiter", fake_module)
    app = DictApplication(wsgi_app, {})
    assert app.run() == 0
    assert started == [app]


def test_base_application_methods_must_be_implemented():
    with pytest.raises(NotImplementedError):
        BaseApplication()


# --- WSGIApplication ------------------------------------------------------------------


def test_positional_app_names_the_app_and_the_processes():
    app = WSGIApplication(argv=["greeter:app"])
    assert app.app_uri == "greeter:app"
    assert app.cfg.default_proc_name == "greeter:app"
    assert app.cfg.proc_name == "greeter:app"


def test_wsgi_app_setting_when_no_positional(tmp_path):
    (tmp_path / "conf.py").write_text("wsgi_app = 'greeter:app'\n")
    app = WSGIApplication(argv=["-c", str(tmp_path / "conf.py")])
    assert app.app_uri == "greeter:app"
    assert app.cfg.proc_name == "greeter:app"


def test_the_default_config_file_is_read_when_sys_argv_is_empty(tmp_path, monkeypatch):
    """An embedding interpreter may leave ``sys.argv`` empty (gunicorn reads the
    file then too); runpy would have failed setting ``sys.argv[0]``."""
    (tmp_path / "minigun.conf.py").write_text(
        "wsgi_app = 'greeter:app'\nworkers = '0x3'\nforwarded_allow_ips = None\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [])
    app = WSGIApplication()
    assert (app.app_uri, app.cfg.workers) == ("greeter:app", 3)
    assert app.cfg.forwarded_allow_ips == []


def test_no_app_at_all_is_a_config_error():
    with pytest.raises(ConfigError, match="No application given"):
        WSGIApplication(argv=[])


def test_chdir_makes_the_app_importable_from_there(app_dir):
    import os

    app = WSGIApplication(argv=["--chdir", str(app_dir), "greeter:app"])
    assert os.getcwd() == str(app_dir)
    assert app.wsgi()({}, None) == [b"hi"]


def test_pythonpath_makes_the_app_importable(app_dir, capsys):
    app = WSGIApplication(
        argv=[
            "--pythonpath",
            str(app_dir),
            "-k",
            FAKE_WORKER,
            "--check-config",
            "greeter:app",
        ]
    )
    assert app.run() == 0
    assert capsys.readouterr().err == ""


def test_load_reports_a_missing_module():
    app = WSGIApplication(argv=["missing_module_xyz:app"])
    with pytest.raises(AppImportError, match="missing_module_xyz"):
        app.wsgi()


# --- Application.run ------------------------------------------------------------------


def test_print_config_prints_and_returns_zero(capsys):
    app = WSGIApplication(argv=["--print-config", "-w", "7", "greeter:app"])
    assert app.run() == 0
    out = capsys.readouterr().out
    assert "workers                            = 7" in out


def test_check_config_with_a_broken_app_returns_one_and_says_why(tmp_path, capsys):
    (tmp_path / "broken_app.py").write_text("import not_installed_anywhere\n")
    app = WSGIApplication(argv=["--check-config", "-k", FAKE_WORKER, "broken_app:app"])
    assert app.run() == 1
    err = capsys.readouterr().err
    assert "Error: The module 'broken_app' was found" in err
    assert "not_installed_anywhere" in err


def test_check_config_with_an_unloadable_worker_class(app_dir, capsys):
    argv = ["--chdir", str(app_dir), "--check-config", "-k", "no.Such", "greeter:app"]
    assert WSGIApplication(argv=argv).run() == 1
    assert "worker_class" in capsys.readouterr().err


def test_application_is_the_parent_of_wsgi_application():
    assert issubclass(WSGIApplication, Application)


def test_load_imports_from_chdir_even_after_the_process_moved(app_dir, tmp_path):
    import os

    app = WSGIApplication(argv=["--chdir", str(app_dir), "greeter:app"])
    os.chdir(tmp_path)
    sys.path.remove(str(app_dir))
    assert app.wsgi()({}, None) == [b"hi"]
    assert os.getcwd() == str(app_dir)
