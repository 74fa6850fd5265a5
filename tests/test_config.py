"""The settings registry: validation, sources and their precedence, hooks, binds."""

import sys
import textwrap
import typing

import pytest

from minigun import config, validators
from minigun.app.wsgiapp import WSGIApplication
from minigun.config import SETTINGS, Config
from minigun.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No PORT, WEB_CONCURRENCY or MINIGUN_CMD_ARGS from the developer's shell,
    and no ./minigun.conf.py: each test starts in an empty directory, and
    what Application.chdir adds to sys.path is undone afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("PORT", "WEB_CONCURRENCY", "MINIGUN_CMD_ARGS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


# --- the registry itself -------------------------------------------------------------


def test_setting_names_are_unique():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert setting.short.strip(), setting.name
        assert setting.desc.strip(), setting.name
        assert setting.default_text(), setting.name


def test_every_hook_is_a_setting_with_gunicorn_signature():
    hooks = {s.name: s for s in SETTINGS if s.section == config.SERVER_HOOKS}
    pre_fork = hooks["pre_fork"].default_text()
    assert "def pre_fork(server: Arbiter, worker: Worker)" in pre_fork
    assert set(hooks) >= {
        "on_starting",
        "on_reload",
        "when_ready",
        "pre_fork",
        "post_fork",
        "post_worker_init",
        "worker_int",
        "worker_abort",
        "pre_exec",
        "pre_request",
        "post_request",
        "child_exit",
        "worker_exit",
        "nworkers_changed",
        "on_exit",
        "worker_ready",
    }


def test_minigun_extensions_say_so():
    for name in (
        "limit_request_body",
        "header_timeout",
        "body_idle_timeout",
        "abort_grace",
        "worker_ready",
    ):
        setting = next(s for s in SETTINGS if s.name == name)
        assert "minigun extension" in setting.desc


def test_defaults_match_gunicorn():
    cfg = Config()
    assert cfg.bind == ["127.0.0.1:8000"]
    assert cfg.workers == 1
    assert cfg.timeout == 30
    assert cfg.graceful_timeout == 30
    assert cfg.keepalive == 2
    assert cfg.limit_request_line == 4094
    assert cfg.limit_request_fields == 100
    assert cfg.limit_request_field_size == 8190
    assert cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert cfg.errorlog == "-"
    assert cfg.secure_scheme_headers["X-FORWARDED-PROTO"] == "https"
    assert cfg.access_log_format.startswith("%(h)s %(l)s %(u)s %(t)s")
    assert (cfg.syslog, cfg.syslog_addr, cfg.syslog_facility) == (
        False,
        "udp://localhost:514",  # gunicorn's on Linux
        "user",
    )
    assert cfg.syslog_prefix is None
    assert cfg.disable_redirect_access_to_syslog is False
    assert (cfg.statsd_host, cfg.statsd_prefix, cfg.dogstatsd_tags) == (None, "", "")


def test_port_and_web_concurrency_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    cfg = Config()
    assert cfg.bind == ["0.0.0.0:5000"]
    assert cfg.workers == 3


def test_bad_value_in_the_environment_says_where_it_came_from(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "lots")
    with pytest.raises(ConfigError) as info:
        Config()
    assert str(info.value) == (
        "Invalid value for workers: 'lots': expected a whole number "
        "(a default read from the environment)"
    )


def test_forwarded_allow_ips_from_the_environment(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.0/8, 192.168.1.1")
    assert Config().forwarded_allow_ips == ["10.0.0.0/8", "192.168.1.1"]


def derived_values() -> set[str]:
    """The names Config answers with a property of its own (``proc_name``...)."""
    return {name for name, value in vars(Config).items() if isinstance(value, property)}


def test_every_setting_declares_the_type_its_validator_returns():
    """What mypy reads for ``cfg.<name>`` (the declaration in Config's body) is
    what the setting's validator says it returns, for every setting but those a
    property of the same name answers; and nothing else is declared."""
    declared = typing.get_type_hints(Config)
    for setting in SETTINGS:
        if setting.name in derived_values():
            assert setting.name not in declared, setting.name
            continue
        returns = typing.get_type_hints(setting.validator, vars(validators))["return"]
        assert declared.get(setting.name) == returns, setting.name
    assert set(declared) <= {setting.name for setting in SETTINGS}


def test_a_declared_setting_is_read_from_the_values():
    """The declarations hold no value, so ``cfg.workers`` reaches ``__getattr__``
    and sees what ``set`` stored."""
    cfg = Config()
    assert "workers" not in vars(Config)
    cfg.set("workers", 7)
    assert cfg.workers == 7


def test_unknown_attribute_is_an_attribute_error():
    cfg = Config()
    with pytest.raises(AttributeError, match="no setting named 'spew'"):
        cfg.spew  # noqa: B018
    assert getattr(cfg, "spew", "fallback") == "fallback"


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("workers", "4", 4),
        ("daemon", "yes", True),
        ("daemon", "off", False),
        ("umask", "022", 0o22),
        ("umask", "0o27", 0o27),
        ("umask", 18, 18),
        ("bind", "unix:/tmp/x.sock", ["unix:/tmp/x.sock"]),
        ("raw_env", "A=1", ["A=1"]),
        ("loglevel", "DEBUG", "debug"),
        ("proxy_protocol", True, "auto"),
        ("proxy_protocol", "false", "off"),
        ("proxy_protocol", "v1", "v1"),
        ("header_timeout", "2.5", 2.5),
        ("body_idle_timeout", "0", 0.0),
        ("header_map", "Refuse", "refuse"),
    ],
)
def test_set_converts_raw_values(name, raw, value):
    cfg = Config()
    cfg.set(name, raw)
    assert getattr(cfg, name) == value


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        (
            "workers",
            "many",
            "Invalid value for workers: 'many': expected a whole number",
        ),
        ("workers", 0, "Invalid value for workers: 0: must be 1 or more"),
        ("timeout", "-1", "Invalid value for timeout: '-1': must be 0 or more"),
        ("daemon", "perhaps", "Invalid value for daemon: 'perhaps': expected true"),
        ("bind", "127.0.0.1:http", "Invalid value for bind: '127.0.0.1:http': port"),
        ("bind", [], "Invalid value for bind: []: at least one address is needed"),
        ("raw_env", ["NOEQUALS"], "Invalid value for raw_env: ['NOEQUALS']"),
        ("loglevel", "loud", "Invalid value for loglevel: 'loud': expected one of"),
        ("chdir", "/no/such/dir", "Invalid value for chdir: '/no/such/dir'"),
        ("user", "no-such-user-xyz", "no such user 'no-such-user-xyz'"),
        ("forwarded_allow_ips", "not-an-ip", "Invalid value for forwarded_allow_ips"),
        ("access_log_format", None, "access_log_format: None: expected a string"),
        ("statsd_prefix", None, "Invalid value for statsd_prefix: None: expected a"),
    ],
)
def test_bad_values_name_the_setting_and_the_value(name, raw, message):
    cfg = Config()
    with pytest.raises(ConfigError) as info:
        cfg.set(name, raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_setting_an_unknown_name_is_an_error():
    with pytest.raises(ConfigError, match="No such setting: tmp_upload_dir"):
        Config().set("tmp_upload_dir", "/tmp")


def test_reload_and_its_extra_files(capsys):
    cfg = Config()
    cfg.set("reload", "true")
    cfg.set("reload_extra_files", "templates/index.html")
    assert (cfg.reload, cfg.reload_extra_files) == (True, ["templates/index.html"])
    assert capsys.readouterr().err == ""


# --- hooks ---------------------------------------------------------------------------


def test_hook_with_the_right_arity_is_stored():
    def my_pre_fork(server, worker):
        return "called"

    cfg = Config()
    cfg.set("pre_fork", my_pre_fork)
    assert cfg.pre_fork("arbiter", "worker") == "called"


def test_hook_with_the_wrong_arity_names_the_hook_and_its_parameters():
    def my_pre_fork(server):
        pass

    with pytest.raises(ConfigError) as info:
        Config().set("pre_fork", my_pre_fork)
    message = str(info.value)
    assert message.startswith("Invalid value for pre_fork: ")
    assert "must accept 2 parameters (server, worker)" in message
    assert "its signature is (server)" in message


def test_hook_that_is_not_callable():
    with pytest.raises(ConfigError, match="on_starting: 42: expected a callable"):
        Config().set("on_starting", 42)


def test_hook_accepting_varargs_is_fine():
    cfg = Config()
    cfg.set("nworkers_changed", lambda *args: args)
    assert cfg.nworkers_changed("s", 2, None) == ("s", 2, None)


def test_hook_as_a_dotted_path_is_imported_at_set_time(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "my_hooks.py").write_text("def on_exit(server):\n    return 'bye'\n")
    cfg = Config()
    cfg.set("on_exit", "my_hooks.on_exit")
    assert cfg.on_exit(None) == "bye"


def test_dotted_path_that_does_not_import():
    with pytest.raises(ConfigError, match=r"cannot import 'nowhere\.hook'"):
        Config().set("on_exit", "nowhere.hook")


def test_post_request_accepts_two_to_four_parameters():
    seen = []

    def two(worker, req):
        seen.append((worker, req))

    def three(worker, req, environ):
        seen.append((worker, req, environ))

    def four(worker, req, environ, resp):
        seen.append((worker, req, environ, resp))

    cfg = Config()
    for hook in (two, three, four):
        cfg.set("post_request", hook)
        cfg.post_request("w", "r", "e", "s")
    assert seen == [("w", "r"), ("w", "r", "e"), ("w", "r", "e", "s")]


def test_post_request_with_one_parameter_is_refused():
    with pytest.raises(ConfigError, match=r"2 to 4 parameters \(worker, req"):
        Config().set("post_request", lambda worker: None)


def test_default_pre_request_logs_method_and_path():
    logged = []

    class Log:
        def debug(self, message, *args):
            logged.append(message % args)

    class Worker:
        log = Log()

    class Request:
        method, path = "GET", "/hello"

    Config().pre_request(Worker(), Request())
    assert logged == ["GET /hello"]


# --- derived values ------------------------------------------------------------------


def test_address_parses_every_bind():
    cfg = Config()
    cfg.set("bind", ["127.0.0.1:0", "[::1]:8001", "unix:/tmp/m.sock", "fd://5"])
    assert cfg.address == [("127.0.0.1", 0), ("::1", 8001), "/tmp/m.sock", 5]


def test_sync_with_threads_becomes_gthread():
    cfg = Config()
    assert cfg.worker_class_str == "sync"
    cfg.set("threads", 4)
    assert cfg.worker_class_str == "gthread"


def test_worker_class_that_cannot_load_names_it():
    cfg = Config()
    cfg.set("worker_class", "nowhere.NoWorker")
    with pytest.raises(
        ConfigError, match="worker_class: cannot load the class 'nowhere"
    ):
        cfg.worker_class  # noqa: B018


def test_worker_class_as_a_dotted_path():
    cfg = Config()
    cfg.set("worker_class", "collections.OrderedDict")
    assert cfg.worker_class.__name__ == "OrderedDict"


def test_gunicorn_async_worker_warns_and_falls_back_to_sync(capsys):
    cfg = Config()
    cfg.set("worker_class", "gevent")
    assert cfg.worker_class_str == "sync"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "'gevent'" in err


def test_env_proc_name_uid_gid_and_ssl():
    import os

    cfg = Config()
    cfg.set("raw_env", ["A=1", "B=x=y"])
    assert cfg.env == {"A": "1", "B": "x=y"}
    assert cfg.proc_name == "minigun"
    cfg.set("default_proc_name", "app:app")
    assert cfg.proc_name == "app:app"
    cfg.set("proc_name", "shop")
    assert cfg.proc_name == "shop"
    assert cfg.uid == os.geteuid()
    assert cfg.gid == os.getegid()
    assert cfg.is_ssl is False


def test_str_lists_every_setting_sorted():
    lines = str(Config()).splitlines()
    names = [line.split("=")[0].strip() for line in lines]
    assert names == sorted(setting.name for setting in SETTINGS)
    assert any(line.startswith("workers ") and line.endswith("= 1") for line in lines)


def test_parser_groups_options_by_section():
    help_text = Config().parser().format_help()
    for section in ("Server Socket", "Worker Processes", "Logging", "HTTP Parsing"):
        assert f"{section}:" in help_text
    assert help_text.index("Server Socket:") < help_text.index("--bind")


# --- sources and their precedence ----------------------------------------------------


def write(path, source: str) -> str:
    path.write_text(textwrap.dedent(source))
    return str(path)


def load(argv: list[str]) -> Config:
    return WSGIApplication(argv=argv).cfg


def test_precedence_file_then_environment_then_command_line(tmp_path, monkeypatch):
    conf = write(
        tmp_path / "c.py",
        """
        workers = 2
        timeout = 11
        keepalive = 7
        """,
    )
    monkeypatch.setenv("MINIGUN_CMD_ARGS", "--timeout 22 --keep-alive 8")
    cfg = load(["-c", conf, "--keep-alive", "9", "app:app"])
    assert (cfg.workers, cfg.timeout, cfg.keepalive) == (2, 22, 9)


def test_default_config_file_is_read_from_the_working_directory(tmp_path):
    write(tmp_path / "minigun.conf.py", "workers = 5\n")
    assert load(["app:app"]).workers == 5


def test_config_named_in_the_environment(tmp_path, monkeypatch):
    conf = write(tmp_path / "env.py", "workers = 6\n")
    monkeypatch.setenv("MINIGUN_CMD_ARGS", f"-c {conf}")
    assert load(["app:app"]).workers == 6


def test_config_as_python_module(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path / "my_settings.py", "workers = 4\n")
    assert load(["-c", "python:my_settings", "app:app"]).workers == 4


def test_names_that_are_not_settings_are_ignored(tmp_path, capsys):
    conf = write(
        tmp_path / "c.py",
        """
        import os
        WORKERS_PER_CORE = 2
        def helper():
            return 3
        workers = helper()
        """,
    )
    cfg = load(["-c", conf, "app:app"])
    assert cfg.workers == 3
    assert capsys.readouterr().err == ""


def test_a_name_close_to_a_setting_is_warned_about_once(tmp_path, capsys):
    conf = write(tmp_path / "c.py", "worker = 3\n")
    cfg = load(["-c", conf, "app:app"])
    assert cfg.workers == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "minigun: warning: unknown setting 'worker' (did you mean 'workers'?)"
    ]


