"""A Flask app with what deployments lean on (tests/integration/test_frameworks.py).

A JSON route, a streamed response, and ``send_file`` (which answers ``Range``
requests with 206 and uses ``wsgi.file_wrapper``).
"""

from pathlib import Path

from flask import Flask, Response, jsonify, request, send_file, stream_with_context

DOWNLOAD = Path(__file__).with_name("download.txt")
STREAM_PIECES = 5

app = Flask(__name__)


@app.get("/json")
def json_route() -> Response:
    return jsonify(ok=True, scheme=request.scheme, items=[1, 2, 3])


@app.get("/stream")
def stream() -> Response:
    def pieces():
        for number in range(STREAM_PIECES):
            yield f"piece {number}\n"

    return Response(stream_with_context(pieces()), mimetype="text/plain")


@app.get("/download")
def download() -> Response:
    return send_file(DOWNLOAD, mimetype="text/plain", conditional=True)
