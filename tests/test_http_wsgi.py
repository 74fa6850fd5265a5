"""The WSGI layer over a socketpair: the environ, and the response on the wire."""

import io
import socket
import sys
from collections.abc import Callable, Iterable
from http.client import HTTPResponse
from typing import Any
from wsgiref.validate import validator

import pytest

from minigun.config import Config
from minigun.glogging import WSGI_ERRORS
from minigun.http import errors, wsgi
from minigun.http import exchange as http_exchange
from minigun.http.errors import status_for
from minigun.http.message import ParseRules
from minigun.http.unreader import SocketUnreader

PEER = ("192.0.2.7", 51000)
SERVER = ("127.0.0.1", 8000)
App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def config(**settings: Any) -> Config:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return cfg


class Exchange:
    """One request through exchange, environ, app and Response, as a worker does it."""

    def __init__(self, raw: bytes, peer: Any = PEER, **settings: Any) -> None:
        self.client, self.server = socket.socketpair()
        self.client.sendall(raw)
        self.cfg = config(**settings)
        self.exchange = http_exchange.Exchange(
            ParseRules.from_config(self.cfg),
            SocketUnreader(self.server),
            peer,
            send=self.server.sendall,
        )
        req = self.exchange.next_request()
        assert req is not None
        self.req = req
        self.resp, self.environ = wsgi.create(
            self.req, self.server, peer, SERVER, self.cfg, self.exchange
        )

    def run(self, app: App, force_close: bool = False) -> bytes:
        """Serve ``app`` and return every byte the client received."""
        if force_close:
            self.exchange.refuse_keep_alive(http_exchange.Close.WORKER)
        result = app(self.environ, self.resp.start_response)
        try:
            if isinstance(result, wsgi.FileWrapper):
                self.resp.write_file(result)
            else:
                for item in result:
                    self.resp.write(item)
            self.resp.close()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return self.received()

    def received(self) -> bytes:
        self.server.shutdown(socket.SHUT_WR)
        data = b""
        while piece := self.client.recv(65536):
            data += piece
        self.client.close()
        self.server.close()
        return data


def exchange(raw: bytes, app: App, force_close: bool = False, **settings: Any) -> bytes:
    return Exchange(raw, **settings).run(app, force_close)


def environ_of(raw: bytes, peer: Any = PEER, **settings: Any) -> dict[str, Any]:
    ex = Exchange(raw, peer, **settings)
    ex.client.close()
    ex.server.close()
    return ex.environ


class ParsedResponse:
    """The client's view, decoded by the standard library's HTTP client."""

    def __init__(self, raw: bytes, method: str = "GET") -> None:
        self.raw = raw
        sock = FakeSocket(raw)
        response = HTTPResponse(sock, method=method)  # type: ignore[arg-type]
        response.begin()
        self.status = response.status
        self.headers = response.getheaders()
        self.body = response.read()

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None


class FakeSocket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def app_returning(
    body: list[bytes], status: str = "200 OK", headers: list | None = None
) -> App:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list:
        start_response(status, headers if headers is not None else [])
        return body

    return app


GET = b"GET /p HTTP/1.1\r\nHost: example.com\r\n\r\n"


# -- The environ ----------------------------------------------------------------------


def test_the_environ_has_every_key_pep_3333_requires() -> None:
    environ = environ_of(
        b"POST /a%20b/c?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\nX-A: 1\r\nX-A: 2\r\n\r\nhi"
    )
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a b/c"
    assert environ["QUERY_STRING"] == "x=1"
    assert environ["RAW_URI"] == "/a%20b/c?x=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "2"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "8080")
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["HTTP_HOST"] == "example.com:8080"
    assert environ["HTTP_X_A"] == "1,2"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("192.0.2.7", "51000")
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.errors"] is WSGI_ERRORS
    assert environ["wsgi.multithread"] is False
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert environ["wsgi.file_wrapper"] is wsgi.FileWrapper
    assert environ["wsgi.input"].read() == b"hi"


def test_without_a_host_the_server_address_names_the_server() -> None:
    environ = environ_of(b"GET / HTTP/1.0\r\n\r\n")
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")


def test_host_without_a_port_uses_the_scheme_default() -> None:
    environ = environ_of(
        b"GET / HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-Proto: https\r\n\r\n",
        peer=("127.0.0.1", 5000),
    )
    assert environ["wsgi.url_scheme"] == "https"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "443")


@pytest.mark.parametrize(
    "raw",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: exa<mple.com\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: example.com:80x\r\n\r\n",
    ],
)
def test_an_http_1_1_request_needs_exactly_one_valid_host(raw: bytes) -> None:
    with pytest.raises(errors.InvalidHeader) as caught:
        environ_of(raw)
    assert caught.value.status_code == 400