def test_helper_names_that_resemble_no_setting_stay_silent(tmp_path, capsys):
    conf = write(
        tmp_path / "c.py",
        """
        import multiprocessing
        num_workers = 2
        _worker = 1
        port = 8000
        workers = num_workers
        bind = [f"127.0.0.1:{port}"]
        """,
    )
    assert load(["-c", conf, "app:app"]).workers == 2
    assert capsys.readouterr().err == ""


def test_gunicorn_only_settings_get_one_warning_each(tmp_path, capsys):
    conf = write(
        tmp_path / "c.py",
        """
        tmp_upload_dir = "/tmp"
        enable_backlog_metric = True
        """,
    )
    load(["-c", conf, "app:app"])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert "tmp_upload_dir" in lines[0] or "tmp_upload_dir" in lines[1]
    assert all("gunicorn setting minigun does not implement" in line for line in lines)


def test_hooks_defined_in_a_config_file(tmp_path):
    conf = write(
        tmp_path / "c.py",
        """
        def when_ready(server):
            return "ready"
        """,
    )
    assert load(["-c", conf, "app:app"]).when_ready(None) == "ready"


def test_bad_value_in_a_config_file(tmp_path):
    conf = write(tmp_path / "c.py", "workers = 'lots'\n")
    with pytest.raises(ConfigError, match="Invalid value for workers: 'lots'"):
        load(["-c", conf, "app:app"])


