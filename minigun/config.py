"""The settings registry: one list gives the CLI, the config file and the docs.

The chapter's question: a server has some seventy knobs that can be turned from four
places (built-in defaults, a config file, an environment variable, the command line).
How do we keep the knobs, their validation and their documentation from drifting apart?

The answer here, as in gunicorn, is one registry. Every knob is a :class:`Setting`, a
frozen value holding its name, its section, its command-line flags, its validator, its
default and its documentation; :data:`SETTINGS` is the one ordered list of them. From
that list come the argparse parser (:meth:`Config.parser`), the loading of a config
file (:meth:`Config.apply_file_settings`), the ``--print-config`` listing and the
book's settings reference. Unlike gunicorn there is no metaclass collecting subclasses:
the list is written out, in the order ``--help`` shows it.

Rules:

- A value enters a :class:`Config` only through :meth:`Config.set`, which runs the
  setting's validator; a bad value becomes a :class:`~minigun.errors.ConfigError`
  whose one-line message names the setting and the value.
- Validators take the raw value (a string from the command line, or any Python value
  from a config file) and return the value the rest of minigun reads. They live in
  :mod:`minigun.validators`, so that this module is only the registry.
- Hooks are settings too: their value is a callable, checked for how many arguments
  it accepts when it is set, not when the server first calls it hours later.
- Settings marked "minigun extension" in their description do not exist in gunicorn.

This module is longer than the others because the registry is one table: splitting
the table would mean a reader has to look in two places for one knob. What the table
only names, the validators, is split out instead (gunicorn keeps them in its
``config.py``).
"""

from __future__ import annotations

import argparse
import copy
import inspect
import os
import sys
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from minigun import __version__, util
from minigun.errors import ConfigError
from minigun.validators import (
    Hook,
    Validator,
    validate_bind,
    validate_bool,
    validate_cert_reqs,
    validate_chdir,
    validate_choice,
    validate_class,
    validate_comma_list,
    validate_dict,
    validate_existing_file,
    validate_group,
    validate_header_dict,
    validate_hook,
    validate_ip_list,
    validate_non_negative_int,
    validate_positive_int,
    validate_post_request,
    validate_proxy_protocol,
    validate_raw_env,
    validate_seconds,
    validate_sendfile,
    validate_statsd_address,
    validate_string,
    validate_string_list,
    validate_syslog_address,
    validate_text,
    validate_umask,
    validate_user,
    validate_worker_class,
    warn,
)

# For the default hooks' annotations only: importing the master, the workers and the
# parser at run time would load the whole server with its registry, and make a cycle
# as soon as one of them imports config.
if TYPE_CHECKING:  # ssl: only a server with TLS loads OpenSSL (performance appendix)
    import ssl

    from minigun.arbiter import Arbiter
    from minigun.http.message import Request
    from minigun.http.wsgi import Environ, Response
    from minigun.workers.base import Worker

# The sections; SECTIONS is the order ``--help`` and the book list them in.
CONFIG_FILE = "Config File"
SERVER_SOCKET = "Server Socket"
WORKER_PROCESSES = "Worker Processes"
HTTP_PARSING = "HTTP Parsing"
SERVER_MECHANICS = "Server Mechanics"
SECURITY = "Security"
SSL = "SSL"
LOGGING = "Logging"
PROCESS_NAMING = "Process Naming"
SERVER_HOOKS = "Server Hooks"
SECTIONS = (
    CONFIG_FILE,
    SERVER_SOCKET,
    WORKER_PROCESSES,
    HTTP_PARSING,
    SERVER_MECHANICS,
    SECURITY,
    SSL,
    LOGGING,
    PROCESS_NAMING,
    SERVER_HOOKS,
)

GUNICORN_ONLY_SETTINGS = frozenset(
    {
        "enable_backlog_metric",
        "initgroups",
        "spew",
        "ssl_version",
        "tmp_upload_dir",
    }
)
"""Real gunicorn settings minigun does not implement: a config file naming one gets a
warning (it was probably written for gunicorn), not silence and not a failure."""

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
HEADER_MAP_CHOICES = ("drop", "refuse", "dangerous")
ASGI_LOOPS = ("auto", "asyncio", "uvloop")
RELOAD_ENGINES = ("auto", "poll", "inotify")
ASGI_LIFESPAN_MODES = ("auto", "on", "off")
ONE_GIBIBYTE = 1024**3
TYPO_SIMILARITY = 0.8
"""How close (difflib's ratio, 0 to 1) a config-file name must be to a setting's name
to be warned about as a likely typo: ``worker`` and ``workers`` score 0.92, a helper
such as ``num_workers`` 0.78 and stays silent."""

SOURCES_EPILOG = (
    "Settings come from, lowest precedence first: the defaults (which read PORT "
    "and WEB_CONCURRENCY), the config file (-c, else ./minigun.conf.py), "
    "$MINIGUN_CMD_ARGS, then this command line."
)

DEFAULT_LOGGER_CLASS = "minigun.glogging.Logger"
STATSD_LOGGER_CLASS = "minigun.instrument.statsd.Statsd"
LOGGER_CLASSES = {
    "simple": DEFAULT_LOGGER_CLASS,
    "gunicorn.glogging.Logger": DEFAULT_LOGGER_CLASS,
    "gunicorn.instrument.statsd.Statsd": STATSD_LOGGER_CLASS,
}
"""logger_class's short names, and gunicorn's own classes mapped to minigun's."""
SYSLOG_FACILITIES = (
    "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news",
    "security", "syslog", "user", "uucp",
    *(f"local{n}" for n in range(8)),
)  # fmt: skip
"""The facility names logging.handlers.SysLogHandler knows (its facility_names)."""

DEFAULT_HOST = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"


def describe(value: object) -> str:
    """One line for a value: a function by its dotted name, anything else by repr."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _asks_for_nothing(value: object) -> bool:
    return value is None or value is False


def key_value_pairs(pairs: list[str]) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` as ``{"A": "1", "B": "x=y"}``."""
    split = (pair.partition("=") for pair in pairs)
    return {key.strip(): value for key, _, value in split}


# --- default hooks: what runs when the user configured nothing -----------------------


def on_starting(server: Arbiter) -> None:
    pass


def on_reload(server: Arbiter) -> None:
    pass


def when_ready(server: Arbiter) -> None:
    pass


def pre_fork(server: Arbiter, worker: Worker) -> None:
    pass


def post_fork(server: Arbiter, worker: Worker) -> None:
    pass


def post_worker_init(worker: Worker) -> None:
    pass


def worker_ready(server: Arbiter, worker: Worker) -> None:
    pass


def worker_int(worker: Worker) -> None:
    pass


def worker_abort(worker: Worker) -> None:
    pass


def pre_exec(server: Arbiter) -> None:
    pass


def pre_request(worker: Worker, req: Request) -> None:
    worker.log.debug("%s %s", req.method, req.path)


