"""Echo the request body back: proves that Content-Length and chunked bodies arrive."""

from wsgiref.validate import validator


def app(environ, start_response):
    """Reply with exactly the bytes of the request body (read in pieces until the
    end, which works for both framings and is what PEP 3333's ``read(size)`` allows)."""
    pieces = []
    while piece := environ["wsgi.input"].read(65536):
        pieces.append(piece)
    body = b"".join(pieces)
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


validated_app = validator(app)
