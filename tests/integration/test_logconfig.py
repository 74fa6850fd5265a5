"""Logging configured the standard library's way: a dict, a JSON file, an ini file.

Each test serves with a configuration and reads the server's own output: the
master's lines and a worker's lines (told apart by pid) and the access log.
"""

from __future__ import annotations

import json
import runpy

from conftest import ROOT

APP = "examples.hello:app"
LOGGING_CONF = ROOT / "examples" / "logging.conf.py"


def assert_configured(server, prefix: str) -> None:
    """Master and worker lines, and an access line, all in the configured shape."""
    worker = server.booted_pids()[0]
    server.wait_for(rf"{prefix} INFO pid={server.master_pid} Listening at")
    server.wait_for(rf"{prefix} INFO pid={worker} Booting worker")
    assert server.request("/")[0] == 200
    server.wait_for(r'access 127\.0\.0\.1 - - \[.*\] "GET / HTTP/1\.1" 200')


def test_logconfig_dict_in_a_config_file(serve):
    server = serve(APP, "-c", str(LOGGING_CONF))
    assert_configured(server, "server")
    assert "[INFO]" not in server.log.text  # minigun's own format was replaced


def test_logconfig_json_file(serve, tmp_path):
    config = runpy.run_path(str(LOGGING_CONF))["logconfig_dict"]
    path = tmp_path / "logging.json"
    path.write_text(json.dumps({"version": 1, **config}))
    server = serve(APP, "--log-config-json", str(path))
    assert_configured(server, "server")


INI = """
[loggers]
keys = root, error, access
[handlers]
keys = console
[formatters]
keys = ini
[logger_root]
handlers =
[logger_error]
qualname = minigun.error
level = INFO
handlers = console
propagate = 0
[logger_access]
qualname = minigun.access
level = INFO
handlers = console
propagate = 0
[handler_console]
class = StreamHandler
args = (sys.stdout,)
formatter = ini
[formatter_ini]
format = ini %(levelname)s pid=%(process)d %(message)s
"""


def test_logconfig_ini_file(serve, tmp_path):
    path = tmp_path / "logging.ini"
    path.write_text(INI)
    server = serve(APP, "--log-config", str(path))
    worker = server.booted_pids()[0]
    server.wait_for(rf"ini INFO pid={server.master_pid} Listening at")
    server.wait_for(rf"ini INFO pid={worker} Booting worker")
    assert server.request("/")[0] == 200
    server.wait_for(r'ini INFO pid=\d+ 127\.0\.0\.1 - - \[.*\] "GET / HTTP/1\.1" 200')


def test_a_gunicorn_configuration_is_told_what_to_rename(serve, tmp_path):
    text = LOGGING_CONF.read_text().replace('"minigun.', '"gunicorn.')
    config = tmp_path / "gunicorn_logging.conf.py"
    config.write_text(text)
    server = serve(APP, "-c", str(config), "--access-logfile", "-")
    for name in ("error", "access"):
        server.wait_for(
            f"logconfig_dict configures the logger 'gunicorn.{name}', which "
            f"minigun does not use: rename it to 'minigun.{name}'"
        )


def test_a_configuration_logging_refuses_is_one_line_naming_the_setting(
    run_to_exit, tmp_path
):
    config = tmp_path / "bad.conf.py"
    config.write_text("logconfig_dict = {'handlers': {'h': {'class': 'no.Such'}}}\n")
    code, output = run_to_exit("-c", str(config), APP)
    assert code == 1
    assert output.startswith("Error: Invalid value for logconfig_dict: ")
    assert len(output.strip().splitlines()) == 1


def test_a_missing_logconfig_file_is_refused_by_name(run_to_exit):
    code, output = run_to_exit("--log-config", "nosuch.ini", APP)
    assert code == 1
    assert output.strip().startswith("Error: Invalid value for logconfig: 'nosuch.ini'")


def test_the_configuration_holds_after_hup(serve):
    server = serve(APP, "-c", str(LOGGING_CONF))
    server.kill(1)  # SIGHUP: the master sets up its logging again, new workers fork
    server.wait_for(r"server INFO pid=\d+ Booting worker", count=2)
    new_worker = server.booted_pids()[-1]
    server.wait_for(rf"server INFO pid={new_worker} Booting worker")
    assert server.request("/")[0] == 200
    server.wait_for(r'access 127\.0\.0\.1 - - \[.*\] "GET / HTTP/1\.1" 200')
