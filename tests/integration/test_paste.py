"""``minigun --paste site.ini``: an ini file names the app, the bind, the logging.

The file is ``examples/site.ini`` (the one book/wsgiapp.md shows); its app factory is
``examples/paste_app.py``. PasteDeploy is in the test extras, so these run in CI; the
one test of its absence hides the package from a child interpreter.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

from minigun.app import pasterapp
from minigun.errors import ConfigError

SITE_INI = "examples/site.ini"
HIDE_PASTEDEPLOY = """
import sys
sys.modules["paste"] = None  # every "import paste..." now fails, as if not installed
from minigun.app.wsgiapp import run
sys.argv = ["minigun", "--paste", "examples/site.ini"]
run()
"""


def test_paste_serves_app_main_on_the_server_main_address(serve):
    server = serve(SITE_INI, "--paste-global", "who=tester", "--paste", bind=None)
    assert server.request("/") == (200, b"Hello from tester\n")
    # [server:main] said host 127.0.0.1, port 0: the conftest found a free port there.
    assert f"Listening at: http://127.0.0.1:{server.port}" in server.log.text


def test_the_ini_logging_sections_configure_master_and_workers(serve):
    server = serve(SITE_INI, "--paste", bind=None)
    worker_pid = server.booted_pids()[0]
    server.wait_for(rf"paste-ini INFO \[{server.master_pid}\] Listening at")
    server.wait_for(rf"paste-ini INFO \[{worker_pid}\] Booting worker")


def test_a_hash_names_another_app_section_and_bind_still_wins(serve):
    server = serve(f"{SITE_INI}#admin", "--paste")  # --bind 127.0.0.1:0 from serve
    assert server.request("/") == (200, b"Admin from paste\n")


def test_paster_is_the_same_flag(serve):
    server = serve(SITE_INI, "--paster")
    assert server.request("/") == (200, b"Hello from paste\n")


def test_without_pastedeploy_one_line_says_what_to_install():
    result = subprocess.run(
        [sys.executable, "-c", HIDE_PASTEDEPLOY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "Error: --paste needs PasteDeploy, which is not installed: "
        "pip install 'minigun[paste]' (or pip install PasteDeploy)\n"
    )


def test_a_missing_ini_file_is_one_error_naming_it(run_to_exit):
    code, output = run_to_exit("--paste", "nosuch.ini")
    assert code == 1
    assert output.strip() == (
        f"Error: Invalid value for paste: '{ROOT / 'nosuch.ini'}' not found"
    )


def test_a_missing_app_section_fails_to_load_and_says_which(run_to_exit):
    code, output = run_to_exit("--paste", f"{SITE_INI}#nosuch", "--check-config")
    assert code == 1
    assert f"Failed to load [app:nosuch] from {ROOT / SITE_INI}: LookupError" in output


# --- the ini file's server section, in-process --------------------------------------


@pytest.mark.parametrize(
    ("section", "bind"),
    [
        ("host = 10.0.0.1\nport = 6543\n", ["10.0.0.1:6543"]),
        ("port = 6543\n", ["127.0.0.1:6543"]),
        (
            "host = unix:/run/app.sock, 127.0.0.1:80\n",
            ["unix:/run/app.sock", "127.0.0.1:80"],
        ),
        ("use = egg:waitress#main\n", []),
    ],
)
def test_server_main_host_and_port_become_the_bind(tmp_path, section, bind):
    ini = tmp_path / "site.ini"
    ini.write_text(f"[server:main]\n{section}")
    settings = pasterapp.paste_config(str(ini), {})
    assert settings.get("bind", []) == bind
    assert "logconfig" not in settings


def test_global_conf_is_interpolated_in_the_server_section(tmp_path):
    ini = tmp_path / "site.ini"
    ini.write_text("[server:main]\nhost = 127.0.0.1\nport = %(http_port)s\n")
    settings = pasterapp.paste_config(str(ini), {"http_port": "8080"})
    assert settings["bind"] == ["127.0.0.1:8080"]


def test_split_uri_defaults_to_main(tmp_path):
    ini = tmp_path / "site.ini"
    ini.write_text("")
    assert pasterapp.split_uri(str(ini)) == (str(ini), "main")
    assert pasterapp.split_uri(f"{ini}#admin") == (str(ini), "admin")
    with pytest.raises(ConfigError, match="not found"):
        pasterapp.split_uri(str(tmp_path / "other.ini"))
