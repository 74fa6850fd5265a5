"""statsd: the logger that also counts.

The chapter's question: an operator wants graphs (requests a second, how long they
take, how many 5xx, how many workers) without a second agent inside the server. The
server already sees every request once, in :meth:`Logger.access`, and every worker
change in the master's log; a logger subclass can turn those same calls into
metrics. That is gunicorn's design, kept here: setting ``statsd_host`` makes
:class:`Statsd` the default ``logger_class``.

Rules of this module:

- Metrics travel as statsd text lines over UDP (or a Unix datagram socket), one
  datagram each, fire and forget: a metric never slows or fails a request. A send
  that fails is logged as a warning by the plain logger (never counted, so it
  cannot loop).
- The names are gunicorn's, so the dashboards and alerts of a gunicorn user keep
  working: ``gunicorn.requests`` (counter), ``gunicorn.request.duration``
  (timer, milliseconds), ``gunicorn.request.status.CODE`` (counter),
  ``gunicorn.workers`` (gauge), ``gunicorn.log.LEVEL`` (counter, for critical,
  error, warning and exception lines). ``statsd_prefix`` goes in front, with a dot;
  ``dogstatsd_tags`` goes after ``|#``.
- The socket is made in the master and inherited by every worker: a datagram
  socket has no connection state to share, so the processes cannot interfere.
"""

from __future__ import annotations

import datetime
import socket
from typing import TYPE_CHECKING

from minigun import util
from minigun.config import Config
from minigun.glogging import Extra, LoggedResponse, Logger

if TYPE_CHECKING:  # annotations only, as in glogging
    from minigun.http import message, wsgi

METRIC_VAR = "metric"
VALUE_VAR = "value"
MTYPE_VAR = "mtype"
GAUGE_TYPE = "gauge"
COUNTER_TYPE = "counter"
HISTOGRAM_TYPE = "histogram"
SAMPLING_RATE = 1.0
MILLISECONDS = datetime.timedelta(milliseconds=1)


class Statsd(Logger):
    """A :class:`~minigun.glogging.Logger` that also sends statsd metrics."""

    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        prefix = cfg.statsd_prefix.strip(".")
        self.prefix = f"{prefix}." if prefix else ""
        self.tags = cfg.dogstatsd_tags
        self.sock: socket.socket | None = None
        try:
            self.sock = _connect(cfg.statsd_host)
        except OSError as error:  # no such host, no such socket file
            Logger.warning(
                self, "Cannot reach statsd at %s: %s", cfg.statsd_host, error
            )

    # The error log: lines that call for attention are counted too.

    def critical(self, msg: str, *args: object, extra: Extra = None) -> None:
        super().critical(msg, *args, extra=extra)
        self.increment("gunicorn.log.critical")

    def error(self, msg: str, *args: object, extra: Extra = None) -> None:
        super().error(msg, *args, extra=extra)
        self.increment("gunicorn.log.error")

    def warning(self, msg: str, *args: object, extra: Extra = None) -> None:
        super().warning(msg, *args, extra=extra)
        self.increment("gunicorn.log.warning")

    def exception(self, msg: str, *args: object, extra: Extra = None) -> None:
        super().exception(msg, *args, extra=extra)
        self.increment("gunicorn.log.exception")

    def info(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.send_extra(extra)
        super().info(msg, *args, extra=extra)

    def debug(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.send_extra(extra)
        super().debug(msg, *args, extra=extra)

    def send_extra(self, extra: Extra) -> None:
        """Send the metric a log call carries in ``extra``, if it carries one
        (the master's ``gunicorn.workers`` gauge does)."""
        if not extra or METRIC_VAR not in extra:
            return
        name, value = str(extra[METRIC_VAR]), extra.get(VALUE_VAR)
        if not isinstance(value, int | float):
            return
        kind = extra.get(MTYPE_VAR)
        if kind == GAUGE_TYPE:
            self.gauge(name, value)
        elif kind == COUNTER_TYPE:
            self.increment(name, value)
        elif kind == HISTOGRAM_TYPE:
            self.histogram(name, value)

    # The access log: every request is counted, timed and sorted by status.

    def access(
        self,
        resp: LoggedResponse,
        req: message.Request | None,
        environ: wsgi.Environ,
        request_time: datetime.timedelta,
    ) -> None:
        super().access(resp, req, environ, request_time)
        self.histogram("gunicorn.request.duration", request_time / MILLISECONDS)
        self.increment("gunicorn.requests")
        if resp.status_code is not None:
            self.increment(f"gunicorn.request.status.{resp.status_code}")

    # The statsd line protocol: NAME:VALUE|TYPE.

    def gauge(self, name: str, value: float) -> None:
        self.send(f"{self.prefix}{name}:{value}|g")

    def increment(self, name: str, value: float = 1) -> None:
        self.send(f"{self.prefix}{name}:{value}|c|@{SAMPLING_RATE}")

    def decrement(self, name: str, value: float = 1) -> None:
        self.send(f"{self.prefix}{name}:-{value}|c|@{SAMPLING_RATE}")

    def histogram(self, name: str, value: float) -> None:
        self.send(f"{self.prefix}{name}:{value}|ms")

    def send(self, line: str) -> None:
        """One datagram; a failure is reported by the plain logger, not counted."""
        if self.tags:
            line = f"{line}|#{self.tags}"
        try:
            if self.sock is not None:
                self.sock.send(line.encode("ascii"))
        except OSError as error:
            Logger.warning(self, "Error sending message to statsd: %s", error)


def _connect(address_text: str | None) -> socket.socket | None:
    """A datagram socket connected to the statsd server (``None`` without one).

    Connecting a datagram socket sends nothing: it fixes the destination once,
    so each metric is one ``send``, and lets the kernel report an unreachable
    port on a later send.
    """
    if not address_text:
        return None
    address = util.parse_address(address_text, util.STATSD_DEFAULT_PORT)
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.connect(address)
        return sock
    if isinstance(address, int):
        raise ValueError(f"statsd_host {address_text!r} is not HOST:PORT")
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        *address, type=socket.SOCK_DGRAM
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.connect(sockaddr)
    return sock
