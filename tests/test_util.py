"""import_app in all its forms and all its failures, parse_address, load_class."""

import os
import sys
import textwrap

import pytest

from minigun import util
from minigun.errors import AppImportError


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """Write a throwaway module under tmp_path and make it importable."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))

    return make


APP_SOURCE = """
    def application(environ, start_response):
        return [b"default"]

    def app(environ, start_response):
        return [b"named"]

    def create_app(greeting="hi", times=1):
        def app(environ, start_response):
            return [(greeting * times).encode()]
        return app

    def broken_factory():
        raise RuntimeError("database unreachable")

    def none_factory():
        return None

    not_callable = 42
"""


def call(app) -> bytes:
    return b"".join(app({}, lambda status, headers: None))


def test_module_alone_finds_the_variable_named_application(make_module):
    make_module("m_default", APP_SOURCE)
    assert call(util.import_app("m_default")) == b"default"


def test_module_colon_variable(make_module):
    make_module("m_named", APP_SOURCE)
    assert call(util.import_app("m_named:app")) == b"named"


def test_factory_without_arguments(make_module):
    make_module("m_factory", APP_SOURCE)
    assert call(util.import_app("m_factory:create_app()")) == b"hi"


def test_factory_with_literal_arguments(make_module):
    make_module("m_factory_args", APP_SOURCE)
    app = util.import_app("m_factory_args:create_app('ho', times=3)")
    assert call(app) == b"hohoho"


def test_factory_arguments_are_never_evaluated(make_module, tmp_path):
    make_module("m_no_eval", APP_SOURCE)
    witness = tmp_path / "evaluated"
    uri = f"m_no_eval:create_app(open({str(witness)!r}, 'w'))"
    with pytest.raises(AppImportError, match="literal arguments"):
        util.import_app(uri)
    assert not witness.exists()


def test_unparsable_expression_is_named(make_module):
    make_module("m_bad_expr", APP_SOURCE)
    with pytest.raises(
        AppImportError, match=r"Failed to parse 'app\.x' in 'm_bad_expr"
    ):
        util.import_app("m_bad_expr:app.x")


def test_missing_module_says_the_module_itself_is_missing(make_module):
    with pytest.raises(AppImportError) as info:
        util.import_app("no_such_module_here:app")
    message = str(info.value)
    assert "Failed to find the module 'no_such_module_here'" in message
    assert "inside it" not in message


def test_missing_submodule_of_a_missing_package_is_the_module_itself():
    with pytest.raises(AppImportError, match=r"Failed to find the module 'nopkg\.sub'"):
        util.import_app("nopkg.sub:app")


def test_failing_import_inside_the_module_names_the_inner_module(make_module):
    make_module("m_inner", "import not_installed_dependency\napp = None\n")
    with pytest.raises(AppImportError) as info:
        util.import_app("m_inner:app")
    message = str(info.value)
    assert "The module 'm_inner' was found, but an import inside it failed" in message
    assert "not_installed_dependency" in message
    assert "m_inner.py:1" in message


def test_module_that_raises_while_importing(make_module):
    make_module("m_raises", "x = 1\nraise ValueError('bad settings')\n")
    with pytest.raises(AppImportError) as info:
        util.import_app("m_raises:app")
    message = str(info.value)
    assert "Importing the module 'm_raises' raised ValueError: bad settings" in message
    assert "m_raises.py:2" in message


def test_missing_attribute_is_named_with_its_module(make_module):
    make_module("m_attr", APP_SOURCE)
    with pytest.raises(
        AppImportError,
        match="Failed to find the attribute 'nope' in the module 'm_attr'",
    ):
        util.import_app("m_attr:nope")


def test_not_callable_application(make_module):
    make_module("m_not_callable", APP_SOURCE)
    with pytest.raises(AppImportError, match="must be callable, but it is int 42"):
        util.import_app("m_not_callable:not_callable")


def test_factory_that_raises_is_named(make_module):
    make_module("m_broken_factory", APP_SOURCE)
    with pytest.raises(AppImportError) as info:
        util.import_app("m_broken_factory:broken_factory()")
    message = str(info.value)
    assert "The app factory 'broken_factory'" in message
    assert "RuntimeError: database unreachable" in message


def test_factory_returning_none(make_module):
    make_module("m_none_factory", APP_SOURCE)
    with pytest.raises(AppImportError, match="returned None"):
        util.import_app("m_none_factory:none_factory()")


def test_calling_something_that_is_not_a_function(make_module):
    make_module("m_call_int", APP_SOURCE)
    with pytest.raises(AppImportError, match="cannot be called as an app factory"):
        util.import_app("m_call_int:not_callable()")


def test_empty_module_name():
    with pytest.raises(AppImportError, match="No module given"):
        util.import_app(":app")


@pytest.mark.parametrize(
    ("bind", "expected"),
    [
        ("127.0.0.1:8000", ("127.0.0.1", 8000)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("localhost", ("localhost", 8000)),
        (":9000", ("0.0.0.0", 9000)),
        ("tcp://example.org:80", ("example.org", 80)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::1]", ("::1", 8000)),
        ("unix:/tmp/minigun.sock", "/tmp/minigun.sock"),
        ("unix:///tmp/minigun.sock", "/tmp/minigun.sock"),
        ("fd://3", 3),
    ],
)
def test_parse_address(bind, expected):
    assert util.parse_address(bind) == expected


@pytest.mark.parametrize("bind", ["127.0.0.1:http", "127.0.0.1:70000", "fd://x"])
def test_parse_address_rejects(bind):
    with pytest.raises(ValueError, match=r"port|file descriptor"):
        util.parse_address(bind)


def test_load_class_by_dotted_path():
    assert (
        util.load_class("collections.OrderedDict")
        is __import__("collections").OrderedDict
    )


def test_load_class_by_short_name_from_the_section():
    section = {"dict": "collections.OrderedDict"}
    assert util.load_class("dict", section=section).__name__ == "OrderedDict"


def test_load_class_names_what_failed():
    with pytest.raises(ImportError, match=r"'nowhere\.Nothing'"):
        util.load_class("nowhere.Nothing")
    with pytest.raises(ImportError, match="neither a known name"):
        util.load_class("eventlet")


def test_http_date_is_rfc_9110_imf_fixdate():
    assert util.http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_is_hoppish():
    assert util.is_hoppish("Connection")
    assert util.is_hoppish("transfer-encoding")
    assert not util.is_hoppish("Content-Length")


def test_getcwd_keeps_the_symlink_the_user_went_through(tmp_path, monkeypatch):
    release = tmp_path / "release-1"
    release.mkdir()
    current = tmp_path / "current"
    current.symlink_to(release)
    monkeypatch.chdir(current)
    monkeypatch.setenv("PWD", str(current))
    assert util.getcwd() == str(current)
    monkeypatch.setenv("PWD", str(tmp_path))  # stale: not where we are
    assert util.getcwd() == str(release)


def test_user_and_group_names_and_numbers():
    import grp
    import os
    import pwd

    me = pwd.getpwuid(os.geteuid()).pw_name
    assert util.user_to_uid(me) == os.geteuid()
    assert util.user_to_uid("1234") == 1234
    assert util.group_to_gid(grp.getgrgid(os.getegid()).gr_name) == os.getegid()
    with pytest.raises(ValueError, match="no such group"):
        util.group_to_gid("no-such-group-xyz")


def test_an_app_directory_goes_after_the_standard_library(monkeypatch, tmp_path):
    """Before the installed packages, after the standard library and the app
    directories already there (chdir's, then each pythonpath in the order given);
    moved, not doubled, when Python put it first; left in place when it is asked
    again (a worker loads the app again)."""
    import site

    installed = site.getsitepackages()[0]
    first = os.path.dirname(os.__file__)
    app, lib = str(tmp_path / "app"), str(tmp_path / "lib")
    monkeypatch.setattr(sys, "path", [app, first, installed])
    util.add_app_directory(app)
    assert sys.path == [first, app, installed]
    util.add_app_directory(lib)
    util.add_app_directory(app)
    assert sys.path == [first, app, lib, installed]
