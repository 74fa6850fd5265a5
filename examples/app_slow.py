"""Sleep before answering (``/?sleep=1.5``): a request that is still in flight.

The reply names the pid and how long it slept, so a test can tell the request was
served in full by the worker it expected.
"""

import os
import time
from urllib.parse import parse_qs
from wsgiref.validate import validator


def app(environ, start_response):
    """Sleep ``sleep`` seconds (default 0), then reply ``slept <s> in <pid>``."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    seconds = float(query.get("sleep", ["0"])[0])
    time.sleep(seconds)
    body = f"slept {seconds} in {os.getpid()}".encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]


validated_app = validator(app)
