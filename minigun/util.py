"""Small helpers the other modules share: loading the app, parsing addresses, OS calls.

The chapter's question: given the text ``myproject.wsgi:application`` on a command
line, how does a server find the Python object to call? :func:`import_app` answers it
in three steps (split, import, fetch) and turns every way those steps can fail into an
:class:`~minigun.errors.AppImportError` whose message names what failed. The factory
form ``module:create_app('x', 1)`` takes *literal* arguments only: the text is parsed
with :mod:`ast` and never evaluated, because a command line must not run code.

The rest are thin wrappers around POSIX calls, each named for what the caller wants
(``getcwd``, ``daemonize``) rather than for the calls it makes.
"""

from __future__ import annotations

import ast
import grp
import importlib
import os
import pwd
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from minigun.errors import APP_FACTORY_ERROR, APP_NOT_FOUND, AppImportError
from minigun.workers import SUPPORTED_WORKERS

if TYPE_CHECKING:  # annotations only: http.wsgi imports this module
    from minigun.http.wsgi import WSGIApp

DEFAULT_APP_VARIABLE = "application"
"""The variable ``import_app("module")`` looks for, as in gunicorn and mod_wsgi."""

DEFAULT_PORT = 8000
"""The TCP port of a bind that names only a host."""

MAX_PORT = 65535

STANDARD_LIBRARY = os.path.dirname(os.__file__)
"""The standard library's folder (that of ``os.py``), as ``sys.path`` names it."""

STATSD_DEFAULT_PORT = 8125
SYSLOG_DEFAULT_PORT = 514
SYSLOG_UNIX_TYPES = {"dgram": socket.SOCK_DGRAM, "stream": socket.SOCK_STREAM}
SYSLOG_NETWORK_TYPES = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}

HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
"""RFC 9110 section 7.6.1: headers about one connection, never set by a WSGI app."""


# --- loading the application ---------------------------------------------------------


@dataclass(frozen=True)
class AppExpression:
    """What follows the colon in ``module:expression``: a name, maybe called."""

    name: str
    is_factory: bool = False
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = field(default_factory=dict)


def import_app(uri: str) -> WSGIApp:
    """Import and return the WSGI callable named by ``uri``.

    ``uri`` is ``module``, ``module:variable`` or ``module:factory(literal, ...)``.

    Raises:
        AppImportError: with a message naming the module, attribute or factory
            that failed, and why.
    """
    refuse_a_file_name(uri)
    # exercise: load-app
    module_name, _, expression_text = uri.partition(":")
    expression = parse_app_expression(expression_text or DEFAULT_APP_VARIABLE, uri)
    module = import_app_module(module_name)
    app = find_app_attribute(module, expression.name)
    # end-exercise: load-app
    if expression.is_factory:
        app = call_app_factory(app, uri, expression)
    if not callable(app):
        raise AppImportError(
            f"The application object {uri!r} must be callable, "
            f"but it is {type(app).__name__} {app!r}.",
            APP_NOT_FOUND,
        )
    return app


def refuse_a_file_name(uri: str) -> None:
    """``app.py`` names a file, not a module: say which module was meant."""
    module_name, _, variable = uri.partition(":")
    if not (module_name.endswith(".py") and os.path.isfile(module_name)):
        return
    dotted = module_name.removesuffix(".py").strip("/").replace("/", ".")
    raise AppImportError(
        f"Failed to find the application: {module_name!r} is a file name; "
        f"did you mean '{dotted}:{variable or DEFAULT_APP_VARIABLE}'?"
    )


