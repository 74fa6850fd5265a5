"""Exit codes tell failures apart: each way an application can fail to load leaves
the master with its own code, whether the workers or the master (``--preload``)
loaded it. The table is in the book's command chapter."""

from __future__ import annotations

import pytest

BROKEN_APPS = """\
raise RuntimeError("this module is broken (on purpose)")
"""

FACTORIES = """\
def create_app():
    raise ValueError("no database (on purpose)")

def returns_nothing():
    return None

app = None
"""

CASES = {
    "module raises": ("broken_module:app", 4, "this module is broken (on purpose)"),
    "no such module": ("no_such_module_here:app", 4, "Failed to find the module"),
    "no such attribute": ("factories:missing", 5, "Failed to find the attribute"),
    "not callable": ("factories:app", 5, "must be callable"),
    "factory raises": ("factories:create_app()", 6, "no database (on purpose)"),
    "factory returns None": ("factories:returns_nothing()", 6, "returned None"),
}


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "broken_module.py").write_text(BROKEN_APPS)
    (tmp_path / "factories.py").write_text(FACTORIES)
    return tmp_path


@pytest.mark.parametrize("preload", [False, True], ids=["in-worker", "preload"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_app_load_failure_has_its_own_exit_code(
    run_to_exit, app_dir, case, preload
):
    uri, expected_code, message = CASES[case]
    extra = ("--preload",) if preload else ()
    code, text = run_to_exit("--pythonpath", str(app_dir), *extra, "-w", "2", uri)
    assert code == expected_code, text
    assert message in text
    assert text.count("Booting worker") <= 2, "the master respawned a failing worker"
    assert "Traceback" not in text, text


def test_a_worker_boot_error_is_3_and_a_config_error_1(run_to_exit, tmp_path):
    config = tmp_path / "boot.conf.py"
    config.write_text("def post_fork(server, worker):\n    raise OSError('no')\n")
    boot_code, boot_text = run_to_exit("-c", str(config), "examples.hello:app")
    bad_code, bad_text = run_to_exit("--workers", "many", "examples.hello:app")
    assert boot_code == 3, boot_text
    assert bad_code == 1, bad_text
    assert "Invalid value for workers" in bad_text
