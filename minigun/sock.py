"""Listeners: the sockets the master binds once and every worker accepts on.

The chapter's question: how can many processes serve one port? The master binds and
listens *before* it forks; each child inherits the same listening socket, and the
kernel hands each new connection to one of the processes blocked in ``accept``.

Rules: ``127.0.0.1:0`` asks the kernel for a free port, and the listener reports the
real one (``Listening at: http://127.0.0.1:43117``); a listener can also come from an
inherited file descriptor (a USR2 upgrade, or systemd's socket activation), in which
case it is adopted as it is, never bound again. Only an address in use is worth
retrying (the previous server may be about to let go of it); any failure to bind ends
the start-up with one line that names the address and the reason
(:class:`~minigun.errors.HaltServer`), never a traceback.

TLS lives here too, as in gunicorn (:func:`ssl_context`, :func:`ssl_wrap_socket`):
the listeners stay plain TCP, and each accepted connection is wrapped by the worker
that accepted it, and the handshake must finish within ``header_timeout``, the same
deadline as the request head: a client that opens a connection and sends nothing
cannot hold a worker.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import time
from typing import TYPE_CHECKING

from minigun.config import Config
from minigun.errors import ConfigError, HaltServer
from minigun.glogging import Logger

if TYPE_CHECKING:  # at run time, imported by ssl_context: a server without TLS
    import ssl  # never loads OpenSSL (4 MiB per worker, the performance appendix)

BIND_ATTEMPTS = 5
BIND_RETRY_DELAY = 1.0
FIRST_UNPRIVILEGED_PORT = 1024  # POSIX tradition; Linux: ip_unprivileged_port_start

Address = tuple[str, int] | str | int
"""A parsed ``--bind``: ``(host, port)``, a Unix path, or ``fd://N``'s descriptor."""

SocketAddress = tuple[str, int] | tuple[str, int, int, int] | str | bytes
"""An address as ``accept()`` and ``getsockname()`` give it. ``(host, port)`` for
IPv4, ``(host, port, flowinfo, scope_id)`` for IPv6, a path (empty for an unnamed
peer) for a Unix socket, or bytes for a Unix peer bound in Linux's abstract
namespace."""