def parse_app_expression(text: str, uri: str) -> AppExpression:
    """Read ``name`` or ``name(literal, key=literal)`` without evaluating anything."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        node = None
    if isinstance(node, ast.Name):
        return AppExpression(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        try:
            args = tuple(ast.literal_eval(arg) for arg in node.args)
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        except ValueError:
            raise AppImportError(
                f"The factory call in {uri!r} may only have literal arguments "
                "(strings, numbers, tuples, lists, dicts, True, False, None).",
                APP_NOT_FOUND,
            ) from None
        if None in kwargs:
            raise AppImportError(
                f"The factory call in {uri!r} cannot use **kwargs.", APP_NOT_FOUND
            )
        return AppExpression(node.func.id, True, args, kwargs)  # type: ignore[arg-type]
    raise AppImportError(
        f"Failed to parse {text!r} in {uri!r} as a variable name or a function call.",
        APP_NOT_FOUND,
    )


def import_app_module(module_name: str) -> ModuleType:
    """Import the app's module, telling "it is missing" apart from "it is broken"."""
    if not module_name:
        raise AppImportError("No module given: use MODULE:VARIABLE, e.g. 'myapp:app'.")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if _names_the_module_itself(error.name, module_name):
            raise AppImportError(
                f"Failed to find the module {module_name!r}: there is no such module "
                f"on sys.path (the working directory is {os.getcwd()})."
            ) from None
        raise AppImportError(
            f"The module {module_name!r} was found, but an import inside it failed: "
            f"{error} ({_where_raised(error)})."
        ) from error
    except Exception as error:
        raise AppImportError(
            f"Importing the module {module_name!r} raised "
            f"{type(error).__name__}: {error} ({_where_raised(error)})."
            + _self_import_hint(error, module_name)
        ) from error


def _self_import_hint(error: Exception, module_name: str) -> str:
    """A hint when the app's file imports a library of its own name (``flask.py``
    saying ``from flask import Flask``): Python finds the file itself again."""
    if not isinstance(error, ImportError) or error.name != module_name:
        return ""
    return (
        f" The file {error.path or module_name} has the name of the module it "
        "imports, so it imports itself: rename it."
    )


def _names_the_module_itself(missing: str | None, module_name: str) -> bool:
    """True if the missing module is ``module_name`` or one of its parent packages."""
    if missing is None:
        return False
    return missing == module_name or module_name.startswith(missing + ".")


def _where_raised(error: BaseException) -> str:
    """``file:line`` of the innermost frame of the error's traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "location unknown"
    last = frames[-1]
    return f"at {last.filename}:{last.lineno}"


def find_app_attribute(module: ModuleType, name: str) -> object:
    """Fetch ``name`` from the module, or say which module lacks it."""
    try:
        return getattr(module, name)
    except AttributeError:
        raise AppImportError(
            f"Failed to find the attribute {name!r} in the module {module.__name__!r}."
            + shadowed_file_hint(module),
            APP_NOT_FOUND,
        ) from None


def shadowed_file_hint(module: ModuleType) -> str:
    """A hint when the module imported is not the file of that name in the working
    directory: a module already imported (``http``, ``socket``: the server uses
    them) or a package directory beside it (``app/`` beside ``app.py``) wins."""
    own_file = os.path.abspath(module.__name__.replace(".", os.sep) + ".py")
    found = getattr(module, "__file__", None) or "(built in)"
    if not os.path.isfile(own_file) or found == own_file:
        return ""
    return (
        f" The name {module.__name__!r} is taken by {found}, so {own_file} is never "
        "imported under it: rename that file."
    )


def call_app_factory(factory: object, uri: str, expression: AppExpression) -> object:
    """Call ``create_app(...)`` and report a failure as the factory's own."""
    if not callable(factory):
        raise AppImportError(
            f"{expression.name!r} in {uri!r} is {type(factory).__name__}, "
            "not a function, so it cannot be called as an app factory.",
            APP_NOT_FOUND,
        )
    try:
        app = factory(*expression.args, **expression.kwargs)
    except Exception as error:
        raise AppImportError(
            f"The app factory {expression.name!r} in {uri!r} raised "
            f"{type(error).__name__}: {error} ({_where_raised(error)}).",
            APP_FACTORY_ERROR,
        ) from error
    if app is None:
        raise AppImportError(
            f"The app factory {expression.name!r} in {uri!r} returned None: "
            "it must return the WSGI application.",
            APP_FACTORY_ERROR,
        )
    return app


