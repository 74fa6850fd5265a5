"""The request path every worker class shares: one connection's exchange, driven.

The chapter's question: a worker holds a connection and the application; what does
it do, in which order, to turn the client's bytes into the application's answer?

The decisions are the exchange's (:class:`~minigun.http.exchange.Exchange`: when the
connection closes, where the next request starts, whose fault a failure is). This
module does what needs a socket, the application and the worker: it reads the next
request through the exchange, runs the hooks and the application, writes the
response, sends the answer the exchange chose for a failure and logs it. The worker
hands itself over for what is its own (the request count, whether it keeps
connections open, the hooks' ``worker`` argument, the request a timeout interrupts).

Rules of the request path:

- ``post_request`` runs even when the application raised.
- A failure is logged by whose fault it was: the client's as a one-line warning that
  names the client, the application's with its traceback.
- A socket error means the client is gone: there is nobody to answer.
"""

from __future__ import annotations

import datetime
import errno
import socket
import sys
from typing import TYPE_CHECKING

from minigun.glogging import Logger
from minigun.http import errors as http_errors
from minigun.http import wsgi
from minigun.http.exchange import Close, Exchange, Failure, Fault, State
from minigun.http.message import Request
from minigun.http.unreader import SocketUnreader
from minigun.sock import BaseSocket, SocketAddress

if TYPE_CHECKING:  # the worker imports this module: a run-time import would be a cycle
    from minigun.workers.base import Worker

CLIENT_GONE = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN)  # not our fault


def open_exchange(
    worker: Worker, sock: socket.socket, peer_addr: SocketAddress
) -> Exchange:
    """A new connection's exchange: it reads ``sock``, and beats ``worker``'s
    heartbeat whenever body bytes arrive, since a body has no total deadline."""
    return Exchange(
        worker.parse_rules,
        SocketUnreader(sock),
        peer_addr,
        send=sock.sendall,
        wait_limit=worker.client_wait_limit(),
        on_progress=worker.notify,
    )


class RequestHandler:
    """Serve requests with ``worker``'s application; one per worker.

    What every request needs from the settings is read here, once: a worker's
    Config never changes (a HUP forks new workers), and reading it per request
    was a tenth of the request path's own time (the performance appendix).
    """

    def __init__(self, worker: Worker, app: wsgi.WSGIApp) -> None:
        self.worker = worker
        self.wsgi = app
        self.cfg = worker.cfg
        self.log = worker.log
        self.pre_request = self.cfg.pre_request
        self.post_request = self.cfg.post_request
        self.base_environ = wsgi.base_environ(self.cfg)  # copied for each request

    def handle(
        self,
        listener: BaseSocket,
        sock: socket.socket,
        peer_addr: SocketAddress,
        exchange: Exchange,
    ) -> bool:
        """Read the next request from ``exchange`` and answer it; ``True`` if the
        connection may carry the client's next request."""
        try:
            req = exchange.next_request()
            if req is not None:
                self.handle_request(listener, req, sock, peer_addr, exchange)
                exchange.finish_request()
        except http_errors.HTTPError as error:  # before OSError: body errors are both
            self.answer_failure(exchange.fail(error), exchange, sock, peer_addr)
        except OSError as error:
            exchange.fail(error)
            log_socket_error(self.log, error)
        except Exception as error:
            self.answer_failure(exchange.fail(error), exchange, sock, peer_addr)
        return exchange.state is State.IDLE

    def handle_request(
        self,
        listener: BaseSocket,
        req: Request,
        sock: socket.socket,
        peer_addr: SocketAddress,
        exchange: Exchange,
    ) -> None:
        """Answer ``req``: the ``pre_request`` hook, the response and the environ
        (:meth:`make_response`, which counts the request), the application
        (:meth:`run_app`), the access log. A timeout (``SystemExit`` from the
        worker's ``ABRT`` handler) is answered 500 if it still can be, and then ends
        the worker.
        """
        environ: wsgi.Environ = {}
        resp = None
        self.worker.note_request_in_hand(req)
        try:
            self.worker.call_hook_or_raise(
                "pre_request", self.pre_request, self.worker, req
            )
            started = datetime.datetime.now()
            resp, environ = self.make_response(listener, req, sock, peer_addr, exchange)
            self.run_app(resp, environ)
            self.log.access(resp, req, environ, datetime.datetime.now() - started)
        except SystemExit:  # handle_abort: the master's timeout interrupted the app
            if self.worker.aborted:
                self.answer_failure(exchange.time_out(), exchange, sock, peer_addr)
            raise
        finally:
            self.worker.note_request_in_hand(None)
            self.worker.call_hook(
                "post_request", self.post_request, self.worker, req, environ, resp
            )

    def make_response(
        self,
        listener: BaseSocket,
        req: Request,
        sock: socket.socket,
        peer_addr: SocketAddress,
        exchange: Exchange,
    ) -> tuple[wsgi.Response, wsgi.Environ]:
        """The response and the environ for ``req``, counting the request first."""
        server_addr = listener.getsockname()
        resp, environ = wsgi.create(
            req, sock, peer_addr, server_addr, self.cfg, exchange, self.base_environ
        )
        self.worker.count_request()
        if not self.worker.keeps_connection_open():
            exchange.refuse_keep_alive(Close.WORKER)
        return resp, environ

    def run_app(self, resp: wsgi.Response, environ: wsgi.Environ) -> None:
        """Call the WSGI application and write its body.

        The body's ``close()`` is always called, even when iterating it failed
        (PEP 3333): frameworks release connections and end request scopes there.
        """
        # exercise: wsgi-call
        body = self.wsgi(environ, resp.start_response)
        try:
            if isinstance(body, wsgi.FileWrapper):
                resp.write_file(body)  # socket.sendfile when it is a real file
            else:
                for chunk in body:
                    resp.write(chunk)
            resp.close()
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        # end-exercise: wsgi-call

    # Failures: the exchange decided; here they are answered and logged.

    def answer_failure(
        self,
        failure: Failure,
        exchange: Exchange,
        sock: socket.socket,
        peer_addr: SocketAddress,
    ) -> None:
        """Log ``failure`` by whose fault it was, and answer it if nothing of the
        response was sent (then the connection closes either way).

        Called inside the ``except`` block that caught the error, so an
        application's failure is logged with its traceback.
        """
        req = exchange.request
        LOG_FAILURE[failure.fault](self.log, failure, req, peer_addr)
        if not failure.answerable:
            return
        try:
            sock.sendall(http_errors.render_error(failure.error))
        except OSError:
            self.log.debug(
                "Could not send the error response to %s", peer_text(peer_addr)
            )
        log_failed_access(self.log, req, peer_addr, int(failure.status))


