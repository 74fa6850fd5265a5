"""Flask and Django apps under minigun, as users deploy them (both are test extras).

The apps are in ``framework_apps/``: a JSON route, a streamed response, Flask's
``send_file`` with ``Range``, and Django's admin login page with its static files.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

FRAMEWORK_APPS = Path(__file__).resolve().parent / "framework_apps"
DOWNLOAD = (FRAMEWORK_APPS / "download.txt").read_bytes()
WORKERS = {"sync": (), "gthread": ("--worker-class", "gthread", "--threads", "4")}


def get(server, path: str, headers: dict[str, str] | None = None):
    """``(status, headers, body)`` of one GET."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response, response.read()
    finally:
        conn.close()


@pytest.fixture(params=sorted(WORKERS))
def flask_server(serve, request):
    return serve(
        "flask_site:app", "--pythonpath", str(FRAMEWORK_APPS), *WORKERS[request.param]
    )


@pytest.fixture(params=sorted(WORKERS))
def django_server(serve, request):
    return serve(
        "django_site.wsgi:application",
        "--pythonpath", str(FRAMEWORK_APPS), *WORKERS[request.param],
    )  # fmt: skip


def test_flask_json_route(flask_server):
    status, response, body = get(flask_server, "/json")
    assert status == 200
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"ok": True, "scheme": "http", "items": [1, 2, 3]}


def test_flask_streamed_response(flask_server):
    status, response, body = get(flask_server, "/stream")
    assert status == 200
    assert response.getheader("Content-Length") is None  # chunked, or until close
    assert body == b"".join(f"piece {n}\n".encode() for n in range(5))


def test_flask_send_file_whole_and_by_range(flask_server):
    status, response, body = get(flask_server, "/download")
    assert (status, body) == (200, DOWNLOAD)
    assert response.getheader("Accept-Ranges") == "bytes"
    status, response, body = get(flask_server, "/download", {"Range": "bytes=10-19"})
    assert status == 206
    assert body == DOWNLOAD[10:20]
    assert response.getheader("Content-Range") == f"bytes 10-19/{len(DOWNLOAD)}"
    status, _response, body = get(flask_server, "/download", {"Range": "bytes=-5"})
    assert (status, body) == (206, DOWNLOAD[-5:])


def test_django_admin_login_page_and_its_static_files(django_server):
    status, response, body = get(django_server, "/admin/login/")
    assert status == 200
    page = body.decode()
    assert "csrfmiddlewaretoken" in page
    assert 'href="/static/admin/css/base.css"' in page
    assert "csrftoken=" in response.getheader("Set-Cookie", "")
    status, response, css = get(django_server, "/static/admin/css/base.css")
    assert status == 200
    assert response.getheader("Content-Type").startswith("text/css")
    assert b"body" in css


def test_django_admin_sends_an_anonymous_user_to_log_in(django_server):
    status, response, _body = get(django_server, "/admin/")
    assert status == 302
    assert response.getheader("Location") == "/admin/login/?next=/admin/"


def test_django_json_and_streaming_views(django_server):
    status, _response, body = get(django_server, "/json")
    assert (status, json.loads(body)) == (200, {"ok": True, "secure": False})
    status, response, body = get(django_server, "/stream")
    assert status == 200
    assert response.getheader("Content-Length") is None
    assert body == b"".join(f"piece {n}\n".encode() for n in range(5))