def test_script_name_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SCRIPT_NAME", "/app")
    environ = environ_of(b"GET /app/page HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/page")
    with pytest.raises(errors.ConfigurationProblem):
        environ_of(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")


def test_a_trusted_proxy_may_set_script_name() -> None:
    raw = b"GET /app/page HTTP/1.1\r\nHost: x\r\nSCRIPT_NAME: /app\r\n\r\n"
    trusted = environ_of(raw, peer=("127.0.0.1", 5000))
    assert (trusted["SCRIPT_NAME"], trusted["PATH_INFO"]) == ("/app", "/page")
    untrusted = environ_of(raw)
    assert (untrusted["SCRIPT_NAME"], untrusted["PATH_INFO"]) == ("", "/app/page")


def test_the_proxy_protocol_names_the_remote_address() -> None:
    environ = environ_of(
        b"PROXY TCP4 198.51.100.1 192.0.2.2 6000 80\r\n" + GET,
        peer=("127.0.0.1", 5000),
        proxy_protocol="v1",
    )
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("198.51.100.1", "6000")


def test_path_info_is_the_latin_1_string_of_the_decoded_bytes() -> None:
    environ = environ_of(b"GET /caf%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert environ["PATH_INFO"] == "/caf\xc3\xa9"
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == "/café"


def test_a_simple_app_passes_wsgiref_validate() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list:
        body = environ["wsgi.input"].read(100)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"got ", body]

    raw = b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    response = ParsedResponse(exchange(raw, validator(app)))
    assert (response.status, response.body) == (200, b"got abc")


# -- The response ---------------------------------------------------------------------


def test_server_and_date_are_added() -> None:
    response = ParsedResponse(exchange(GET, app_returning([b"hi"])))
    assert response.header("Server").startswith("minigun/")
    assert response.header("Date").endswith("GMT")


def test_chunked_when_an_http_1_1_keep_alive_response_has_no_length() -> None:
    raw = exchange(GET, app_returning([b"hello ", b"", b"world"]))
    response = ParsedResponse(raw)
    assert response.header("Transfer-Encoding") == "chunked"
    assert response.header("Connection") is None
    assert response.body == b"hello world"
    assert raw.endswith(b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n")


def test_a_closing_http_1_1_response_without_length_is_still_chunked() -> None:
    """So that a response cut off by a failure is seen to be (no last chunk)."""
    raw = exchange(GET, app_returning([b"hi"]), force_close=True)
    response = ParsedResponse(raw)
    assert response.header("Connection") == "close"
    assert response.header("Transfer-Encoding") == "chunked"
    assert response.body == b"hi"
    assert raw.endswith(b"2\r\nhi\r\n0\r\n\r\n")


def test_http_1_0_gets_no_chunked_and_closes_without_a_length() -> None:
    raw = exchange(b"GET / HTTP/1.0\r\n\r\n", app_returning([b"hi"]))
    assert b"Transfer-Encoding" not in raw
    assert ParsedResponse(raw).header("Connection") == "close"


def test_http_1_0_keep_alive_with_a_length_says_keep_alive() -> None:
    raw = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    response = ParsedResponse(
        exchange(raw, app_returning([b"hi"], headers=[("Content-Length", "2")]))
    )
    assert response.header("Connection") == "keep-alive"


def test_never_more_bytes_than_content_length() -> None:
    app = app_returning([b"12345", b"6789"], headers=[("Content-Length", "7")])
    raw = exchange(GET, app)
    assert raw.endswith(b"\r\n\r\n1234567")


def test_a_body_short_of_its_length_closes_the_connection() -> None:
    ex = Exchange(GET)
    ex.run(app_returning([b"123"], headers=[("Content-Length", "7")]))
    assert not ex.exchange.keeps_alive()


@pytest.mark.parametrize(
    ("request_line", "status"),
    [("HEAD / HTTP/1.1", "200 OK"), ("GET / HTTP/1.1", "204 No Content")],
)
def test_no_body_for_head_and_204(request_line: str, status: str) -> None:
    raw = f"{request_line}\r\nHost: x\r\n\r\n".encode()
    app = app_returning([b"body"], status=status, headers=[("Content-Length", "4")])
    sent = exchange(raw, app)
    assert sent.endswith(b"\r\n\r\n")
    assert b"body" not in sent
    # A HEAD may say how long the GET would be; a 204 may not (RFC 9110 sec. 8.6).
    assert (b"Content-Length: 4" in sent) == request_line.startswith("HEAD")


@pytest.mark.parametrize(
    "status", ["100 Continue", "204 No Content", "304 Not Modified"]
)
def test_a_response_that_cannot_have_a_body_goes_out_unframed(
    status: str, caplog: pytest.LogCaptureFixture
) -> None:
    wsgi.WARNED.clear()
    headers = [("Content-Length", "5"), ("Transfer-Encoding", "chunked")]
    app = app_returning([b"hello"], status=status, headers=headers)
    with caplog.at_level("WARNING", logger="minigun.error"):
        first, second = exchange(GET, app), exchange(GET, app)
    for sent in (first, second):
        head, _, body = sent.partition(b"\r\n\r\n")
        assert body == b""
        assert b"Content-Length" not in head
        assert b"Transfer-Encoding" not in head
    warnings = [r.getMessage() for r in caplog.records if r.name == "minigun.error"]
    assert len(warnings) == 2, warnings  # the header, the body: each said once


def test_304_sends_no_body_and_is_not_chunked() -> None:
    sent = exchange(GET, app_returning([b"body"], status="304 Not Modified"))
    assert sent.endswith(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in sent


def test_hop_by_hop_headers_from_the_app_are_dropped() -> None:
    headers = [
        ("Transfer-Encoding", "chunked"),
        ("Keep-Alive", "timeout=5"),
        ("Connection", "close"),
        ("X-Kept", "yes"),
    ]
    ex = Exchange(GET)
    sent = ex.run(app_returning([b"hi"], headers=headers))
    assert b"Keep-Alive" not in sent
    assert b"X-Kept: yes" in sent
    assert sent.count(b"Connection:") == 1
    assert ParsedResponse(sent).header("Connection") == "close"
    assert not ex.exchange.keeps_alive()


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("200 OK\r\nX-Injected: 1", []),
        ("2000", []),
        ("200OK", []),
        ("OK 200", []),
        ("200 OK", [("X-A", "1\r\nX-Injected: 1")]),
        ("200 OK", [("X-A", "a\nb")]),
        ("200 OK", [("X-A", "a\x00b")]),
        ("200 OK", [("X A", "1")]),
        ("200 OK", [("X-A:", "1")]),
        ("200 OK", [("X-A", "\u2603")]),
        ("200 OK", [("Content-Length", "+5")]),
    ],
)
def test_injection_in_status_or_headers_is_a_500(status: str, headers: list) -> None:
    ex = Exchange(GET)
    with pytest.raises(errors.InvalidResponse) as caught:
        ex.resp.start_response(status, headers)
    assert status_for(caught.value) == 500
    assert ex.received() == b"", "nothing may reach the client"


def test_an_invalid_header_value_stays_out_of_the_error_text() -> None:
    """The value may be a secret, and the message goes to the error log."""
    ex = Exchange(GET)
    with pytest.raises(errors.InvalidResponse) as caught:
        ex.resp.start_response("200 OK", [("Set-Cookie", "session=s3cr3t\r\n")])
    assert "s3cr3t" not in str(caught.value)
    assert "Set-Cookie" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "status_line"),
    [("200", b"HTTP/1.1 200 OK\r\n"), ("299", b"HTTP/1.1 299 \r\n")],
)
def test_a_status_without_a_reason_phrase_is_sent_with_the_usual_one(
    status: str, status_line: bytes
) -> None:
    sent = exchange(GET, app_returning([b"hi"], status=status))
    assert sent.startswith(status_line)


