"""Logger: gunicorn's line shape, access-log atoms, reopening after rotation."""

import base64
import datetime
import re

import pytest

from minigun.config import Config
from minigun.glogging import Logger, escape_value


class FakeResponse:
    status = "201 Created"
    status_code = 201
    sent = 42
    headers = (("Content-Type", "text/plain"), ("X-Trace", "abc"))


class FakeRequest:
    headers = (("USER-AGENT", "curl/8"), ("X-REQUEST-ID", "r-1"))


ENVIRON = {
    "REMOTE_ADDR": "10.0.0.7",
    "REQUEST_METHOD": "GET",
    "RAW_URI": "/path?q=1",
    "PATH_INFO": "/path",
    "QUERY_STRING": "q=1",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_USER_AGENT": "curl/8",
    "HTTP_REFERER": "http://example/",
    "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz",  # user:pass
    "wsgi.url_scheme": "http",
}


def make_logger(tmp_path, **settings):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    for name, value in settings.items():
        cfg.set(name, value)
    return Logger(cfg)


def test_error_lines_have_gunicorns_shape(tmp_path):
    log = make_logger(tmp_path)
    log.info("Listening at: %s (%s)", "http://127.0.0.1:8000", 1234)
    line = (tmp_path / "error.log").read_text()
    pattern = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[INFO\] Listening"
    assert re.match(pattern, line), line


def test_loglevel_filters(tmp_path):
    log = make_logger(tmp_path, loglevel="warning")
    log.info("quiet")
    log.warning("loud")
    text = (tmp_path / "error.log").read_text()
    assert "quiet" not in text
    assert "[WARNING] loud" in text


def test_default_access_line(tmp_path):
    log = make_logger(tmp_path, accesslog=str(tmp_path / "access.log"))
    log.access(FakeResponse(), FakeRequest(), ENVIRON, datetime.timedelta(seconds=1.5))
    line = (tmp_path / "access.log").read_text()
    assert line.startswith("10.0.0.7 - user [")
    assert '"GET /path?q=1 HTTP/1.1" 201 42 "http://example/" "curl/8"' in line


def test_every_atom(tmp_path):
    log = make_logger(tmp_path)
    atoms = log.atoms(
        FakeResponse(),
        FakeRequest(),
        ENVIRON,
        datetime.timedelta(seconds=2, microseconds=5),
    )
    assert atoms["h"] == "10.0.0.7"
    assert atoms["s"] == "201"
    assert atoms["b"] == "42"
    assert atoms["B"] == 42
    assert atoms["T"] == 2
    assert atoms["D"] == 2000005
    assert atoms["M"] == 2000
    assert atoms["L"] == "2.000005"
    assert atoms["{x-request-id}i"] == "r-1"
    assert atoms["{x-trace}o"] == "abc"
    assert atoms["{wsgi.url_scheme}e"] == "http"
    assert atoms["p"].startswith("<")
    assert atoms["{missing}i"] == "-"


def test_no_access_log_without_the_setting(tmp_path, capsys):
    log = make_logger(tmp_path)
    log.access(FakeResponse(), FakeRequest(), ENVIRON, datetime.timedelta(0))
    assert capsys.readouterr().out == ""


def test_reopen_files_follows_a_rotation(tmp_path):
    log = make_logger(tmp_path, accesslog=str(tmp_path / "access.log"))
    (tmp_path / "error.log").rename(tmp_path / "error.log.1")
    (tmp_path / "access.log").rename(tmp_path / "access.log.1")
    log.reopen_files()
    log.info("after rotation")
    log.access(FakeResponse(), FakeRequest(), ENVIRON, datetime.timedelta(0))
    assert "after rotation" in (tmp_path / "error.log").read_text()
    assert "after rotation" not in (tmp_path / "error.log.1").read_text()
    assert "GET /path" in (tmp_path / "access.log").read_text()


class EmptyResponse(FakeResponse):
    sent = 0


def test_numeric_atoms_are_ints_and_an_empty_body_is_0(tmp_path):
    log = make_logger(
        tmp_path,
        accesslog=str(tmp_path / "access.log"),
        access_log_format="%(b)s %(B)d %(T)d %(D)d %(M)d",
    )
    log.access(EmptyResponse(), FakeRequest(), ENVIRON, datetime.timedelta(0, 3, 7))
    assert (tmp_path / "access.log").read_text() == "0 0 3 3000007 3000\n"


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("plain", "plain"),
        ("\x1b[2J", "\\x1b[2J"),  # ESC: would clear the operator's terminal
        ("a\r\nforged", "a\\x0d\\x0aforged"),  # a second, forged line
        ('quo"te\\', "quo\\x22te\\x5c"),  # the field delimiter, the escape
        ("caf\xc3\xa9", "caf\u00e9"),  # UTF-8 bytes (latin-1 str) read as UTF-8
        ("bad\xff\xc3", "bad\\xff\\xc3"),  # not UTF-8: the bytes, escaped
        ("\x85next", "\\x85next"),  # a C1 control (NEL), from a latin-1 byte
        ("snow\u2603", "snow\u2603"),  # an application's own non-latin-1 str
    ],
)
def test_escape_value(raw, logged):
    assert escape_value(raw) == logged


def test_every_text_atom_is_escaped(tmp_path):
    user = base64.b64encode(b"\x1b]0;pwned\x07:pw").decode()
    environ = {
        **ENVIRON,
        "HTTP_AUTHORIZATION": f"Basic {user}",
        "RAW_URI": "/\xff\x1b",
        "HTTP_USER_AGENT": "ua\x1b",
        "HTTP_REFERER": "ref\x00",
        "wsgi.custom": "e\x1b",
    }
    log = make_logger(
        tmp_path,
        accesslog=str(tmp_path / "access.log"),
        access_log_format='%(u)s "%(r)s" %(a)s %(f)s %({wsgi.custom}e)s %({x-a}i)s',
    )

    class Request:
        headers = (("X-A", "i\x1b"),)

    log.access(FakeResponse(), Request(), environ, datetime.timedelta(0))
    line = (tmp_path / "access.log").read_text()
    assert line == (
        '\\x1b]0;pwned\\x07 "GET /\\xff\\x1b HTTP/1.1" ua\\x1b ref\\x00 e\\x1b i\\x1b\n'
    )


class MutatingValue:
    """An environ value whose ``str()`` adds keys to the environ, as Bottle's
    request object does (it caches what it parses in the environ)."""

    def __init__(self, environ):
        self.environ = environ

    def __str__(self):
        for number in range(10):
            self.environ[f"cache.{number}"] = number
        return "mutated"


def test_an_environ_changed_while_it_is_read_still_logs(tmp_path):
    log = make_logger(
        tmp_path,
        accesslog=str(tmp_path / "access.log"),
        access_log_format="%({app.request}e)s %(s)s",
    )
    environ = dict(ENVIRON)
    environ["app.request"] = MutatingValue(environ)
    log.access(FakeResponse(), FakeRequest(), environ, datetime.timedelta(0))
    assert (tmp_path / "access.log").read_text() == "mutated 201\n"
    assert "Failed" not in (tmp_path / "error.log").read_text()