def load_class(
    uri: str | type,
    default: str = "sync",
    section: Mapping[str, str] = SUPPORTED_WORKERS,
) -> type:
    """Resolve a class from a short name in ``section`` or from a dotted path.

    Args:
        uri: a class (returned as is), a short name such as ``"sync"``, or a
            dotted path such as ``"minigun.workers.gthread.ThreadWorker"``.
        default: the short name used when ``uri`` is empty.
        section: the table of short names to dotted paths (gunicorn keeps the same
            idea in an entry-point section, hence the name).

    Raises:
        ImportError: naming the class that could not be loaded and why.
    """
    if isinstance(uri, type):
        return uri
    path = section.get(uri or default, uri or default)
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        known = ", ".join(sorted(section))
        raise ImportError(
            f"{path!r} is neither a known name ({known}) nor a dotted path"
        )
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        raise ImportError(f"cannot load the class {path!r}: {error}") from error


# --- addresses -----------------------------------------------------------------------


def parse_syslog_address(
    addr: str,
) -> tuple[socket.SocketKind | None, tuple[str, int] | str]:
    """``syslog_addr`` as SysLogHandler takes it: ``(socket type, address)``.

    ``unix://PATH`` gives the path and no type (the handler tries a datagram
    socket, then a stream one), unless ``#dgram`` or ``#stream`` follows;
    ``udp://HOST[:PORT]`` and ``tcp://HOST[:PORT]`` give ``(host, port)``, the
    port 514 when none is given, the host ``localhost`` when none is given.

    Raises:
        ValueError: for another scheme, or an unreadable port.
    """
    scheme, separator, rest = addr.partition("://")
    if not separator or scheme not in {"unix", *SYSLOG_NETWORK_TYPES}:
        raise ValueError(
            f"{addr!r} is not udp://HOST:PORT, tcp://HOST:PORT or unix://PATH"
        )
    if scheme == "unix":
        path, _, kind = rest.partition("#")
        if kind and kind not in SYSLOG_UNIX_TYPES:
            raise ValueError(f"unknown socket type {kind!r} in {addr!r}")
        return SYSLOG_UNIX_TYPES.get(kind), path
    host_port = parse_address(rest, SYSLOG_DEFAULT_PORT)
    if not isinstance(host_port, tuple):
        raise ValueError(f"{addr!r} names no host")
    host = "localhost" if not rest or rest.startswith(":") else host_port[0]
    return SYSLOG_NETWORK_TYPES[scheme], (host, host_port[1])


def parse_address(
    netloc: str, default_port: int = DEFAULT_PORT
) -> tuple[str, int] | str | int:
    """Turn one ``bind`` value into what ``socket.bind`` (or an fd adoption) takes.

    ``unix:PATH`` and ``unix://PATH`` give the path (a ``str``); ``fd://N`` gives the
    descriptor (an ``int``); ``HOST:PORT``, ``[V6]:PORT``, ``HOST`` and ``:PORT`` give
    a ``(host, port)`` tuple. Port 0 asks the kernel for a free port.

    Raises:
        ValueError: for an unreadable port or descriptor.
    """
    if netloc.startswith("unix://"):
        return netloc.removeprefix("unix://")
    if netloc.startswith("unix:"):
        return netloc.removeprefix("unix:")
    if netloc.startswith("fd://"):
        return _parse_number(netloc.removeprefix("fd://"), "file descriptor", netloc)
    netloc = netloc.removeprefix("tcp://")
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif netloc.count(":") == 1:
        host, _, port_text = netloc.partition(":")
    else:
        host, port_text = netloc, ""
    port = _parse_number(port_text, "port", netloc) if port_text else default_port
    if port > MAX_PORT:
        raise ValueError(f"port {port} out of range in {netloc!r}")
    return (host.lower() or "0.0.0.0", port)


