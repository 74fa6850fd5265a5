"""Logging: what the server tells its operator, and the access log.

The chapter's question: how does a server with many processes keep one readable log?
Every process (master and workers) writes whole lines to the same files, each line
stamped with its pid, in gunicorn's shape::

    [2026-11-21 12:00:00 +0000] [1234] [INFO] Listening at: http://127.0.0.1:8000 (1234)

Rules of this module:

- ``errorlog`` ``-`` means standard error; ``accesslog`` ``-`` means standard output;
  no ``accesslog`` means no access log at all.
- The access log line is ``access_log_format`` filled from a table of *atoms*
  (``h`` remote address, ``s`` status, ``{user-agent}i`` a request header, ...).
  An atom with no value renders as ``-``. Every text value is escaped
  (:func:`escape_value`): a request's bytes never reach the log file raw, so a
  control byte cannot rewrite the operator's terminal or forge a line. The sizes
  and durations (``B``, ``T``, ``D``, ``M``) are integers, so ``%(B)d`` works.
- The access log reads the environ once, by copying it (:meth:`Logger.atoms`):
  an application may still change the environ while its values are turned to text
  (Bottle caches parsed values in it when asked for its ``repr``).
- The two loggers are named ``minigun.error`` and ``minigun.access``. A
  ``logconfig_dict``, ``logconfig_json`` or ``logconfig`` (ini) file is applied on top
  of minigun's own set-up, in the master; the workers it forks inherit the result. A
  configuration written for gunicorn names ``gunicorn.error`` and ``gunicorn.access``:
  it is applied as it is, and a warning says which names to change.
- With ``syslog`` set, both logs also go to syslog through the standard library's
  :class:`~logging.handlers.SysLogHandler` (the access log too, unless
  ``disable_redirect_access_to_syslog``), each line tagged
  ``minigun.PREFIX.error:`` or ``minigun.PREFIX.access:`` and the pid.
- The class is a setting (``logger_class``): a subclass may override any method
  here. Every error-log method takes an ``extra`` mapping, passed to
  :mod:`logging`; the master reports its number of workers through it
  (``extra={"metric": ..., "value": ..., "mtype": "gauge"}``), which
  :mod:`minigun.instrument.statsd` turns into a metric, as gunicorn's does.
- :meth:`Logger.reopen_files` closes and reopens every log file by name, so that
  ``logrotate`` can move a file away and send ``SIGUSR1``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from minigun import util
from minigun.config import Config
from minigun.errors import ConfigError

if TYPE_CHECKING:  # annotations only: http.wsgi imports sock, which imports this module
    from minigun.http import message, wsgi

LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
ERROR_LINE_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s"
ERROR_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
ACCESS_DATE_FORMAT = "[%d/%b/%Y:%H:%M:%S %z]"
STDERR_NAME = "-"
MICROSECONDS = 1_000_000
ERROR_LOGGER = "minigun.error"
ACCESS_LOGGER = "minigun.access"
GUNICORN_LOGGERS = {"gunicorn.error": ERROR_LOGGER, "gunicorn.access": ACCESS_LOGGER}
DICT_CONFIG_DEFAULTS = {"version": 1, "disable_existing_loggers": False}
SYSLOG_LINE_FORMAT = "[%(process)d] %(message)s"
Extra = Mapping[str, object] | None
"""The ``extra`` of a log call: values for the record (and for a metric)."""


class _LocalTimeFormatter(logging.Formatter):
    """A formatter whose ``%z`` works: ``time.struct_time`` has no offset by default."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created).astimezone()
        return stamp.strftime(datefmt or ERROR_DATE_FORMAT)


# Characters never written to the log as they are: the C0 and C1 controls, DEL,
# the quote that delimits fields in the default format and the escape character
# itself, and (as lone surrogates) the bytes that are not UTF-8.
UNSAFE_IN_LOG_RE = re.compile(r'[\x00-\x1f\x7f-\x9f"\\\udc80-\udcff]')
SURROGATE_BASE = 0xDC00  # surrogateescape maps byte 0xNN to U+DCNN


