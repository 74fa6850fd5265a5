"""Exercise 3: ``import_app`` turns ``MODULE:VARIABLE`` into the WSGI callable."""

from pathlib import Path

import pytest

import minigun
from minigun.errors import AppImportError
from minigun.util import import_app

APP_MODULE = """\
def app(environ, start_response):
    start_response("200 OK", [])
    return [b"from app"]


def application(environ, start_response):
    start_response("200 OK", [])
    return [b"from application"]


def create_app(stage):
    def staged(environ, start_response):
        start_response("200 OK", [])
        return [stage.encode()]

    return staged
"""


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


@pytest.fixture
def module_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Writes the test app under a name of the test's choosing, importable at once."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str) -> str:
        (tmp_path / f"{name}.py").write_text(APP_MODULE)
        return name

    return write


def body_of(app) -> bytes:
    """Calls a WSGI app the way a server would and joins its body."""
    return b"".join(app({}, lambda status, headers: None))


def test_module_and_variable(module_named):
    module = module_named("exercise_app_variable")
    app = import_app(f"{module}:app")
    assert body_of(app) == b"from app", (
        f"import_app('{module}:app') returned {app!r}, expected the module's `app`"
    )


def test_module_alone_means_application(module_named):
    module = module_named("exercise_app_default")
    app = import_app(module)
    assert body_of(app) == b"from application", (
        f"import_app('{module}') returned {app!r}, expected the module's "
        "`application` (DEFAULT_APP_VARIABLE)"
    )


def test_factory_is_called_with_its_literal_arguments(module_named):
    module = module_named("exercise_app_factory")
    app = import_app(f"{module}:create_app('staging')")
    assert body_of(app) == b"staging", (
        f"import_app(\"{module}:create_app('staging')\") returned an app answering "
        f"{body_of(app)!r}, expected create_app('staging')'s app answering b'staging'"
    )


def test_a_missing_module_is_named(module_named):
    with pytest.raises(AppImportError) as raised:
        import_app("exercise_no_such_module:app")
    message = str(raised.value)
    assert "exercise_no_such_module" in message, (
        f"import_app('exercise_no_such_module:app') said {message!r}; "
        "expected the message to name the missing module"
    )


def test_a_missing_name_is_named(module_named):
    module = module_named("exercise_app_missing_name")
    with pytest.raises(AppImportError) as raised:
        import_app(f"{module}:nothing_here")
    message = str(raised.value)
    assert "nothing_here" in message and module in message, (
        f"import_app('{module}:nothing_here') said {message!r}; expected it to name "
        "both the attribute and the module"
    )
