"""Logger: gunicorn's line shape, access-log atoms, reopening after rotation."""

import datetime
import re

from minigun.config import Config
from minigun.glogging import Logger


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
    assert atoms["b"] == atoms["B"] == "42"
    assert atoms["T"] == "2"
    assert atoms["D"] == "2000005"
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