def test_start_response_twice_without_exc_info_is_an_error() -> None:
    ex = Exchange(GET)
    ex.resp.start_response("200 OK", [])
    with pytest.raises(errors.InvalidResponse):
        ex.resp.start_response("200 OK", [])


def test_exc_info_before_the_head_was_sent_replaces_the_response() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise RuntimeError("oops")
        except RuntimeError:
            start_response("500 Oops", [("X-Second", "1")], sys.exc_info())
        return [b"sorry"]

    response = ParsedResponse(exchange(GET, app))
    assert response.status == 500
    assert response.header("X-First") is None
    assert response.header("X-Second") == "1"


def test_exc_info_after_the_head_was_sent_raises_the_original_error() -> None:
    ex = Exchange(GET)
    write = ex.resp.start_response("200 OK", [])
    write(b"partial")
    try:
        raise RuntimeError("late")
    except RuntimeError:
        with pytest.raises(RuntimeError, match="late"):
            ex.resp.start_response("500 Oops", [], sys.exc_info())


def test_write_accepts_only_bytes() -> None:
    ex = Exchange(GET)
    write = ex.resp.start_response("200 OK", [])
    with pytest.raises(TypeError):
        write("text")  # type: ignore[arg-type]


EXPECTING = (
    b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
)


def test_100_continue_is_sent_when_the_app_reads_before_the_body_arrives() -> None:
    ex = Exchange(EXPECTING)
    ex.client.setblocking(False)
    with pytest.raises(BlockingIOError):
        ex.client.recv(100)  # nothing yet: the app has not read
    ex.client.setblocking(True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list:
        ex.client.sendall(b"hello")  # the client sends once it saw 100 Continue
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    sent = ex.run(app)
    assert sent.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert sent.endswith(b"hello")


def test_no_100_continue_when_the_app_answers_without_reading() -> None:
    ex = Exchange(EXPECTING)
    sent = ex.run(app_returning([b"no"], status="413 Content Too Large"))
    assert b"100 Continue" not in sent
    assert not ex.exchange.keeps_alive(), "the client may still send the body"


def test_a_real_file_goes_out_with_sendfile(tmp_path, monkeypatch) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789" * 1000)
    calls = []
    real_sendfile = socket.socket.sendfile

    def recording_sendfile(sock, file, offset=0, count=None):
        calls.append((offset, count))
        return real_sendfile(sock, file, offset, count)

    monkeypatch.setattr(socket.socket, "sendfile", recording_sendfile)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [])
        handle = path.open("rb")
        handle.seek(10)
        return environ["wsgi.file_wrapper"](handle)

    response = ParsedResponse(exchange(GET, app))
    assert response.body == (b"0123456789" * 1000)[10:]
    assert calls == [(10, 9990)]