def test_config_file_that_raises_is_named(tmp_path):
    conf = write(tmp_path / "broken.py", "workers = 1 / 0\n")
    with pytest.raises(ConfigError) as info:
        load(["-c", conf, "app:app"])
    message = str(info.value)
    assert f"The config file {conf!r} raised ZeroDivisionError" in message
    assert message.endswith("(line 1).")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load(["-c", str(tmp_path / "absent.py"), "app:app"])


def test_hook_with_wrong_arity_in_a_config_file(tmp_path):
    conf = write(tmp_path / "c.py", "def post_fork(server):\n    pass\n")
    with pytest.raises(ConfigError, match=r"post_fork.*\(server, worker\)"):
        load(["-c", conf, "app:app"])


def test_every_setting_belongs_to_a_known_section_in_order():
    sections = [setting.section for setting in SETTINGS]
    assert set(sections) <= set(config.SECTIONS)
    first_seen = sorted(set(sections), key=sections.index)
    assert first_seen == [s for s in config.SECTIONS if s in first_seen]


def test_command_line_flags_of_every_kind():
    binds = ["-b", "127.0.0.1:0", "-b", "unix:/tmp/m.sock"]
    env = ["-e", "A=1", "-e", "B=2"]
    flags = ["--no-sendfile", "--preload", "--proxy-protocol", "--umask", "027"]
    cfg = load([*binds, *env, *flags, "app:app"])
    assert cfg.bind == ["127.0.0.1:0", "unix:/tmp/m.sock"]
    assert cfg.env == {"A": "1", "B": "2"}
    assert cfg.sendfile is False
    assert cfg.preload_app is True
    assert cfg.proxy_protocol == "auto"
    assert cfg.umask == 0o27