class _Atoms(dict[str, object]):
    """The access log's values; a missing atom (``%(x)s``) renders as ``-``.

    An environ atom (``%({wsgi.url_scheme}e)s``) is turned to text only when the
    format names it: ``str()`` of an application's object may be costly, and runs
    its code.
    """

    def __init__(
        self, values: dict[str, object], environ: Mapping[str, object]
    ) -> None:
        super().__init__(values)
        self.environ = {key.lower(): value for key, value in environ.items()}

    def __missing__(self, key: str) -> str:
        name = key[1:-2] if key.startswith("{") and key.endswith("}e") else None
        if name is None or name not in self.environ:
            return "-"
        return escape_value(self.environ[name])


class LoggedResponse(Protocol):
    """What an access-log line reads of a response: the worker's
    :class:`~minigun.http.wsgi.Response`, or the stand-in it logs for an error it
    answered itself. The members are read-only properties, so each kind may hold a
    narrower type (the stand-in's ``status`` is never ``None``)."""

    @property
    def status(self) -> str | None: ...

    @property
    def status_code(self) -> int | None: ...

    @property
    def sent(self) -> int: ...

    @property
    def headers(self) -> Iterable[tuple[str, str]]: ...


class Logger:
    """The error log and the access log of one process.

    The master builds one from its config; a forked worker inherits it (the
    open files come along with the fork), so every line lands in the same files.
    """

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.error_log = logging.getLogger(ERROR_LOGGER)
        self.error_log.propagate = False
        self.access_log = logging.getLogger(ACCESS_LOGGER)
        self.access_log.propagate = False
        self.setup(cfg)

    def setup(self, cfg: Config) -> None:
        """(Re)build both logs from ``cfg``: used at start-up and on every HUP."""
        self.cfg = cfg
        self.error_log.setLevel(LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO))
        self.access_log.setLevel(logging.INFO)
        error_formatter = _LocalTimeFormatter(ERROR_LINE_FORMAT, ERROR_DATE_FORMAT)
        _replace_handler(self.error_log, cfg.errorlog or STDERR_NAME, sys.stderr)
        self.error_log.handlers[0].setFormatter(error_formatter)
        if cfg.accesslog:
            _replace_handler(self.access_log, cfg.accesslog, sys.stdout)
            self.access_log.handlers[0].setFormatter(logging.Formatter("%(message)s"))
        else:
            _remove_handlers(self.access_log)
        if cfg.syslog:
            _add_syslog_handler(self.error_log, cfg, "error")
            if not cfg.disable_redirect_access_to_syslog:
                _add_syslog_handler(self.access_log, cfg, "access")
        if cfg.capture_output and cfg.errorlog not in (None, STDERR_NAME):
            self._capture_output()
        self.apply_logconfig(cfg)

    def apply_logconfig(self, cfg: Config) -> None:
        """Apply the user's logging configuration, the first of ``logconfig_dict``,
        ``logconfig_json`` and ``logconfig`` that is set (gunicorn's order).

        The modules these need (``logging.config``, which brings ``pickle``,
        ``socketserver``, ``queue`` and ``logging.handlers``; ``json``;
        ``configparser``) are imported where they are used: most servers set none
        of the three, and a module imported by the master sits in every worker.

        Raises:
            ConfigError: naming the setting, when ``logging.config`` refuses it.
        """
        if cfg.logconfig_dict:
            name, loggers = "logconfig_dict", self._dict_config(cfg.logconfig_dict)
        elif cfg.logconfig_json:
            name, loggers = "logconfig_json", self._json_config(cfg.logconfig_json)
        elif cfg.logconfig:
            name, loggers = "logconfig", self._file_config(cfg.logconfig)
        else:
            return
        for old in sorted(GUNICORN_LOGGERS.keys() & set(loggers)):
            self.warning(
                "%s configures the logger %r, which minigun does not use: "
                "rename it to %r",
                name,
                old,
                GUNICORN_LOGGERS[old],
            )

    @staticmethod
    def _dict_config(
        config: Mapping[str, Any], name: str = "logconfig_dict"
    ) -> list[str]:
        """``dictConfig``, keeping the loggers it does not name; returns the
        names it configures."""
        # Any: dictConfig's schema nests values of every shape (typeshed says the same)
        import logging.config  # noqa: PLC0415 (why: apply_logconfig)

        try:
            logging.config.dictConfig({**DICT_CONFIG_DEFAULTS, **config})
        except (ValueError, TypeError, AttributeError, ImportError) as error:
            raise ConfigError(f"Invalid value for {name}: {error}") from None
        return list(config.get("loggers", {}))

    def _json_config(self, path: str) -> list[str]:
        import json  # noqa: PLC0415 (why: apply_logconfig)

        try:
            with open(path, encoding="utf-8") as file:
                config = json.load(file)
        except (OSError, ValueError) as error:
            raise ConfigError(f"Invalid value for logconfig_json: {error}") from None
        return self._dict_config(config, "logconfig_json")

    @staticmethod
    def _file_config(path: str) -> list[str]:
        """``fileConfig`` with ``%(here)s`` and ``%(__file__)s`` defined, as
        PasteDeploy ini files expect; returns the ``qualname`` of each logger."""
        import configparser  # noqa: PLC0415 (why: apply_logconfig)
        import logging.config  # noqa: PLC0415 (why: apply_logconfig)

        defaults = {"here": os.path.dirname(os.path.abspath(path)), "__file__": path}
        parser = configparser.ConfigParser(defaults=defaults)
        try:
            parser.read(path, encoding="utf-8")
            logging.config.fileConfig(parser, disable_existing_loggers=False)
        except (configparser.Error, KeyError, ValueError, ImportError) as error:
            raise ConfigError(
                f"Invalid value for logconfig: {path}: {error!r}"
            ) from None
        sections = [s for s in parser.sections() if s.startswith("logger_")]
        return [parser.get(s, "qualname", fallback="") for s in sections]

    def _capture_output(self) -> None:
        """Send the process's own stdout and stderr (prints, C libraries) to the
        error log file, by pointing file descriptors 1 and 2 at it."""
        stream = self._error_stream()
        if stream is None:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(stream.fileno(), sys.stdout.fileno())
        os.dup2(stream.fileno(), sys.stderr.fileno())

    def _error_stream(self) -> TextIO | None:
        handler = self.error_log.handlers[0]
        return getattr(handler, "stream", None)

    # The error log: the usual levels, all with lazy %-formatting.

    def critical(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.critical(msg, *args, extra=extra)

    def error(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.error(msg, *args, extra=extra)

    def warning(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.warning(msg, *args, extra=extra)

    def info(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.info(msg, *args, extra=extra)

    def debug(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.debug(msg, *args, extra=extra)

    def exception(self, msg: str, *args: object, extra: Extra = None) -> None:
        self.error_log.exception(msg, *args, extra=extra)

    # The access log.

    def access(
        self,
        resp: LoggedResponse,
        req: message.Request | None,
        environ: wsgi.Environ,
        request_time: datetime.timedelta,
    ) -> None:
        """Write one access-log line, if an access log is configured.

        A broken format must not break the request, so errors are logged, not raised.
        """
        if not self.access_log.handlers:
            return
        try:
            atoms = self.atoms(resp, req, environ, request_time)
            self.access_log.info(self.cfg.access_log_format % atoms)
        except Exception:
            self.exception("Failed to write the access log line")

    def atoms(
        self,
        resp: LoggedResponse,
        req: message.Request | None,
        environ: wsgi.Environ,
        request_time: datetime.timedelta,
    ) -> dict[str, object]:
        """The values ``access_log_format`` can name, as gunicorn defines them.

        Text is escaped (:func:`escape_value`); ``B``, ``T``, ``D`` and ``M`` are
        integers. The environ is copied first (a C-level copy, which runs no
        application code): turning a value to text may run the application's
        code, which may add keys to the live environ while it is being read.
        """
        environ = dict(environ)
        sent = getattr(resp, "sent", 0) or 0
        status = str(getattr(resp, "status", None) or resp.status_code)
        text = _text_atoms(environ, status, sent, request_time)
        text.update(_header_atoms(getattr(req, "headers", []), "i"))
        text.update(_header_atoms(getattr(resp, "headers", []), "o"))
        atoms = _Atoms(
            {name: escape_value(value) for name, value in text.items()}, environ
        )
        atoms.update(_duration_atoms(sent, request_time))
        return atoms

    def reopen_files(self) -> None:
        """Close and reopen every log file by name (``SIGUSR1``, after rotation)."""
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler):
                    _reopen(handler)
        if self.cfg.capture_output and self.cfg.errorlog not in (None, STDERR_NAME):
            self._capture_output()

    def close_on_exec(self) -> None:
        """Keep log files out of a process that calls ``exec`` (USR2 opens its own)."""
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if isinstance(handler, logging.FileHandler) and handler.stream:
                    os.set_inheritable(handler.stream.fileno(), False)


class WSGIErrors:
    """``wsgi.errors`` (PEP 3333): what an application writes there goes to the
    error log's file, where the operator reads (``--error-logfile``), not to the
    process's standard error, which a daemon or a service manager may discard.

    The text is written as it is, a traceback keeps its lines; the stream is
    looked up at every write, so a log rotation (``USR1``) is followed, and the
    handler's lock keeps a gthread worker's threads from interleaving halfway
    through a line. A logging configuration without a stream handler (syslog,
    say) gets each write as one error record instead.
    """

    def __init__(self, log: logging.Logger) -> None:
        self.log = log

    def write(self, text: str) -> int:
        streams = [h for h in self.log.handlers if isinstance(h, logging.StreamHandler)]
        for handler in streams:
            with handler.lock or contextlib.nullcontext():
                handler.stream.write(text)
                handler.stream.flush()
        if not streams and text.strip():
            self.log.error("%s", text.rstrip("\n"))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Every write is flushed already: nothing waits in a buffer."""


WSGI_ERRORS = WSGIErrors(logging.getLogger(ERROR_LOGGER))
"""The one ``wsgi.errors`` of the process: the error log's logger, whatever its
handlers are now."""


def _replace_handler(log: logging.Logger, target: str, std_stream: TextIO) -> None:
    """Point ``log`` at ``target``: a file name, or ``-`` for ``std_stream``."""
    _remove_handlers(log)
    if target == STDERR_NAME:
        handler: logging.Handler = logging.StreamHandler(std_stream)
    else:
        handler = logging.FileHandler(target)
    log.addHandler(handler)


def _add_syslog_handler(log: logging.Logger, cfg: Config, name: str) -> None:
    """Send ``log`` to syslog too, each line tagged with the program and the pid
    (``minigun.PREFIX.NAME: [1234] ...``), as gunicorn tags its own."""
    import logging.handlers  # noqa: PLC0415 (only with syslog; see apply_logconfig)

    socktype, address = util.parse_syslog_address(cfg.syslog_addr)
    if isinstance(address, str) and not os.path.exists(address):
        # SysLogHandler would try again at every line, and print a traceback each time
        raise ConfigError(f"Invalid value for syslog_addr: no socket at {address}")
    facility = logging.handlers.SysLogHandler.facility_names[cfg.syslog_facility]
    handler = logging.handlers.SysLogHandler(address, facility, socktype)
    prefix = cfg.syslog_prefix or cfg.proc_name.replace(":", ".")
    tag = f"minigun.{prefix}.{name}".replace("%", "%%")
    handler.setFormatter(logging.Formatter(f"{tag}: {SYSLOG_LINE_FORMAT}"))
    log.addHandler(handler)


def _remove_handlers(log: logging.Logger) -> None:
    """Remove and close every handler: a file or a syslog socket is released; a
    stream handler's close leaves its stream (stdout, stderr) open."""
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def _reopen(handler: logging.FileHandler) -> None:
    """Swap the handler's stream for a fresh one on the same path, under its lock."""
    handler.acquire()
    try:
        if handler.stream:
            handler.stream.close()
        handler.stream = handler._open()
    finally:
        handler.release()


def _text_atoms(
    environ: wsgi.Environ, status: str, sent: int, request_time: datetime.timedelta
) -> dict[str, str]:
    """The atoms read from the environ and the response, as text: gunicorn's
    letters (``h`` the remote address, ``r`` the request line, ``s`` the status...)."""
    path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
    return {
        "h": environ.get("REMOTE_ADDR", "-"),
        "l": "-",
        "u": _basic_auth_user(environ),
        "t": time.strftime(ACCESS_DATE_FORMAT),
        "r": _request_line(environ, path),
        "m": environ.get("REQUEST_METHOD", "-"),
        "U": environ.get("PATH_INFO", "-"),
        "q": environ.get("QUERY_STRING", ""),
        "H": environ.get("SERVER_PROTOCOL", "-"),
        "s": status.split(None, 1)[0],
        "b": str(sent),
        "f": environ.get("HTTP_REFERER", "-"),
        "a": environ.get("HTTP_USER_AGENT", "-"),
        "L": f"{request_time.total_seconds():.6f}",
        "p": f"<{os.getpid()}>",
    }


def _header_atoms(
    headers: Iterable[tuple[str, object]] | Mapping[str, object] | None, suffix: str
) -> dict[str, str]:
    """``{name}i`` / ``{name}o`` atoms from a list of ``(name, value)`` pairs."""
    if isinstance(headers, Mapping):
        headers = headers.items()
    return {f"{{{name.lower()}}}{suffix}": str(value) for name, value in headers or []}


def _duration_atoms(sent: int, request_time: datetime.timedelta) -> dict[str, int]:
    """The numeric atoms: body size (``B``) and the request's duration in seconds,
    microseconds and milliseconds (``T``, ``D``, ``M``)."""
    micros = request_time // datetime.timedelta(microseconds=1)
    return {"B": sent, "T": micros // MICROSECONDS, "D": micros, "M": micros // 1000}


def escape_value(value: object) -> str:
    """``value`` as text that is safe to write in a log line.

    A request's values are latin-1 strings holding its raw bytes (PEP 3333). They
    are read back as UTF-8 where they are UTF-8, so a user agent in any script
    stays readable; every other byte, and every control character, the quote and
    the backslash, become ``\\xHH`` (as nginx writes them).
    """
    text = str(value)
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # not bytes in disguise: an application's own str
        raw = text.encode("utf-8", "surrogateescape")
    decoded = raw.decode("utf-8", "surrogateescape")
    return UNSAFE_IN_LOG_RE.sub(_hex_escape, decoded)


def _hex_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - SURROGATE_BASE if code >= SURROGATE_BASE else code:02x}"


def _basic_auth_user(environ: wsgi.Environ) -> str:
    """The user name of an HTTP Basic ``Authorization`` header, or ``-``."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return "-"
    try:
        decoded = base64.b64decode(credentials).decode("latin-1")
    except (binascii.Error, ValueError):
        return "-"
    return decoded.partition(":")[0] or "-"


def _request_line(environ: wsgi.Environ, path: str) -> str:
    """The ``r`` atom: ``GET /path?query HTTP/1.1``."""
    method = environ.get("REQUEST_METHOD", "-")
    return f"{method} {path} {environ.get('SERVER_PROTOCOL', '-')}"