def _parse_number(text: str, what: str, netloc: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number in {netloc!r}")
    return int(text)


# --- small POSIX and HTTP helpers ---------------------------------------------------


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


def http_date(timestamp: float | None = None) -> str:
    """The ``Date`` header value: ``Sun, 22 Nov 2026 01:00:00 GMT`` (RFC 9110 5.6.7).

    Written out rather than taken from ``email.utils.formatdate``: the email
    package is 15 modules a worker loads for nothing else (the names are English
    whatever the locale, as HTTP wants them).
    """
    t = time.gmtime(timestamp)
    return (
        f"{WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def is_hoppish(header_name: str) -> bool:
    """True for a hop-by-hop header, which a WSGI app must not set (PEP 3333)."""
    return header_name.lower() in HOP_BY_HOP_HEADERS


def getcwd() -> str:
    """The working directory as the user typed it: ``$PWD`` if it is a symlink to it.

    ``os.getcwd()`` resolves symlinks; a deploy that swaps a ``current`` symlink
    needs the unresolved path so that a re-exec picks up the new release.
    """
    cwd = os.getcwd()
    pwd_env = os.environ.get("PWD")
    if pwd_env and os.path.exists(pwd_env) and os.path.samefile(pwd_env, cwd):
        return pwd_env
    return cwd


def add_app_directory(directory: str) -> None:
    """Put a folder of the application (``chdir``, ``pythonpath``) on ``sys.path``,
    after the standard library and before the installed packages.

    A folder already on the path (``python -m`` puts the working directory first) is
    moved, not listed twice.
    """
    if _index_on_path(directory) > _index_on_path(STANDARD_LIBRARY):
        return  # already where it belongs (a worker loads the app again)
    sys.path[:] = [entry for entry in sys.path if not _same_folder(entry, directory)]
    sys.path.insert(_first_site_packages_index(), directory)


def _first_site_packages_index() -> int:
    """The index of the first installed-packages folder on ``sys.path`` (the end
    when there is none, as under ``python -S``)."""
    import site  # noqa: PLC0415 (already imported at start-up, unless -S)

    folders = [*site.getsitepackages(), site.getusersitepackages()]
    indexes = [_index_on_path(folder) for folder in folders]
    return min((index for index in indexes if index >= 0), default=len(sys.path))


def _index_on_path(folder: str) -> int:
    """Where ``folder`` first is on ``sys.path``, or -1."""
    for index, entry in enumerate(sys.path):
        if _same_folder(entry, folder):
            return index
    return -1


def _same_folder(entry: str, folder: str) -> bool:
    """Whether a ``sys.path`` entry names ``folder`` ("" is the working one)."""
    return os.path.realpath(entry or ".") == os.path.realpath(folder)


def user_to_uid(user: str | int) -> int:
    """A user name or number as a uid; raises ``ValueError`` for an unknown user."""
    if isinstance(user, int) or user.isdigit():
        return int(user)
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        raise ValueError(f"no such user {user!r}") from None


def group_to_gid(group: str | int) -> int:
    """A group name or number as a gid; raises ``ValueError`` for an unknown group."""
    if isinstance(group, int) or group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"no such group {group!r}") from None


def daemonize(enable_stdio_inheritance: bool = False) -> None:
    """Detach from the terminal: fork, new session, fork again, stdio to /dev/null.

    The first fork lets the shell's child exit, so the daemon is not a process-group
    leader and ``setsid`` can succeed; the second fork makes sure the daemon can never
    acquire a controlling terminal again. With ``enable_stdio_inheritance`` stdout and
    stderr are kept (useful when they are already redirected to files).
    """
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.umask(0o22)
    _redirect_stdio(keep_output=enable_stdio_inheritance)


def _redirect_stdio(keep_output: bool) -> None:
    """Point stdin (and unless kept, stdout and stderr) at ``/dev/null``."""
    null = os.open(os.devnull, os.O_RDWR)
    targets = [sys.stdin] if keep_output else [sys.stdin, sys.stdout, sys.stderr]
    for stream in targets:
        try:
            os.dup2(null, stream.fileno())
        except (AttributeError, OSError, ValueError):
            continue  # a replaced stream (as under pytest) has no real descriptor
    os.close(null)
