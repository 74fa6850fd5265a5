"""What the master imports is in every worker: the modules only one path uses stay out.

book/performance.md measures what each of these cost a worker (memory and start-up
time); this holds the line in a fresh interpreter, as ``minigun`` starts.
"""

import subprocess
import sys

import pytest

# The master's imports: the command's entry point, the arbiter, and a worker class.
MASTER_IMPORTS = "import minigun.app.wsgiapp, minigun.arbiter, minigun.workers.sync"

NOT_IMPORTED = {
    "email": "the Date header is written out in minigun.util.http_date",
    "logging.config": "only logconfig, logconfig_dict and logconfig_json need it",
    "json": "only logconfig_json needs it",
    "configparser": "only --paste and logconfig need it",
    "minigun.app.pasterapp": "only --paste needs it",
    "difflib": "only a config file with an unknown name needs it",
    "logging.handlers": "only syslog needs it",
    "minigun.instrument.statsd": "only statsd_host (or a logger_class naming it)",
    "ssl": "only TLS needs it: minigun.sock.ssl_context imports it in the worker",
    "asyncio": "only the asgi worker needs it",
    "concurrent.futures": "only the gthread worker needs it",
}


def modules_after(statement: str, expect_failure: str = "") -> set[str]:
    """The modules loaded after ``statement``; if it must raise ``expect_failure``,
    those loaded when it did."""
    if expect_failure:
        statement = f"""
try:
    {statement}
except {expect_failure}:
    pass
else:
    raise SystemExit('no {expect_failure}')"""
    code = f"import sys\n{statement}\nprint(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.timeout(60)
def test_the_master_imports_no_module_only_one_path_uses():
    loaded = modules_after(MASTER_IMPORTS)
    assert "minigun.arbiter" in loaded  # the probe itself works
    wrongly = {name: why for name, why in NOT_IMPORTED.items() if name in loaded}
    assert wrongly == {}


@pytest.mark.timeout(60)
def test_the_paths_that_need_them_still_import_them():
    loaded = modules_after(
        MASTER_IMPORTS + "; from minigun.app import wsgiapp; wsgiapp._pasterapp()"
    )
    assert {"minigun.app.pasterapp", "configparser"} <= loaded


@pytest.mark.timeout(60)
def test_a_worker_with_tls_imports_ssl_as_it_builds_its_context():
    """The other side of keeping ``ssl`` out: the TLS path still finds it."""
    loaded = modules_after(
        MASTER_IMPORTS + "; from minigun import config, sock; cfg = config.Config()"
        "; cfg.set('ssl_context', lambda conf, factory: 'not a context')"
        "; sock.ssl_context(cfg)",
        expect_failure="TypeError",
    )
    assert "ssl" in loaded
