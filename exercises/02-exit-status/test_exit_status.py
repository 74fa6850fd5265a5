"""Exercise 2: ``run()``, the one place that turns an outcome into an exit status."""

from pathlib import Path

import pytest

import minigun
from minigun.app import wsgiapp
from minigun.errors import APP_LOAD_ERROR, APP_NOT_FOUND, AppImportError, ConfigError


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class Broken(Exception):
    """A bug in the server, which must keep its traceback."""


def fake_application(outcome: object, calls: list[tuple[object, object]]):
    """Stands in for WSGIApplication: records how it was made, then returns or
    raises ``outcome`` from ``run()``."""

    class FakeWSGIApplication:
        def __init__(self, usage: object, prog: object = None) -> None:
            calls.append((usage, prog))

        def run(self) -> int:
            if isinstance(outcome, BaseException):
                raise outcome
            assert isinstance(outcome, int)
            return outcome

    return FakeWSGIApplication


def run_with(monkeypatch: pytest.MonkeyPatch, outcome: object) -> list:
    calls: list[tuple[object, object]] = []
    monkeypatch.setattr(wsgiapp, "WSGIApplication", fake_application(outcome, calls))
    return calls


@pytest.mark.parametrize("status", [0, 3, 4])
def test_the_status_run_returns_is_the_exit_status(monkeypatch, status: int):
    calls = run_with(monkeypatch, status)
    with pytest.raises(SystemExit) as leaving:
        wsgiapp.run(prog="minigun")
    assert leaving.value.code == status, (
        f"WSGIApplication(...).run() returned {status}; run() exited with "
        f"{leaving.value.code!r}, expected sys.exit({status})"
    )
    assert calls == [(wsgiapp.USAGE, "minigun")], (
        f"WSGIApplication was made as {calls}; expected (USAGE, prog='minigun') once"
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            ConfigError("Invalid value for workers: 'many': expected a whole number"),
            wsgiapp.EXIT_FAILURE,
        ),
        (AppImportError("No module named 'myap' (from 'myap:app')"), APP_LOAD_ERROR),
        (AppImportError("module 'app' has no attribute 'ap'", APP_NOT_FOUND), 5),
    ],
    ids=["config-error", "app-load-error", "app-not-found"],
)
def test_a_users_mistake_is_one_line_on_stderr(monkeypatch, capsys, error, status):
    run_with(monkeypatch, error)
    with pytest.raises(SystemExit) as leaving:
        wsgiapp.run(prog="minigun")
    printed = capsys.readouterr()
    assert leaving.value.code == status, (
        f"run() raised {type(error).__name__}({str(error)!r}); exit status "
        f"{leaving.value.code!r}, expected {status} (EXIT_FAILURE for a ConfigError, "
        "the error's own exit_status for an AppImportError)"
    )
    assert printed.err == f"Error: {error}\n", (
        f"stderr was {printed.err!r}; expected exactly one line, 'Error: {error}'"
    )
    assert printed.out == "", f"stdout was {printed.out!r}; errors go to stderr"


def test_a_bug_keeps_its_traceback(monkeypatch):
    run_with(monkeypatch, Broken("a bug, not a user's mistake"))
    with pytest.raises(Broken):
        try:
            wsgiapp.run(prog="minigun")
        except SystemExit as leaving:
            pytest.fail(
                f"run() turned an unexpected exception into sys.exit({leaving.code}); "
                "only ConfigError and AppImportError are the user's to fix, a bug "
                "must reach the terminal with its traceback"
            )