def log_client_fault(
    log: Logger, failure: Failure, req: Request | None, peer_addr: SocketAddress
) -> None:
    """A bad request: a warning that names the client, as gunicorn's does."""
    when = "" if failure.answerable else " after the response started"
    log.warning(
        "Invalid request from ip=%s%s: %s", peer_text(peer_addr), when, failure.error
    )


def log_application_fault(
    log: Logger, failure: Failure, req: Request | None, peer_addr: SocketAddress
) -> None:
    """A bug in the application (or its use of WSGI): the traceback."""
    if failure.answerable:
        log.exception("Error handling request %s", req.uri if req else "")
    else:
        log.exception("Error handling request (response already started)")


def log_timeout(
    log: Logger, failure: Failure, req: Request | None, peer_addr: SocketAddress
) -> None:
    """The worker's ``ABRT`` handler has already named the request."""


LOG_FAILURE = {
    Fault.CLIENT: log_client_fault,
    Fault.APPLICATION: log_application_fault,
    Fault.TIMEOUT: log_timeout,
}


def log_socket_error(log: Logger, error: OSError) -> None:
    """A client that hung up is routine (debug); any other socket error is ours."""
    if error.errno in CLIENT_GONE:
        log.debug("Client went away: %s", error)
    elif is_tls_error(error):  # no TLS, or broken TLS: the client's
        log.debug("TLS error: %s", error)
    else:
        log.exception("Socket error processing request.")


def is_tls_error(error: OSError) -> bool:
    """Whether ``error`` is OpenSSL's. Only a server with TLS imports ``ssl``
    (:func:`minigun.sock.ssl_context`), and without it no error can be one."""
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(error, ssl.SSLError)


def log_failed_access(
    log: Logger, req: Request | None, peer_addr: SocketAddress, status: int
) -> None:
    """An access-log line for a request that ended in an error response.

    A request refused while it was parsed (``req`` is ``None``) gets its line too,
    with ``-`` for what was never read: an operator counting 400s in the access log
    must find every one.
    """
    environ = {"REMOTE_ADDR": peer_text(peer_addr), "RAW_URI": "-"}
    if req is not None:
        environ.update(
            REQUEST_METHOD=req.method,
            RAW_URI=req.uri,
            SERVER_PROTOCOL="HTTP/{}.{}".format(*req.version),
        )
    log.access(ErrorResponse(status), req, environ, datetime.timedelta(0))


class ErrorResponse:
    """What the access log needs to know about an error response."""

    def __init__(self, status_code: int) -> None:
        self.status = str(status_code)
        self.status_code = status_code
        self.sent = 0
        self.headers: list[tuple[str, str]] = []


def peer_text(peer_addr: SocketAddress | None) -> str:
    """The peer's host for a log line: the IP of a TCP peer, else what there is."""
    if isinstance(peer_addr, tuple) and peer_addr:
        return str(peer_addr[0])
    return str(peer_addr or "-")
