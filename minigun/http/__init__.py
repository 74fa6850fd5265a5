"""HTTP/1.1 for minigun: the request parser, the errors, the WSGI layer.

The worker needs four things from this package: :class:`RequestParser` to read requests
from a connection, :func:`wsgi.create` to turn one into an environ and a response,
:func:`render_error` to answer a request that failed, and :func:`status_for` to know
which status that answer carries.
"""

from minigun.http import wsgi
from minigun.http.errors import render_error, status_for
from minigun.http.message import Request
from minigun.http.parser import RequestParser

__all__ = ["Request", "RequestParser", "render_error", "status_for", "wsgi"]