def post_request(
    worker: Worker, req: Request, environ: Environ, resp: Response
) -> None:
    pass


def child_exit(server: Arbiter, worker: Worker) -> None:
    pass


def worker_exit(server: Arbiter, worker: Worker) -> None:
    pass


def nworkers_changed(server: Arbiter, new_value: int, old_value: int | None) -> None:
    pass


def on_exit(server: Arbiter) -> None:
    pass


def ssl_context(
    config: Config, default_ssl_context_factory: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    return default_ssl_context_factory()


# --- defaults read from the environment when a Config is created ---------------------


def default_bind() -> list[str]:
    """``0.0.0.0:$PORT`` on platforms that set ``PORT`` (Heroku), else local 8000."""
    port = os.environ.get("PORT")
    if port:
        return [f"{ALL_INTERFACES}:{port}"]
    return [f"{DEFAULT_HOST}:{util.DEFAULT_PORT}"]


def default_workers() -> str:
    return os.environ.get("WEB_CONCURRENCY", "1")


def default_forwarded_allow_ips() -> str:
    return os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


# --- the registry ---------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One knob: where it is set from, how it is checked, what it means.

    Attributes:
        name: the config-file name and the ``cfg.<name>`` attribute.
        section: the ``--help`` group and the book's heading.
        short: one line for ``--help``.
        desc: the long description for the book.
        validator: turns a raw value into the value minigun reads.
        default: the value when nothing sets it.
        cli: command-line flags; empty for config-file-only settings.
        meta: the placeholder ``--help`` shows after the flag.
        action: the argparse action: ``store``, ``store_true``, ``store_false``,
            ``store_const`` or ``append``.
        const: the value a ``store_const`` flag stores.
        default_factory: computes the default when a Config is created (it reads
            the environment), overriding ``default``.
        default_doc: how the book shows a default that ``default_factory`` computes.
    """

    name: str
    section: str
    short: str
    desc: str
    validator: Validator
    default: object = None
    cli: tuple[str, ...] = ()
    meta: str | None = None
    action: str = "store"
    const: object = None
    default_factory: Callable[[], object] | None = None
    default_doc: str | None = None

    def initial_value(self) -> object:
        """The default for a new Config, validated: the value minigun reads.

        A default written in the table is the project's own: a validator that fails on
        it is a bug, and keeps its traceback. One that ``default_factory`` reads from
        the environment is the user's and may be anything, so a bad one is a
        ConfigError that says where it came from.
        """
        if self.default_factory is None:
            return self.validator(copy.deepcopy(self.default))
        raw = self.default_factory()
        try:
            return self.validator(raw)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"Invalid value for {self.name}: {describe(raw)}: {error} "
                "(a default read from the environment)"
            ) from None

    def default_text(self) -> str:
        """The default as the book shows it: source code for a hook, else a repr."""
        if self.default_doc is not None:
            return self.default_doc
        if inspect.isfunction(self.default):
            return textwrap.dedent(inspect.getsource(self.default)).strip()
        return repr(self.default)

    def add_option(self, group: argparse._ArgumentGroup) -> None:
        """Add this setting's flags to ``group``; ``dest`` is the setting's name.

        The default is ``None`` so that "not given" can be told apart from any
        value, and a lower-precedence source is not overwritten.
        """
        # Any: argparse keyword arguments, a different type for each keyword
        options: dict[str, Any] = {"dest": self.name, "default": None}
        options["action"] = self.action
        options["help"] = self.short
        if self.action in ("store", "append"):
            options["metavar"] = self.meta
        if self.action == "store_const":
            options["const"] = self.const
        group.add_argument(*self.cli, **options)


def hook_setting(name: str, default: Hook, short: str, desc: str) -> Setting:
    """A server hook setting: its parameters are read from the default's signature."""
    params = tuple(inspect.signature(default).parameters)
    validator = (
        validate_post_request if name == "post_request" else validate_hook(*params)
    )
    return Setting(
        name, SERVER_HOOKS, short, desc, validator=validator, default=default
    )


SETTINGS: list[Setting] = [
    # Config File
    Setting(
        "config",
        CONFIG_FILE,
        "The config file: a path, or python:MODULE.",
        "A Python file whose top-level names are settings (``workers = 4``, "
        "``def post_fork(server, worker): ...``), or ``python:package.module``. "
        "Without it, ``./minigun.conf.py`` is read if present. A gunicorn.conf.py "
        "loads unchanged; names that are not settings are ignored.",
        validator=validate_string,
        cli=("-c", "--config"),
        meta="CONFIG",
        default_doc="'./minigun.conf.py' if that file exists",
    ),
    Setting(
        "wsgi_app",
        CONFIG_FILE,
        "The application, MODULE:VARIABLE, when not given on the command line.",
        "The same as the positional APP_MODULE argument, for config files.",
        validator=validate_string,
    ),
    Setting(
        "check_config",
        CONFIG_FILE,
        "Check the configuration and that the app imports, then exit.",
        "Exit status 0 if the settings are valid and the application imports, "
        "1 (with the reason) if not. Nothing is bound or forked.",
        validator=validate_bool,
        default=False,
        cli=("--check-config",),
        action="store_true",
    ),
    Setting(
        "print_config",
        CONFIG_FILE,
        "Print every resolved setting, sorted, then exit.",
        "Shows ``name = value`` for each setting after the defaults, the config "
        "file, MINIGUN_CMD_ARGS and the command line were applied: the quickest "
        "way to see which source won.",
        validator=validate_bool,
        default=False,
        cli=("--print-config",),
        action="store_true",
    ),
    # Server Socket
    Setting(
        "bind",
        SERVER_SOCKET,
        "An address to listen on: HOST:PORT, [V6]:PORT, unix:PATH or fd://N.",
        "Repeat the flag to listen on several addresses. Port 0 asks the kernel for "
        "a free port. If the environment sets PORT the default is 0.0.0.0:$PORT.",
        validator=validate_bind,
        cli=("-b", "--bind"),
        meta="ADDRESS",
        action="append",
        default_factory=default_bind,
        default_doc="['127.0.0.1:8000'] (['0.0.0.0:$PORT'] if PORT is set)",
    ),
    Setting(
        "backlog",
        SERVER_SOCKET,
        "How many connections may wait to be accepted.",
        "The ``listen()`` backlog. The kernel may cap it (net.core.somaxconn).",
        validator=validate_positive_int,
        default=2048,
        cli=("--backlog",),
        meta="INT",
    ),
    Setting(
        "reuse_port",
        SERVER_SOCKET,
        "Set SO_REUSEPORT on the listening sockets.",
        "Lets several independent servers bind the same port; rarely needed.",
        validator=validate_bool,
        default=False,
        cli=("--reuse-port",),
        action="store_true",
    ),
    # Worker Processes
    Setting(
        "workers",
        WORKER_PROCESSES,
        "How many worker processes serve requests.",
        "A sync worker handles one request at a time, so this is the number of "
        "requests served at once. Start with 2 to 4 per core. The default is "
        "$WEB_CONCURRENCY if set.",
        validator=validate_positive_int,
        cli=("-w", "--workers"),
        meta="INT",
        default_factory=default_workers,
        default_doc="1 (or $WEB_CONCURRENCY)",
    ),
    Setting(
        "worker_class",
        WORKER_PROCESSES,
        "The worker type: sync, gthread, asgi, or a dotted class path.",
        "``sync`` handles one request at a time; ``gthread`` runs a thread pool "
        "per worker; ``asgi`` serves an ASGI application from an event loop. "
        "``sync`` with threads > 1 becomes ``gthread``, as in gunicorn. "
        "gunicorn's eventlet, gevent and tornado workers are not available.",
        validator=validate_worker_class,
        default="sync",
        cli=("-k", "--worker-class"),
        meta="STRING",
    ),
    Setting(
        "threads",
        WORKER_PROCESSES,
        "Threads per worker (gthread worker).",
        "More than 1 switches the sync worker to gthread.",
        validator=validate_positive_int,
        default=1,
        cli=("--threads",),
        meta="INT",
    ),
    Setting(
        "worker_connections",
        WORKER_PROCESSES,
        "The most connections one gthread worker holds open at once.",
        "Connections beyond this wait in the listen backlog.",
        validator=validate_positive_int,
        default=1000,
        cli=("--worker-connections",),
        meta="INT",
    ),
    Setting(
        "max_requests",
        WORKER_PROCESSES,
        "Restart a worker after this many requests (0: never).",
        "A cheap cure for memory leaks in the application.",
        validator=validate_non_negative_int,
        default=0,
        cli=("--max-requests",),
        meta="INT",
    ),
    Setting(
        "max_requests_jitter",
        WORKER_PROCESSES,
        "Add up to this many requests at random to max_requests.",
        "So that workers started together do not all restart together.",
        validator=validate_non_negative_int,
        default=0,
        cli=("--max-requests-jitter",),
        meta="INT",
    ),
    Setting(
        "timeout",
        WORKER_PROCESSES,
        "Seconds of silence after which the master kills a worker.",
        "A worker touches its heartbeat file while it is alive; one that stays "
        "silent longer (a request stuck in the app) gets SIGABRT, then SIGKILL. "
        "0 turns the check off.",
        validator=validate_non_negative_int,
        default=30,
        cli=("-t", "--timeout"),
        meta="INT",
    ),
    Setting(
        "graceful_timeout",
        WORKER_PROCESSES,
        "Seconds workers get to finish their requests on a graceful stop.",
        "After SIGTERM (or a HUP or a TTOU), workers that are still busy this "
        "long afterwards are killed.",
        validator=validate_non_negative_int,
        default=30,
        cli=("--graceful-timeout",),
        meta="INT",
    ),
    Setting(
        "keepalive",
        WORKER_PROCESSES,
        "Seconds to wait for the next request on a kept-alive connection.",
        "The sync worker closes every connection after one response; gthread keeps "
        "it open this long.",
        validator=validate_non_negative_int,
        default=2,
        cli=("--keep-alive",),
        meta="INT",
    ),
    Setting(
        "asgi_loop",
        WORKER_PROCESSES,
        "The event loop of the asgi worker: auto, asyncio or uvloop.",
        "``auto`` uses uvloop if it is installed, else asyncio's own loop; "
        "``uvloop`` without uvloop installed is a boot error. uvloop is never a "
        "requirement.",
        validator=validate_choice(ASGI_LOOPS),
        default="auto",
        cli=("--asgi-loop",),
        meta="STRING",
    ),
    Setting(
        "asgi_lifespan",
        WORKER_PROCESSES,
        "The ASGI lifespan protocol: auto, on or off.",
        "``on``: the application's startup must succeed, or the worker exits with "
        "a boot error and the master halts. ``auto``: the same, but an application "
        "that does not speak lifespan (it raises at once) is served anyway. "
        "``off``: no lifespan events.",
        validator=validate_choice(ASGI_LIFESPAN_MODES),
        default="auto",
        cli=("--asgi-lifespan",),
        meta="STRING",
    ),
    Setting(
        "root_path",
        WORKER_PROCESSES,
        "The ASGI root_path: the prefix the application is mounted under.",
        "For an application behind a proxy that strips a path prefix: the asgi "
        "worker puts it in the scope's ``root_path`` and before its ``path``. "
        "Empty: ``SCRIPT_NAME`` (the environment, or a trusted proxy's header).",
        validator=validate_string,
        default="",
        cli=("--root-path",),
        meta="STRING",
    ),
    Setting(
        "abort_grace",
        WORKER_PROCESSES,
        "Seconds a timed-out worker gets for worker_abort before SIGKILL.",
        "minigun extension. When a worker misses its heartbeat the master sends "
        "SIGABRT so the worker_abort hook can log a stack trace, and sends SIGKILL "
        "if the worker is still there this many seconds later.",
        validator=validate_seconds,
        default=1.0,
        cli=("--abort-grace",),
        meta="SECONDS",
    ),
    # HTTP Parsing
    Setting(
        "limit_request_line",
        HTTP_PARSING,
        "The longest request line, in bytes (at most 8190).",
        "A longer request line is answered with 414 URI Too Long. As in gunicorn, "
        "0 or a value above 8190 means the ceiling, 8190.",
        validator=validate_non_negative_int,
        default=4094,
        cli=("--limit-request-line",),
        meta="INT",
    ),
    Setting(
        "limit_request_fields",
        HTTP_PARSING,
        "The most header fields in one request (at most 32768).",
        "More are answered with 431 Request Header Fields Too Large. 0 or a value "
        "above 32768 means the ceiling, 32768.",
        validator=validate_non_negative_int,
        default=100,
        cli=("--limit-request-fields",),
        meta="INT",
    ),
    Setting(
        "limit_request_field_size",
        HTTP_PARSING,
        "The longest header field, in bytes.",
        "A longer field is answered with 431 Request Header Fields Too Large. 0 "
        "means the default, 8190.",
        validator=validate_non_negative_int,
        default=8190,
        cli=("--limit-request-field_size", "--limit-request-field-size"),
        meta="INT",
    ),
    Setting(
        "limit_request_body",
        HTTP_PARSING,
        "The largest request body, in bytes (0: unlimited).",
        "minigun extension. A larger body is answered with 413 Content Too Large. "
        "The default, 1 GiB, lets any ordinary upload through but stops a client "
        "from streaming a chunked body into a worker forever.",
        validator=validate_non_negative_int,
        default=ONE_GIBIBYTE,
        cli=("--limit-request-body",),
        meta="BYTES",
    ),
    Setting(
        "header_timeout",
        HTTP_PARSING,
        "Seconds a client has to send the request line and headers (0: no limit).",
        "minigun extension. Counted from the moment the worker starts reading the "
        "request (for a connection's first request, from accept), so a slow client "
        "cannot hold a sync worker by dribbling the head, or by sending nothing. "
        "The answer is 408. The default, 10, is well inside ``timeout``.",
        validator=validate_seconds,
        default=10.0,
        cli=("--header-timeout",),
        meta="SECONDS",
    ),
    Setting(
        "body_idle_timeout",
        HTTP_PARSING,
        "Seconds the request body may go without a byte arriving (0: no limit).",
        "minigun extension. Each wait for the next piece of the body is bounded, "
        "not the body's total time: an upload that keeps arriving may take as long "
        "as it needs (its size is bounded by ``limit_request_body``), and one that "
        "stalls is answered 408. The default, 10, is well inside ``timeout``, so "
        "the worker answers before the master kills it.",
        validator=validate_seconds,
        default=10.0,
        cli=("--body-idle-timeout",),
        meta="SECONDS",
    ),
    Setting(
        "header_map",
        HTTP_PARSING,
        "What to do with a header whose name has '_': drop, refuse or dangerous.",
        "In the environ, X-Forwarded-For and X_Forwarded_For would both become "
        "HTTP_X_FORWARDED_FOR, so a client could forge a proxy's header. ``drop`` "
        "discards such headers, ``refuse`` answers 400, ``dangerous`` keeps them.",
        validator=validate_choice(HEADER_MAP_CHOICES),
        default="drop",
        cli=("--header-map",),
        meta="MODE",
    ),
    Setting(
        "permit_obsolete_folding",
        HTTP_PARSING,
        "Accept headers continued on the next line (obsolete line folding).",
        "RFC 9112 section 5.2 says a server must reject or replace obs-fold; "
        "minigun refuses it unless this is set.",
        validator=validate_bool,
        default=False,
        cli=("--permit-obsolete-folding",),
        action="store_true",
    ),
    Setting(
        "casefold_http_method",
        HTTP_PARSING,
        "Accept lower-case methods and upper-case them.",
        "Methods are case-sensitive (RFC 9110 section 9.1); off by default.",
        validator=validate_bool,
        default=False,
        cli=("--casefold-http-method",),
        action="store_true",
    ),
    Setting(
        "permit_unconventional_http_method",
        HTTP_PARSING,
        "Accept methods that are not upper-case letters of 3 to 20 characters.",
        "Any RFC 9110 token is then a method.",
        validator=validate_bool,
        default=False,
        cli=("--permit-unconventional-http-method",),
        action="store_true",
    ),
    Setting(
        "permit_unconventional_http_version",
        HTTP_PARSING,
        "Accept HTTP versions other than 1.0 and 1.1.",
        "Otherwise such requests get 505 HTTP Version Not Supported.",
        validator=validate_bool,
        default=False,
        cli=("--permit-unconventional-http-version",),
        action="store_true",
    ),
    Setting(
        "strip_header_spaces",
        HTTP_PARSING,
        "Strip spaces between a header name and its colon (dangerous).",
        "RFC 9112 section 5.1 requires a 400 for such headers; stripping them lets "
        "one request be read differently by a proxy and by minigun.",
        validator=validate_bool,
        default=False,
        cli=("--strip-header-spaces",),
        action="store_true",
    ),
    Setting(
        "proxy_protocol",
        HTTP_PARSING,
        "Read a PROXY protocol line first: off, v1 or auto.",
        "``v1`` requires every connection to start with a PROXY v1 line from a load "
        "balancer; ``auto`` reads one if present. The flag, like gunicorn's "
        "``--proxy-protocol`` and ``proxy_protocol = True``, means ``auto``; "
        "``v1`` is set in the config file.",
        validator=validate_proxy_protocol,
        default="off",
        cli=("--proxy-protocol",),
        action="store_const",
        const="auto",
    ),
    Setting(
        "proxy_allow_ips",
        HTTP_PARSING,
        "Addresses allowed to send a PROXY line (comma-separated, or *).",
        "A PROXY line from any other peer is refused.",
        validator=validate_ip_list,
        default="127.0.0.1,::1",
        cli=("--proxy-allow-from",),
        meta="IPS",
    ),
    # Server Mechanics
    Setting(
        "preload_app",
        SERVER_MECHANICS,
        "Load the app in the master before forking.",
        "Workers then share the app's memory pages and start fast, but a HUP no "
        "longer reloads the code, and the app must not open sockets or threads "
        "at import.",
        validator=validate_bool,
        default=False,
        cli=("--preload",),
        action="store_true",
    ),
    Setting(
        "reload",
        SERVER_MECHANICS,
        "Restart workers when a source file changes (for development).",
        "Each worker watches the files of the modules it imported (reload_engine "
        "says how). An application that fails to load is answered 500 until a "
        "file changes, rather than stopping the server. A preloaded app is the "
        "master's and is not reloaded.",
        validator=validate_bool,
        default=False,
        cli=("--reload",),
        action="store_true",
    ),
    Setting(
        "reload_engine",
        SERVER_MECHANICS,
        "How reload notices a change: auto, poll or inotify.",
        "``poll`` reads each file's modification time once a second (standard "
        "library only); ``inotify`` lets Linux's inotify wake the worker at once "
        "(needs minigun[inotify]); ``auto`` uses inotify where it can run, else "
        "poll. ``inotify`` that cannot run here stops the start with one line.",
        validator=validate_choice(RELOAD_ENGINES),
        default="auto",
        cli=("--reload-engine",),
        meta="STRING",
    ),
    Setting(
        "reload_extra_files",
        SERVER_MECHANICS,
        "More files whose change restarts the workers (with reload).",
        "Templates, data files: anything the application reads that is not a "
        "module. Repeat the flag for several files.",
        validator=validate_string_list,
        default=[],
        cli=("--reload-extra-file",),
        meta="FILE",
        action="append",
    ),
    Setting(
        "chdir",
        SERVER_MECHANICS,
        "Change to this directory before loading the app.",
        "It is also put on sys.path, so the app module is found there: before "
        "the installed packages, after the standard library, so that an app's "
        "signal.py or json.py shadows nothing the server imports.",
        validator=validate_chdir,
        cli=("--chdir",),
        meta="DIR",
        default_factory=util.getcwd,
        default_doc="the current directory",
    ),
    Setting(
        "pythonpath",
        SERVER_MECHANICS,
        "Comma-separated directories to add to sys.path.",
        "Added before the app is imported, e.g. '/srv/lib,/srv/app', where chdir's "
        "folder goes: after the standard library.",
        validator=validate_string,
        cli=("--pythonpath",),
        meta="STRING",
    ),
    Setting(
        "daemon",
        SERVER_MECHANICS,
        "Detach from the terminal and run in the background.",
        "Use a pidfile to find the master afterwards.",
        validator=validate_bool,
        default=False,
        cli=("-D", "--daemon"),
        action="store_true",
    ),
    Setting(
        "raw_env",
        SERVER_MECHANICS,
        "Set an environment variable in the workers: KEY=VALUE.",
        "Repeat the flag for several variables. The master sets them too, before "
        "it imports a preloaded app.",
        validator=validate_raw_env,
        default=[],
        cli=("-e", "--env"),
        meta="ENV",
        action="append",
    ),
    Setting(
        "paste",
        SERVER_MECHANICS,
        "Load a PasteDeploy ini file: PATH[#SECTION] (needs minigun[paste]).",
        "Serves ``[app:main]``, or the app section named after ``#``. The file's "
        "``[server:main]`` host and port become the bind when no bind is given, "
        "and its logging sections configure logging. Needs PasteDeploy: "
        "``pip install minigun[paste]``.",
        validator=validate_string,
        cli=("--paste", "--paster"),
        meta="STRING",
    ),
    Setting(
        "raw_paste_global_conf",
        SERVER_MECHANICS,
        "A global variable for the PasteDeploy file: KEY=VALUE.",
        "Repeat the flag for several; the ini file reads them as ``%(KEY)s``.",
        validator=validate_raw_env,
        default=[],
        cli=("--paste-global",),
        meta="CONF",
        action="append",
    ),
    Setting(
        "pidfile",
        SERVER_MECHANICS,
        "Write the master's pid to this file.",
        "Removed again on a clean exit.",
        validator=validate_string,
        cli=("-p", "--pid"),
        meta="FILE",
    ),
    Setting(
        "worker_tmp_dir",
        SERVER_MECHANICS,
        "Where workers keep their heartbeat files.",
        "Defaults to the system temporary directory; a tmpfs (/dev/shm) avoids "
        "disk writes on every heartbeat.",
        validator=validate_string,
        cli=("--worker-tmp-dir",),
        meta="DIR",
    ),
    Setting(
        "user",
        SERVER_MECHANICS,
        "Run workers as this user (name or uid).",
        "Only root can switch users; the master keeps its own.",
        validator=validate_user,
        cli=("-u", "--user"),
        meta="USER",
        default_factory=os.geteuid,
        default_doc="the current user",
    ),
    Setting(
        "group",
        SERVER_MECHANICS,
        "Run workers as this group (name or gid).",
        "Only root can switch groups.",
        validator=validate_group,
        cli=("-g", "--group"),
        meta="GROUP",
        default_factory=os.getegid,
        default_doc="the current group",
    ),
    Setting(
        "umask",
        SERVER_MECHANICS,
        "The file mode creation mask of the workers, e.g. 022.",
        "Also applies to Unix sockets the master creates.",
        validator=validate_umask,
        default=0,
        cli=("-m", "--umask"),
        meta="INT",
    ),
    Setting(
        "sendfile",
        SERVER_MECHANICS,
        "Turn off sendfile() for file responses.",
        "Without the flag, wsgi.file_wrapper responses may use sendfile().",
        validator=validate_sendfile,
        default=True,
        cli=("--no-sendfile",),
        action="store_false",
    ),
    Setting(
        "forwarder_headers",
        SERVER_MECHANICS,
        "Headers a trusted proxy may use to set SCRIPT_NAME and PATH_INFO.",
        "Only honoured from forwarded_allow_ips.",
        validator=validate_comma_list,
        default="SCRIPT_NAME,PATH_INFO",
        cli=("--forwarder-headers",),
        meta="STRING",
    ),
    # Security
    Setting(
        "forwarded_allow_ips",
        SECURITY,
        "Proxies trusted to set the scheme headers (comma-separated, or *).",
        "Only requests from these peers may use secure_scheme_headers to say the "
        "original request was HTTPS. The default is $FORWARDED_ALLOW_IPS if set.",
        validator=validate_ip_list,
        cli=("--forwarded-allow-ips",),
        meta="IPS",
        default_factory=default_forwarded_allow_ips,
        default_doc="'127.0.0.1,::1' (or $FORWARDED_ALLOW_IPS)",
    ),
    Setting(
        "secure_scheme_headers",
        SECURITY,
        "Headers, and their values, by which a proxy says the request was HTTPS.",
        "From a trusted proxy, any of these sets wsgi.url_scheme to https.",
        validator=validate_header_dict,
        default={
            "X-FORWARDED-PROTOCOL": "ssl",
            "X-FORWARDED-PROTO": "https",
            "X-FORWARDED-SSL": "on",
        },
    ),
    # SSL
    Setting(
        "certfile",
        SSL,
        "The TLS certificate file (PEM); serving https needs it and keyfile.",
        "With a certificate the listeners speak TLS and wsgi.url_scheme is "
        "https. Each worker reads the file when it boots, so a HUP, which "
        "starts new workers, picks up a renewed certificate.",
        validator=validate_existing_file,
        cli=("--certfile",),
        meta="FILE",
    ),
    Setting(
        "keyfile",
        SSL,
        "The TLS private key file (PEM).",
        "Read by each worker before it drops to user and group, so the key "
        "may be readable by root only.",
        validator=validate_existing_file,
        cli=("--keyfile",),
        meta="FILE",
    ),
    Setting(
        "ca_certs",
        SSL,
        "CA certificates to verify client certificates with (PEM).",
        "Used with cert_reqs 1 or 2.",
        validator=validate_existing_file,
        cli=("--ca-certs",),
        meta="FILE",
    ),
    Setting(
        "cert_reqs",
        SSL,
        "Whether a client certificate is needed: 0 none, 1 optional, 2 required.",
        "The ssl module's CERT_NONE, CERT_OPTIONAL and CERT_REQUIRED.",
        validator=validate_cert_reqs,
        default=0,
        cli=("--cert-reqs",),
        meta="INT",
    ),
    Setting(
        "ciphers",
        SSL,
        "The TLS ciphers to offer, in OpenSSL's cipher list format.",
        "Unset, Python's default list is used.",
        validator=validate_string,
        cli=("--ciphers",),
        meta="CIPHERS",
    ),
    Setting(
        "do_handshake_on_connect",
        SSL,
        "Accepted for gunicorn's config files: minigun always shakes hands first.",
        "minigun completes the TLS handshake before it reads the request, in the "
        "thread that serves the connection, and gives it header_timeout "
        "seconds, so a client that opens a connection and sends nothing cannot "
        "hold a worker. gunicorn's default (False) leaves the handshake to the "
        "first read or write, where a write has no deadline.",
        validator=validate_bool,
        default=False,
        cli=("--do-handshake-on-connect",),
        action="store_true",
    ),
    Setting(
        "suppress_ragged_eofs",
        SSL,
        "Treat a TLS connection closed without close_notify as a normal end.",
        "As the ssl module's suppress_ragged_eofs.",
        validator=validate_bool,
        default=True,
        cli=("--suppress-ragged-eofs",),
        action="store_true",
    ),
    # Logging
    Setting(
        "accesslog",
        LOGGING,
        "The access log file; '-' is stdout.",
        "No access log unless set.",
        validator=validate_string,
        cli=("--access-logfile",),
        meta="FILE",
    ),
    Setting(
        "access_log_format",
        LOGGING,
        "The access log line format.",
        "%-style atoms: h remote address, l '-', u user, t time, r request line, "
        "s status, b response length, f referer, a user agent, and more.",
        validator=validate_text,
        default='%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
        cli=("--access-logformat",),
        meta="STRING",
    ),
    Setting(
        "errorlog",
        LOGGING,
        "The error log file; '-' is stderr.",
        "Where the master and the workers log what they do and what went wrong.",
        validator=validate_string,
        default="-",
        cli=("--error-logfile", "--log-file"),
        meta="FILE",
    ),
    Setting(
        "loglevel",
        LOGGING,
        "The error log level: debug, info, warning, error or critical.",
        "debug also logs every request (the default pre_request hook).",
        validator=validate_choice(LOG_LEVELS),
        default="info",
        cli=("--log-level",),
        meta="LEVEL",
    ),
    Setting(
        "logconfig",
        LOGGING,
        "A logging configuration file in the ini format of logging.config.",
        "Read with ``logging.config.fileConfig`` in the master and in every "
        "worker, after minigun's own log set-up. The error log is the "
        "``minigun.error`` logger, the access log ``minigun.access``.",
        validator=validate_existing_file,
        cli=("--log-config",),
        meta="FILE",
    ),
    Setting(
        "logconfig_dict",
        LOGGING,
        "A logging configuration as a dict for logging.config.dictConfig.",
        "Config-file only, as in gunicorn. Applied in the master and in every "
        "worker; name the loggers ``minigun.error`` and ``minigun.access``.",
        validator=validate_dict,
        default={},
    ),
    Setting(
        "logconfig_json",
        LOGGING,
        "A logging configuration file in JSON, for logging.config.dictConfig.",
        "The same dictionary as logconfig_dict, read from a file.",
        validator=validate_existing_file,
        cli=("--log-config-json",),
        meta="FILE",
    ),
    Setting(
        "capture_output",
        LOGGING,
        "Send the app's stdout and stderr to the error log.",
        "Only when errorlog is a file.",
        validator=validate_bool,
        default=False,
        cli=("--capture-output",),
        action="store_true",
    ),
    Setting(
        "logger_class",
        LOGGING,
        "The logger: a dotted path to a Logger subclass.",
        "``minigun.glogging.Logger`` (also ``simple``) unless set; with "
        "statsd_host set, the default becomes ``minigun.instrument.statsd.Statsd``. "
        "A config written for gunicorn that names ``gunicorn.glogging.Logger`` or "
        "``gunicorn.instrument.statsd.Statsd`` gets minigun's class of that role. "
        "A class with an ``install()`` class method has it called when loaded.",
        validator=validate_class,
        default=DEFAULT_LOGGER_CLASS,
        cli=("--logger-class",),
        meta="STRING",
    ),
    Setting(
        "syslog",
        LOGGING,
        "Send the error log (and the access log) to syslog too.",
        "Through the standard library's SysLogHandler, to syslog_addr. Each "
        "line starts with ``minigun.PREFIX.error:`` or ``minigun.PREFIX.access:``, "
        "then the pid in brackets.",
        validator=validate_bool,
        default=False,
        cli=("--log-syslog",),
        action="store_true",
    ),
    Setting(
        "syslog_addr",
        LOGGING,
        "Where syslog is: udp://HOST:PORT, tcp://HOST:PORT or unix://PATH.",
        "The port defaults to 514. A Unix socket path may end in ``#dgram`` or "
        "``#stream`` to choose the socket type; without it, both are tried.",
        validator=validate_syslog_address,
        default="udp://localhost:514",
        cli=("--log-syslog-to",),
        meta="SYSLOG_ADDR",
    ),
    Setting(
        "syslog_prefix",
        LOGGING,
        "The program name in syslog lines (default: the process name).",
        "The lines are tagged ``minigun.PREFIX.error`` and ``minigun.PREFIX.access``; "
        "without a prefix, PREFIX is proc_name with ``:`` turned into ``.``.",
        validator=validate_string,
        cli=("--log-syslog-prefix",),
        meta="SYSLOG_PREFIX",
    ),
    Setting(
        "syslog_facility",
        LOGGING,
        "The syslog facility: user, daemon, local0 ... local7, and so on.",
        "Any name the standard library's SysLogHandler knows.",
        validator=validate_choice(SYSLOG_FACILITIES),
        default="user",
        cli=("--log-syslog-facility",),
        meta="SYSLOG_FACILITY",
    ),
    Setting(
        "disable_redirect_access_to_syslog",
        LOGGING,
        "With syslog, keep the access log out of it.",
        "By default the access log goes to syslog too (even with no accesslog).",
        validator=validate_bool,
        default=False,
        cli=("--disable-redirect-access-to-syslog",),
        action="store_true",
    ),
    Setting(
        "statsd_host",
        LOGGING,
        "Send metrics to this statsd server: HOST:PORT or unix:PATH.",
        "Switches the default logger_class to the statsd one, which sends, over "
        "UDP (or a Unix datagram socket), a counter per request, the request's "
        "duration in milliseconds, a counter per status code, the number of "
        "workers, and a counter per warning, error, exception and critical line. "
        "The port defaults to 8125.",
        validator=validate_statsd_address,
        cli=("--statsd-host",),
        meta="STATSD_ADDR",
    ),
    Setting(
        "statsd_prefix",
        LOGGING,
        "A prefix for every statsd metric name (a dot is added).",
        "``myapp`` turns ``gunicorn.requests`` into ``myapp.gunicorn.requests``.",
        validator=validate_text,
        default="",
        cli=("--statsd-prefix",),
        meta="STATSD_PREFIX",
    ),
    Setting(
        "dogstatsd_tags",
        LOGGING,
        "Tags added to every metric, for DogStatsD: a comma-separated list.",
        "For example ``env:prod,app:shop``; sent after ``|#``.",
        validator=validate_string,
        default="",
        cli=("--dogstatsd-tags",),
        meta="DOGSTATSD_TAGS",
    ),
    Setting(
        "enable_stdio_inheritance",
        LOGGING,
        "Keep stdout and stderr when daemonizing.",
        "Useful when they are already redirected to files.",
        validator=validate_bool,
        default=False,
        cli=("-R", "--enable-stdio-inheritance"),
        action="store_true",
    ),
    # Process Naming
    Setting(
        "proc_name",
        PROCESS_NAMING,
        "The name in ps and top (needs setproctitle).",
        "Defaults to default_proc_name, the app's MODULE:VARIABLE.",
        validator=validate_string,
        cli=("-n", "--name"),
        meta="STRING",
    ),
    Setting(
        "default_proc_name",
        PROCESS_NAMING,
        "The name used when proc_name is not set (internal).",
        "Set by the application from its MODULE:VARIABLE.",
        validator=validate_string,
        default="minigun",
    ),
    # Server Hooks
    hook_setting(
        "on_starting",
        on_starting,
        "Called in the master just before it initializes.",
        "Receives the Arbiter.",
    ),
    hook_setting(
        "on_reload",
        on_reload,
        "Called in the master on SIGHUP, before workers are recycled.",
        "Receives the Arbiter.",
    ),
    hook_setting(
        "when_ready",
        when_ready,
        "Called in the master once the listeners are bound.",
        "Receives the Arbiter; the workers are about to be spawned.",
    ),
    hook_setting(
        "pre_fork",
        pre_fork,
        "Called in the master just before a worker is forked.",
        "Receives the Arbiter and the new Worker object.",
    ),
    hook_setting(
        "post_fork",
        post_fork,
        "Called in the worker just after it was forked.",
        "Receives the Arbiter and the Worker.",
    ),
    hook_setting(
        "post_worker_init",
        post_worker_init,
        "Called in the worker once it has loaded the application.",
        "Receives the Worker.",
    ),
    hook_setting(
        "worker_ready",
        worker_ready,
        "Called in the master when a worker has finished booting.",
        "minigun extension. Receives the Arbiter and the Worker. gunicorn has no "
        "master-side hook for this moment; post_worker_init runs in the worker.",
    ),
    hook_setting(
        "worker_int",
        worker_int,
        "Called in the worker when it gets SIGINT or SIGQUIT.",
        "Receives the Worker.",
    ),
    hook_setting(
        "worker_abort",
        worker_abort,
        "Called in the worker when it gets SIGABRT (usually a timeout).",
        "Receives the Worker; a good place to log the stuck stack.",
    ),
    hook_setting(
        "pre_exec",
        pre_exec,
        "Called in the forked child just before it execs the new master (USR2).",
        "Receives the Arbiter (the child's copy of it).",
    ),
    hook_setting(
        "pre_request",
        pre_request,
        "Called in the worker just before it handles a request.",
        "Receives the Worker and the Request; the default logs the method and "
        "path at debug level.",
    ),
    hook_setting(
        "post_request",
        post_request,
        "Called in the worker after it handled a request.",
        "Receives the Worker, the Request, the environ and the Response; a hook "
        "taking only the first two or three parameters is accepted too.",
    ),
    hook_setting(
        "child_exit",
        child_exit,
        "Called in the master after a worker exited.",
        "Receives the Arbiter and the exited Worker.",
    ),
    hook_setting(
        "worker_exit",
        worker_exit,
        "Called in the worker just before it exits.",
        "Receives the Arbiter and the Worker.",
    ),
    hook_setting(
        "nworkers_changed",
        nworkers_changed,
        "Called in the master when the number of workers changed.",
        "Receives the Arbiter, the new number and the old one (None the first time).",
    ),
    hook_setting(
        "on_exit",
        on_exit,
        "Called in the master just before minigun exits.",
        "Receives the Arbiter.",
    ),
    hook_setting(
        "ssl_context",
        ssl_context,
        "Called in each worker as it boots, to build its TLS context.",
        "Receives the Config and a function that builds the default context "
        "from the SSL settings; returns an ssl.SSLContext. Only called when "
        "certfile or keyfile is set.",
    ),
]
"""Every setting, in ``--help`` order."""


class Config:
    """The resolved value of every setting, plus the values derived from them.

    How minigun reads its settings, everywhere: ``cfg.workers``. A Config is complete
    once the application has loaded it, and nothing changes it after: a HUP loads a
    new one (:meth:`BaseApplication.reload <minigun.app.base.BaseApplication.reload>`).
    So whoever holds a Config sees the same values for as long as it holds it: the
    master takes the current one in one place (:meth:`Arbiter.setup
    <minigun.arbiter.Arbiter.setup>`), and a worker keeps the one it was forked with
    for its whole life.

    The class body below declares each setting's type (the type its validator
    returns; ``tests/test_config.py`` checks that the two agree), so that mypy knows
    ``cfg.workers`` is an ``int``. The declarations hold no value: the values live in
    ``self.values``, and reading ``cfg.workers`` finds no attribute of that name, so
    Python calls :meth:`__getattr__`, which reads it there. That small delegation is
    what lets a hook written for gunicorn say ``server.cfg.workers``. The derived
    values (``address``, ``worker_class``, ...) are ordinary properties and take
    precedence over a setting of the same name.
    """

    # The type of each setting, in SETTINGS' order: what ``cfg.<name>`` gives.
    # Config File
    config: str | None
    wsgi_app: str | None
    check_config: bool
    print_config: bool
    # Server Socket
    bind: list[str]
    backlog: int
    reuse_port: bool
    # Worker Processes
    workers: int
    threads: int
    worker_connections: int
    max_requests: int
    max_requests_jitter: int
    timeout: int
    graceful_timeout: int
    keepalive: int
    asgi_loop: str
    asgi_lifespan: str
    root_path: str | None
    abort_grace: float
    # HTTP Parsing
    limit_request_line: int
    limit_request_fields: int
    limit_request_field_size: int
    limit_request_body: int
    header_timeout: float
    body_idle_timeout: float
    header_map: str
    permit_obsolete_folding: bool
    casefold_http_method: bool
    permit_unconventional_http_method: bool
    permit_unconventional_http_version: bool
    strip_header_spaces: bool
    proxy_protocol: str
    proxy_allow_ips: list[str]
    # Server Mechanics
    preload_app: bool
    reload: bool
    reload_engine: str
    reload_extra_files: list[str]
    chdir: str
    pythonpath: str | None
    daemon: bool
    raw_env: list[str]
    paste: str | None
    raw_paste_global_conf: list[str]
    pidfile: str | None
    worker_tmp_dir: str | None
    user: int
    group: int
    umask: int
    sendfile: bool
    forwarder_headers: list[str]
    # Security
    forwarded_allow_ips: list[str]
    secure_scheme_headers: dict[str, str]
    # SSL
    certfile: str | None
    keyfile: str | None
    ca_certs: str | None
    cert_reqs: int
    ciphers: str | None
    do_handshake_on_connect: bool
    suppress_ragged_eofs: bool
    # Logging
    accesslog: str | None
    access_log_format: str
    errorlog: str | None
    loglevel: str
    logconfig: str | None
    logconfig_dict: dict[str, object]
    logconfig_json: str | None
    capture_output: bool
    syslog: bool
    syslog_addr: str
    syslog_prefix: str | None
    syslog_facility: str
    disable_redirect_access_to_syslog: bool
    statsd_host: str | None
    statsd_prefix: str
    dogstatsd_tags: str | None
    enable_stdio_inheritance: bool
    # Process Naming
    default_proc_name: str | None
    # Server Hooks
    on_starting: Hook
    on_reload: Hook
    when_ready: Hook
    pre_fork: Hook
    post_fork: Hook
    post_worker_init: Hook
    worker_ready: Hook
    worker_int: Hook
    worker_abort: Hook
    pre_exec: Hook
    pre_request: Hook
    post_request: Hook
    child_exit: Hook
    worker_exit: Hook
    nworkers_changed: Hook
    on_exit: Hook
    ssl_context: Hook

    def __init__(self, usage: str | None = None, prog: str | None = None) -> None:
        self.usage = usage
        # An embedding interpreter (a test runner, mod_wsgi) may leave sys.argv
        # empty; the config file must still be found and read.
        self.prog = prog or os.path.basename(sys.argv[0] if sys.argv else "minigun")
        self.settings: dict[str, Setting] = {s.name: s for s in SETTINGS}
        # Any: each setting has its own type (int, str, a hook...), known only by name
        # Not through set(): that is the door for a value someone gives. A default
        # comes from the table, and initial_value() has validated it already.
        self.values: dict[str, Any] = {s.name: s.initial_value() for s in SETTINGS}

    def __getattr__(self, name: str) -> object:
        """``cfg.<name>``: the resolved value of the setting ``name``.

        Typed ``object``: a name not declared above has no type a checker can know.
        """
        values = self.__dict__.get("values", {})
        if name not in values:
            raise AttributeError(f"no setting named {name!r}")
        return values[name]

    def set(self, name: str, value: object) -> None:
        """Validate and store one value.

        Raises:
            ConfigError: one line naming the setting, the bad value and the reason.
        """
        # exercise: config-set
        setting = self.settings.get(name)
        if setting is None:
            raise ConfigError(f"No such setting: {name}")
        try:
            self.values[name] = setting.validator(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"Invalid value for {name}: {describe(value)}: {error}"
            ) from None
        # end-exercise: config-set

    def apply_file_settings(self, namespace: Mapping[str, object]) -> None:
        """Set every setting a config file defines; warn about gunicorn-only ones.

        A config file is plain Python, so it also defines modules, helper functions
        and constants: names that are not settings are ignored, unless one is so
        close to a setting's name that it is likely a typo. A gunicorn-only
        setting left at ``None`` or ``False`` asks for nothing, so it is not warned
        about (gunicorn's own example config lists several that way).
        """
        for name, value in namespace.items():
            if name in self.settings:
                self.set(name, value)
            elif name in GUNICORN_ONLY_SETTINGS and not _asks_for_nothing(value):
                warn(
                    f"{name} is a gunicorn setting minigun does not implement; ignored"
                )
            elif (close := self.close_setting_name(name)) is not None:
                warn(f"unknown setting {name!r} (did you mean {close!r}?)")

    def close_setting_name(self, name: str) -> str | None:
        """The setting ``name`` is probably a typo of, or ``None``.

        A config file that sets ``worker = 3`` would otherwise run silently with one
        worker. Private names (``_x``) and names that resemble no setting closely
        (helper variables, imported modules) are not suspects.
        """
        if name.startswith("_"):
            return None
        import difflib  # noqa: PLC0415 (only config files with unknown names need it)

        matches = difflib.get_close_matches(
            name, self.settings, n=1, cutoff=TYPO_SIMILARITY
        )
        return matches[0] if matches else None

    def parser(self) -> argparse.ArgumentParser:
        """The command-line parser, one ``--help`` group per section."""
        parser = argparse.ArgumentParser(
            prog=self.prog,
            usage=self.usage,
            description="minigun: a pre-fork WSGI server",
            epilog=SOURCES_EPILOG,
        )
        parser.add_argument(
            "-v", "--version", action="version", version=f"minigun {__version__}"
        )
        parser.add_argument(
            "args", nargs="*", metavar="APP_MODULE", help="the app as MODULE:VARIABLE"
        )
        groups: dict[str, argparse._ArgumentGroup] = {}
        for setting in SETTINGS:
            if setting.cli:
                if setting.section not in groups:
                    groups[setting.section] = parser.add_argument_group(setting.section)
                setting.add_option(groups[setting.section])
        return parser

    def __str__(self) -> str:
        """Every setting as ``name = value``, sorted by name (``--print-config``)."""
        width = max(len(name) for name in self.values)
        return "\n".join(
            f"{name:{width}} = {describe(self.values[name])}"
            for name in sorted(self.values)
        )

    # --- derived values ------------------------------------------------------------

    @property
    def address(self) -> list[tuple[str, int] | str | int]:
        """The binds parsed: ``(host, port)``, a Unix socket path, or an fd number."""
        return [util.parse_address(bind) for bind in self.values["bind"]]

    @property
    def worker_class_str(self) -> str:
        """The worker class as text; ``sync`` with threads > 1 reads ``gthread``."""
        value = self.values["worker_class"]
        if isinstance(value, type):
            return f"{value.__module__}.{value.__qualname__}"
        if value == "sync" and self.values["threads"] > 1:
            return "gthread"
        return str(value)

    @property
    def worker_class(self) -> type:
        """The worker class itself, imported now.

        Raises:
            ConfigError: naming the class that cannot be loaded.
        """
        value = self.values["worker_class"]
        uri = value if isinstance(value, type) else self.worker_class_str
        try:
            worker_class = util.load_class(uri)
        except ImportError as error:
            raise ConfigError(f"Invalid value for worker_class: {error}") from None
        # A gunicorn worker class (uvicorn-worker's) runs behind a shim; imported
        # here: the workers import this module.
        from minigun.workers.gunicorn_compat import adapt  # noqa: PLC0415

        return adapt(worker_class)

    @property
    def logger_class(self) -> type:
        """The logger class, imported now; the statsd one when statsd_host is set
        and logger_class was left at its default (gunicorn's rule).

        Raises:
            ConfigError: naming the class that cannot be loaded.
        """
        value = self.values["logger_class"]
        path = value if isinstance(value, type) else LOGGER_CLASSES.get(value, value)
        if path == DEFAULT_LOGGER_CLASS and self.values["statsd_host"]:
            path = STATSD_LOGGER_CLASS
        try:
            logger_class = util.load_class(path, DEFAULT_LOGGER_CLASS, LOGGER_CLASSES)
        except ImportError as error:
            raise ConfigError(f"Invalid value for logger_class: {error}") from None
        install = getattr(logger_class, "install", None)
        if callable(install):
            install()
        return logger_class

    @property
    def proc_name(self) -> str:
        return str(self.values["proc_name"] or self.values["default_proc_name"])

    @property
    def env(self) -> dict[str, str]:
        """``raw_env`` as a dict: the variables to set in the workers."""
        return key_value_pairs(self.values["raw_env"])

    @property
    def uid(self) -> int:
        return int(self.values["user"])

    @property
    def gid(self) -> int:
        return int(self.values["group"])

    @property
    def is_ssl(self) -> bool:
        """Whether the listeners speak TLS: a certificate or a key is set."""
        return bool(self.values["certfile"] or self.values["keyfile"])

    @property
    def paste_global_conf(self) -> dict[str, str]:
        """``raw_paste_global_conf`` as a dict, for PasteDeploy's ``global_conf``."""
        return key_value_pairs(self.values["raw_paste_global_conf"])
