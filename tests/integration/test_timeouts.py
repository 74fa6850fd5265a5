"""A timed-out request still gets an answer: 500 at about ``timeout``, before the
worker is replaced, and a log line that names the request."""

from __future__ import annotations

import http.client
import time

TIMEOUT = 2.0


def test_a_timed_out_request_is_answered_500_and_named_in_the_log(serve):
    server = serve(
        "examples.app_slow:app",
        *("--timeout", str(int(TIMEOUT)), "--access-logfile", "-"),
    )
    stuck = server.booted_pids()[0]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    started = time.monotonic()
    conn.request("GET", "/slow?sleep=8")
    response = conn.getresponse()
    answered_after = time.monotonic() - started
    body = response.read()
    conn.close()
    assert response.status == 500, body
    assert TIMEOUT <= answered_after < TIMEOUT + 1.0, answered_after
    server.wait_for(f"WORKER TIMEOUT \\(pid:{stuck}\\)")
    server.wait_for(rf"Request timed out after 2 s: GET /slow\?sleep=8 \(pid:{stuck}\)")
    answered = server.wait_for(r'"GET /slow\?sleep=8 HTTP/1.1" 500')[0]
    replaced = server.wait_for("Booting worker", count=2)[1]
    assert answered.start() < replaced.start(), "answered only after the replacement"
    assert server.request("/?sleep=0")[0] == 200


def test_a_timeout_after_the_response_started_only_closes(serve, tmp_path):
    (tmp_path / "halfway.py").write_text(
        "import time\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    yield b'first part'\n"
        "    time.sleep(8)\n"
        "    yield b'never sent'\n"
    )
    server = serve("halfway:app", "--pythonpath", str(tmp_path), "--timeout", "2")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    conn.request("GET", "/halfway")
    response = conn.getresponse()
    assert response.status == 200
    try:
        body = response.read()
    except http.client.IncompleteRead as partial:
        body = partial.partial
    conn.close()
    assert body == b"first part"
    server.wait_for(r"Request timed out after 2 s: GET /halfway")
    assert "HTTP/1.1 500" not in server.log.text