def test_flags_not_given_leave_the_file_values_alone(tmp_path):
    conf = write(tmp_path / "c.py", "preload_app = True\nsendfile = False\n")
    cfg = load(["-c", conf, "app:app"])
    assert cfg.preload_app is True
    assert cfg.sendfile is False


# --- logging: logger_class, syslog, statsd -------------------------------------------


def test_logger_class_defaults_to_minigun_and_statsd_host_switches_it():
    from minigun.glogging import Logger
    from minigun.instrument.statsd import Statsd

    cfg = Config()
    assert cfg.logger_class is Logger
    cfg.set("statsd_host", "127.0.0.1:9125")
    assert cfg.logger_class is Statsd
    cfg.set("logger_class", "gunicorn.glogging.Logger")  # a gunicorn config's value
    assert cfg.logger_class is Statsd  # still the default role: statsd wins
    cfg.set("logger_class", "simple")
    assert cfg.logger_class is Statsd


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost:514", "not udp://HOST:PORT"),
        ("udp://host:port", "port"),
        ("unix:///dev/log#raw", "unknown socket type"),
    ],
)
def test_bad_syslog_addresses_are_refused(value, message):
    with pytest.raises(ConfigError, match=f"syslog_addr.*{message}"):
        Config().set("syslog_addr", value)


def test_bad_statsd_address_is_refused():
    with pytest.raises(ConfigError, match="statsd_host"):
        Config().set("statsd_host", "fd://3")
    with pytest.raises(ConfigError, match="syslog_facility"):
        Config().set("syslog_facility", "local9")
