"""Echo the request body back: proves that Content-Length and chunked bodies arrive."""

from wsgiref.validate import validator


def app(environ, start_response):
    """Reply with exactly the bytes of the request body."""
    body = environ["wsgi.input"].read()
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


validated_app = validator(app)