def test_sendfile_respects_content_length(tmp_path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"abcdefghij")

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Length", "4")])
        return wsgi.FileWrapper(path.open("rb"))

    assert exchange(GET, app).endswith(b"\r\n\r\nabcd")


def test_a_file_without_a_descriptor_is_sent_in_blocks() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [])
        return wsgi.FileWrapper(io.BytesIO(b"x" * 20_000), blksize=4096)

    response = ParsedResponse(exchange(GET, app))
    assert response.body == b"x" * 20_000


def test_file_wrapper_closes_the_file() -> None:
    handle = io.BytesIO(b"abc")
    wrapper = wsgi.FileWrapper(handle)
    assert list(wrapper) == [b"abc"]
    wrapper.close()
    assert handle.closed


def test_the_apps_own_server_and_date_are_not_doubled() -> None:
    headers = [("Server", "app/1"), ("Date", "Thu, 01 Jan 1970 00:00:00 GMT")]
    response = ParsedResponse(exchange(GET, app_returning([b"x"], headers=headers)))
    assert response.header("Server") == "app/1"
    assert response.header("Date") == "Thu, 01 Jan 1970 00:00:00 GMT"


def test_two_content_lengths_from_the_app_are_a_500() -> None:
    ex = Exchange(GET)
    with pytest.raises(errors.InvalidResponse):
        ex.resp.start_response("200 OK", [("Content-Length", "1")] * 2)


def test_a_refused_start_response_leaves_nothing_half_set() -> None:
    ex = Exchange(GET)
    with pytest.raises(errors.InvalidResponse):
        ex.resp.start_response("200 OK", [("X-A", "1"), ("X-B", "bad\r\n")])
    assert (ex.resp.status, ex.resp.headers) == (None, [])
    ex.resp.start_response("500 Internal Server Error", [])
    assert ex.resp.status_code == 500


# --- wsgi.early_hints -----------------------------------------------------------------


def hinting_app(hints: list[tuple[str, str]], after_start: bool = False) -> App:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if not after_start:
            environ["wsgi.early_hints"](hints)
        write = start_response("200 OK", [("Content-Length", "2")])
        write(b"o")
        if after_start:
            environ["wsgi.early_hints"](hints)
        return [b"k"]

    return app


def test_early_hints_precede_the_final_head():
    raw = exchange(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", hinting_app([("Link", "</a>")])
    )
    assert raw.startswith(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK"
    )


def test_early_hints_after_the_head_send_nothing():
    hints = [("Link", "</a>")]
    raw = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", hinting_app(hints, True))
    assert b"103" not in raw
    assert raw.endswith(b"\r\n\r\nok")


def test_an_early_hint_that_would_split_the_head_is_refused():
    hints = [("Link", "</a>\r\nX-Injected: 1")]
    with pytest.raises(errors.InvalidResponse, match="control character"):
        exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", hinting_app(hints))


def test_the_date_header_is_formatted_once_a_second(monkeypatch) -> None:
    """Every response of one second shares one formatted Date; the next second
    gets its own."""
    now = [1_800_000_000.2]
    monkeypatch.setattr(wsgi.time, "time", lambda: now[0])
    first = wsgi.date_now()
    now[0] += 0.7  # the same second
    assert wsgi.date_now() is first
    now[0] += 0.2  # the next one
    assert wsgi.date_now() == "Fri, 15 Jan 2027 08:00:01 GMT"
    assert first == "Fri, 15 Jan 2027 08:00:00 GMT"