class BaseSocket:
    """A listening socket plus how to describe it in the log."""

    family: socket.AddressFamily = socket.AF_INET

    def __init__(self, address: Address, cfg: Config) -> None:
        """Bind ``address``; a descriptor (``fd://N``, or inherited) is adopted.

        An adopted socket that already listens is not given to ``listen()`` again:
        whoever made it chose its backlog, and a security policy (SELinux) may
        allow this process to accept on it but not to listen. One that is only
        bound (``fd://N`` from a process manager that leaves that to us) is.
        """
        self.cfg = cfg
        if isinstance(address, int):
            self.sock = socket.socket(fileno=address)
        else:
            self.sock = socket.socket(self.family, socket.SOCK_STREAM)
            self.set_options(self.sock)
            self.bind(self.sock, address)
        if not self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            self.sock.listen(cfg.backlog)
        # Asked once: a listener's address never changes, and every request's
        # environ needs it (SERVER_NAME, SERVER_PORT).
        self.server_addr: SocketAddress = self.sock.getsockname()

    def set_options(self, sock: socket.socket) -> None:
        """Allow a restart to bind while old connections sit in TIME_WAIT."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.cfg.reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)

    def bind(self, sock: socket.socket, address: tuple[str, int] | str) -> None:
        sock.bind(address)

    def fileno(self) -> int:
        return self.sock.fileno()

    def getsockname(self) -> SocketAddress:
        return self.server_addr

    def accept(self) -> tuple[socket.socket, SocketAddress]:
        return self.sock.accept()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def close(self) -> None:
        self.sock.close()

    @property
    def scheme(self) -> str:
        return "https" if self.cfg.is_ssl else "http"

    def __str__(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{self.scheme}://{host}:{port}"


class TCPSocket(BaseSocket):
    """IPv4 TCP; ``TCP_NODELAY`` because responses are written in few large pieces."""

    family = socket.AF_INET

    def set_options(self, sock: socket.socket) -> None:
        super().set_options(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class TCP6Socket(TCPSocket):
    family = socket.AF_INET6

    def __str__(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{self.scheme}://[{host}]:{port}"


class UnixSocket(BaseSocket):
    """A Unix domain socket; a stale socket file left by a dead server is removed.

    The socket file is given to ``user`` and ``group``: a front proxy that runs
    as that user (nginx's ``user www-data``) must be able to connect, and the
    master, which bound it, may be root.
    """

    family = socket.AF_UNIX

    def set_options(self, sock: socket.socket) -> None:
        """None: a path has no TIME_WAIT, and Linux refuses ``SO_REUSEPORT`` on a
        Unix socket. With ``reuse_port`` a second server takes the path over (its
        bind replaces the file), which is why a server then leaves the file in
        place when it stops (:meth:`~minigun.arbiter.Arbiter.stop`)."""

    def bind(self, sock: socket.socket, address: tuple[str, int] | str) -> None:
        assert isinstance(address, str)  # socket_class chose this class for a path
        if os.path.exists(address):
            if not stat.S_ISSOCK(os.stat(address).st_mode):
                raise ValueError("the path exists and is not a socket")
            os.unlink(address)
        old_umask = os.umask(self.cfg.umask)
        try:
            sock.bind(address)
        finally:
            os.umask(old_umask)
        os.chown(address, self.cfg.uid, self.cfg.gid)

    def __str__(self) -> str:
        return f"unix:{self.sock.getsockname()}"


def socket_class(address: Address) -> type[BaseSocket]:
    """Which listener class serves this parsed address."""
    if isinstance(address, str):
        return UnixSocket
    if isinstance(address, tuple) and ":" in address[0]:
        return TCP6Socket
    return TCPSocket


def create_sockets(
    cfg: Config, log: Logger, fds: list[int] | None = None
) -> list[BaseSocket]:
    """Bind every address in ``cfg.address``, or adopt the inherited ``fds``.

    An ``fd://N`` address is a socket whoever started minigun has bound already:
    it is adopted too, never bound.
    """
    return [
        _adopt(address, cfg)
        if isinstance(address, int)
        else _bind_with_retry(address, cfg, log)
        for address in fds or cfg.address
    ]


def worker_listeners(cfg: Config, inherited: list[BaseSocket]) -> list[BaseSocket]:
    """A forked worker's listeners: with ``reuse_port``, a socket of its own on each
    TCP address, beside the ones inherited from the master.

    Sockets bound with ``SO_REUSEPORT`` to one address form a group, and the kernel
    hands each new connection to one of them by a hash of the client's address, so
    the workers share the load evenly instead of racing in ``accept``. The master's
    socket stays in the group (it holds the address, and a USR2 passes it on), so
    the worker accepts on it too: a listening socket nobody accepts on would still
    get its share of connections, and leave those clients waiting. A Unix socket
    has no such group, and an inherited socket without ``SO_REUSEPORT`` (systemd
    without ``ReusePort=``) admits no other: those are shared, as without the
    setting.

    Raises:
        OSError: the worker cannot bind (the worker fails to boot).
    """
    if not cfg.reuse_port:
        return inherited
    own = [
        type(listener)(_host_and_port(listener), cfg)
        for listener in inherited
        if isinstance(listener, TCPSocket) and _reuses_port(listener)
    ]
    return own + inherited


def _reuses_port(listener: BaseSocket) -> bool:
    return bool(listener.sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))


def _host_and_port(listener: BaseSocket) -> tuple[str, int]:
    """The address the listener is bound to: its port, even when the bind said 0."""
    address = listener.getsockname()
    assert isinstance(address, tuple)  # a TCP listener: (host, port[, flow, scope])
    return str(address[0]), int(address[1])


def _adopt(fd: int, cfg: Config) -> BaseSocket:
    """Wrap an inherited listening descriptor in the class of its family."""
    probe = socket.socket(fileno=os.dup(fd))
    family = probe.family
    probe.close()
    cls = {socket.AF_INET6: TCP6Socket, socket.AF_UNIX: UnixSocket}.get(
        family, TCPSocket
    )
    return cls(fd, cfg)


def _bind_with_retry(address: Address, cfg: Config, log: Logger) -> BaseSocket:
    """Bind, retrying a few times while the address is still in use (a fast restart).

    Raises:
        HaltServer: naming the address and why it cannot be bound.
    """
    cls = socket_class(address)
    for attempt in range(1, BIND_ATTEMPTS + 1):
        try:
            return cls(address, cfg)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise HaltServer(cannot_bind(address, error)) from None
            log.error("Connection in use: %s (%s)", describe(address), error)
            if attempt == BIND_ATTEMPTS:
                raise HaltServer(
                    f"{cannot_bind(address, error)} (tried {attempt} times)"
                ) from None
            log.error("Retrying in %s second(s).", BIND_RETRY_DELAY)
            time.sleep(BIND_RETRY_DELAY)
        except ValueError as error:  # a Unix path that is some other kind of file
            raise HaltServer(f"Cannot listen at {describe(address)}: {error}") from None
    raise AssertionError("unreachable")


def cannot_bind(address: Address, error: OSError) -> str:
    """The one line that says which address failed to bind, and why."""
    reason = error.strerror or str(error)
    message = f"Cannot listen at {describe(address)}: {reason}"
    port = address[1] if isinstance(address, tuple) else None
    privileged = port is not None and 0 < port < FIRST_UNPRIVILEGED_PORT
    if error.errno == errno.EACCES and privileged:
        message += f" (port {port} is privileged: run as root, or set a higher port)"
    return message


def describe(address: Address) -> str:
    """An address as a user writes it in ``--bind``."""
    if isinstance(address, str):
        return f"unix:{address}"
    if isinstance(address, tuple):
        host, port = address[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"fd://{address}"


def close_sockets(listeners: list[BaseSocket], unlink: bool = True) -> None:
    """Close every listener; remove Unix socket files only when told (not on USR2)."""
    for listener in listeners:
        path = listener.getsockname() if isinstance(listener, UnixSocket) else None
        listener.close()
        if unlink and isinstance(path, str) and path:  # abstract or unnamed: no file
            with contextlib.suppress(OSError):
                os.unlink(path)


# TLS: built in each worker, applied to each accepted connection.


def ssl_context(conf: Config) -> ssl.SSLContext:
    """The TLS context a worker serves with: whatever the ``ssl_context`` hook
    returns, given a factory for the one the SSL settings describe.

    Called once as each worker boots, so the certificate is read again by every
    new worker: a HUP (which starts new workers) puts a renewed certificate in use.
    """
    import ssl  # noqa: PLC0415 (only a server with TLS needs it; see the module)

    def default_ssl_context_factory() -> ssl.SSLContext:
        if conf.certfile is None:  # TLS was asked for by a keyfile alone
            raise ConfigError("keyfile is set, but not certfile")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile=conf.certfile, keyfile=conf.keyfile)
        context.verify_mode = ssl.VerifyMode(conf.cert_reqs)
        if conf.ca_certs:
            context.load_verify_locations(cafile=conf.ca_certs)
        if conf.ciphers:
            context.set_ciphers(conf.ciphers)
        return context

    context = conf.ssl_context(conf, default_ssl_context_factory)
    if not isinstance(context, ssl.SSLContext):
        raise TypeError(f"the ssl_context hook returned {context!r}, not an SSLContext")
    return context


def ssl_wrap_socket(
    sock: socket.socket, context: ssl.SSLContext, conf: Config
) -> ssl.SSLSocket:
    """Wrap an accepted connection; no bytes move here.

    The worker then calls :func:`ssl_handshake` itself, before reading the request,
    rather than letting OpenSSL do it inside the first read: a handshake that
    happens in a *write* (an error response to a client that never shook hands)
    would wait for the client with no deadline.
    """
    return context.wrap_socket(
        sock,
        server_side=True,
        do_handshake_on_connect=False,
        suppress_ragged_eofs=conf.suppress_ragged_eofs,
    )


def ssl_handshake(sock: ssl.SSLSocket, conf: Config) -> None:
    """Shake hands now, giving the client ``header_timeout`` seconds for it.

    Raises:
        OSError: the client was too slow (``TimeoutError``) or spoke no TLS
            (``ssl.SSLError``).
    """
    previous = sock.gettimeout()
    sock.settimeout(conf.header_timeout or None)
    try:
        sock.do_handshake()
    finally:
        sock.settimeout(previous)
