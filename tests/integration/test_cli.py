"""The ``minigun`` command line, run as a real process (no server is started).

Each test runs ``python -m minigun`` with a timeout in an empty working directory,
with the repository on PYTHONPATH so that ``examples.*`` imports.
"""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from minigun import __version__

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 30


@pytest.fixture
def minigun(tmp_path):
    """Run ``python -m minigun ARGS`` in tmp_path; return the completed process."""
    base_env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in ("PORT", "WEB_CONCURRENCY", "MINIGUN_CMD_ARGS", "GUNICORN_CMD_ARGS")
    }
    base_env["PYTHONPATH"] = str(ROOT)

    def run(*args: str, env: dict[str, str] | None = None):
        return subprocess.run(
            [sys.executable, "-m", "minigun", *args],
            cwd=tmp_path,
            env={**base_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    return run


def settings(stdout: str) -> dict[str, str]:
    """``--print-config`` output as a dict of name to the printed value."""
    pairs = (line.split(" = ", 1) for line in stdout.splitlines())
    return {name.strip(): value for name, value in pairs}


def test_version(minigun):
    result = minigun("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"minigun {__version__}"


def test_help_lists_the_sections(minigun):
    result = minigun("--help")
    assert result.returncode == 0
    for section in ("Config File", "Server Socket", "Worker Processes", "Logging"):
        assert f"{section}:" in result.stdout
    assert "--bind ADDRESS" in result.stdout


def test_print_config_precedence_file_then_environment_then_command_line(
    minigun, tmp_path
):
    (tmp_path / "minigun.conf.py").write_text(
        textwrap.dedent(
            """
            workers = 2
            timeout = 11
            keepalive = 7
            loglevel = "warning"
            """
        )
    )
    result = minigun(
        "--print-config",
        "--keep-alive",
        "9",
        "examples.hello:app",
        env={"MINIGUN_CMD_ARGS": "--timeout 22 --keep-alive 8"},
    )
    assert result.returncode == 0, result.stderr
    values = settings(result.stdout)
    assert values["workers"] == "2"
    assert values["timeout"] == "22"
    assert values["keepalive"] == "9"
    assert values["loglevel"] == "'warning'"
    assert values["default_proc_name"] == "'examples.hello:app'"
    assert list(values) == sorted(values)


def test_port_and_web_concurrency_set_the_defaults(minigun):
    result = minigun(
        "--print-config",
        "examples.hello:app",
        env={"PORT": "5005", "WEB_CONCURRENCY": "3"},
    )
    values = settings(result.stdout)
    assert values["bind"] == "['0.0.0.0:5005']"
    assert values["workers"] == "3"


def test_gunicorn_conf_loads_unchanged(minigun):
    result = minigun(
        "-c", str(ROOT / "examples" / "gunicorn.conf.py"), "--print-config"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    values = settings(result.stdout)
    assert values["wsgi_app"] == "'examples.hello:app'"
    assert values["raw_env"] == "['GREETING=hello']"
    assert values["when_ready"] == "__config__.when_ready"


def test_gunicorn_only_setting_warns_once(minigun, tmp_path):
    conf = tmp_path / "c.py"
    conf.write_text("enable_backlog_metric = True\nworkers = 2\n")
    result = minigun("-c", str(conf), "--print-config", "examples.hello:app")
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1
    assert "enable_backlog_metric" in result.stderr


def test_config_typo_names_the_setting_it_resembles(minigun, tmp_path):
    conf = tmp_path / "c.py"
    conf.write_text("worker = 3\nmax_worker_count = 9\n")
    result = minigun("-c", str(conf), "--print-config", "examples.hello:app")
    assert result.returncode == 0
    assert result.stderr == (
        "minigun: warning: unknown setting 'worker' (did you mean 'workers'?)\n"
    )
    assert re.search(r"^workers +=  *1$", result.stdout, re.MULTILINE)


def test_check_config_succeeds_for_a_good_app(minigun):
    result = minigun("--check-config", "examples.hello:app")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_check_config_fails_for_a_broken_app_and_names_it(minigun, tmp_path):
    (tmp_path / "broken_app.py").write_text("app = undefined_name\n")
    result = minigun("--check-config", "--chdir", str(tmp_path), "broken_app:app")
    assert result.returncode == 1
    assert "Importing the module 'broken_app' raised NameError" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_fails_for_a_missing_module(minigun):
    result = minigun("--check-config", "no_such_module_anywhere:app")
    assert result.returncode == 1
    assert "Failed to find the module 'no_such_module_anywhere'" in result.stderr


def test_bad_setting_value_is_one_line_naming_the_setting(minigun):
    result = minigun("--workers", "lots", "examples.hello:app")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: Invalid value for workers: 'lots': expected a whole number\n"
    )


def test_bad_value_in_the_environment_default(minigun):
    result = minigun("--print-config", "examples.hello:app", env={"PORT": "http"})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Invalid value for bind: ['0.0.0.0:http']")
    assert result.stderr.count("\n") == 1


def test_config_file_that_raises_is_named(minigun, tmp_path):
    conf = tmp_path / "broken.conf.py"
    conf.write_text("import os\nworkers = int(os.environ['NOT_SET_ANYWHERE'])\n")
    result = minigun("-c", str(conf), "examples.hello:app")
    assert result.returncode == 1
    assert f"The config file '{conf}' raised KeyError" in result.stderr
    assert result.stderr.count("\n") == 1


def test_no_application_given(minigun):
    result = minigun("--print-config")
    assert result.returncode == 1
    assert "No application given" in result.stderr


def test_unknown_flag_is_an_argparse_usage_error(minigun):
    result = minigun("--no-such-flag", "1", "examples.hello:app")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr


def test_pythonpath_and_chdir_find_the_app(minigun, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "elsewhere_app.py").write_text(
        "def app(environ, start_response):\n    return [b'x']\n"
    )
    by_path = minigun(
        "--check-config", "--pythonpath", str(project), "elsewhere_app:app"
    )
    assert by_path.returncode == 0, by_path.stderr
    by_chdir = minigun("--check-config", "--chdir", str(project), "elsewhere_app:app")
    assert by_chdir.returncode == 0, by_chdir.stderr
    neither = minigun("--check-config", "elsewhere_app:app")
    assert neither.returncode == 1


def read_when_ready(path: Path, timeout: float = 10.0) -> str:
    """The file's text once it exists and is not empty (a daemon writes it later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written within {timeout}s")


def stop_daemon(pid: int) -> None:
    """TERM the daemon master and wait for it; KILL it if it will not go."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)


def test_daemon_detaches_and_keeps_serving(minigun, tmp_path):
    pidfile, logfile = tmp_path / "minigun.pid", tmp_path / "error.log"
    result = minigun(
        "--daemon",
        "--pid",
        str(pidfile),
        "--error-logfile",
        str(logfile),
        "--bind",
        "127.0.0.1:0",
        "examples.hello:app",
    )
    assert result.returncode == 0, result.stderr
    pid = int(read_when_ready(pidfile))
    try:
        # In a new session (so no controlling terminal), but not its leader: the
        # second fork makes sure it can never acquire a terminal again.
        assert os.getsid(pid) not in (os.getsid(0), pid)
        read_when_ready(logfile)
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while "Booting worker" not in logfile.read_text():
            assert time.monotonic() < deadline, logfile.read_text()
            time.sleep(0.05)
        port = re.search(
            r"Listening at: http://127\.0\.0\.1:(\d+)", logfile.read_text()
        )
        assert port, logfile.read_text()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port.group(1)}/", timeout=COMMAND_TIMEOUT
        ) as response:
            assert response.read().startswith(b"Hello from minigun worker")
    finally:
        stop_daemon(pid)


def test_bad_minigun_cmd_args_say_where_they_came_from(minigun):
    result = minigun("examples.hello:app", env={"MINIGUN_CMD_ARGS": "--bogus"})
    assert result.returncode == 2
    assert "(in $MINIGUN_CMD_ARGS): error: unrecognized arguments: --bogus" in (
        result.stderr
    )


def test_check_config_of_the_gunicorn_conf_example(minigun):
    result = minigun(
        "--check-config", "-c", str(ROOT / "examples" / "gunicorn.conf.py")
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_installed_console_script(tmp_path):
    script = Path(sys.executable).parent / "minigun"
    result = subprocess.run(
        [str(script), "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"minigun {__version__}"


def test_hup_rereads_the_config_file_and_survives_a_broken_one(serve, tmp_path):
    conf = tmp_path / "reloadable.conf.py"
    hook = "def on_reload(server):\n    server.log.info('on_reload from %s', {!r})\n"
    conf.write_text(hook.format("version 1"))
    server = serve("examples.hello:app", "-c", str(conf))

    conf.write_text(hook.format("version 2"))
    server.kill(signal.SIGHUP)
    server.wait_for("on_reload from version 2")

    conf.write_text("raise RuntimeError('half-edited')\n")
    server.kill(signal.SIGHUP)
    server.wait_for("half-edited")
    status, body = server.request("/")
    assert status == 200
    assert body.startswith(b"Hello from minigun worker")


def test_gunicorn_conf_py_is_read_when_there_is_no_minigun_conf_py(minigun, tmp_path):
    (tmp_path / "gunicorn.conf.py").write_text("workers = 7\n")
    result = minigun("--print-config", "examples.hello:app")
    assert result.returncode == 0, result.stderr
    assert settings(result.stdout)["workers"] == "7"
    assert result.stderr == (
        f"minigun: no minigun.conf.py here; reading gunicorn's "
        f"{tmp_path / 'gunicorn.conf.py'}\n"
    )
    (tmp_path / "minigun.conf.py").write_text("workers = 2\n")
    result = minigun("--print-config", "examples.hello:app")
    assert (settings(result.stdout)["workers"], result.stderr) == ("2", "")


def test_gunicorn_cmd_args_are_read_when_minigun_cmd_args_is_unset(minigun):
    gunicorn_args = {"GUNICORN_CMD_ARGS": "--workers 5"}
    result = minigun("--print-config", "examples.hello:app", env=gunicorn_args)
    assert settings(result.stdout)["workers"] == "5"
    assert (
        result.stderr
        == "minigun: MINIGUN_CMD_ARGS is not set; reading $GUNICORN_CMD_ARGS\n"
    )
    both = {**gunicorn_args, "MINIGUN_CMD_ARGS": "--workers 3"}
    result = minigun("--print-config", "examples.hello:app", env=both)
    assert (settings(result.stdout)["workers"], result.stderr) == ("3", "")


def test_config_given_as_file_or_python_module(minigun, tmp_path):
    (tmp_path / "conf_module.py").write_text("workers = 6\n")
    (tmp_path / "conf_file.py").write_text("workers = 4\n")
    by_file = minigun(
        "-c", f"file:{tmp_path / 'conf_file.py'}", "--print-config", "x:y"
    )
    assert settings(by_file.stdout)["workers"] == "4", by_file.stderr
    by_module = minigun(
        "-c", "python:conf_module", "--print-config", "x:y",
        env={"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"},
    )  # fmt: skip
    assert settings(by_module.stdout)["workers"] == "6", by_module.stderr
