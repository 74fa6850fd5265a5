"""PasteDeploy: serving an application that an ini file describes.

The chapter's question (the paste branch of :doc:`wsgiapp`): Pyramid-style projects
name their application in a ``.ini`` file, not as ``MODULE:VARIABLE``. What does
``minigun --paste site.ini`` take from that file?

- The application: ``[app:main]``, or the section named after ``#``
  (``site.ini#admin`` is ``[app:admin]``), loaded by PasteDeploy's ``loadapp`` in
  each worker, with ``--paste-global KEY=VALUE`` as its global configuration.
- The address: ``host`` and ``port`` of ``[server:main]`` become the bind, at the
  lowest precedence, so a ``--bind`` or a config file's ``bind`` still wins. Only
  those two keys are read; the section's ``use`` names the server PasteDeploy's own
  runner would start, which is not minigun's business.
- Logging: if the file has a ``[loggers]`` section it is also the ``logconfig``.

Rules: PasteDeploy is an optional dependency (``pip install minigun[paste]``). Its
absence is found in the master, before anything is bound, and reported as one
:class:`~minigun.errors.ConfigError` naming what to install.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from minigun.config import DEFAULT_HOST
from minigun.errors import AppImportError, ConfigError

if TYPE_CHECKING:  # annotations only, as in minigun.app.base
    from minigun.http.wsgi import WSGIApp

DEFAULT_APP_NAME = "main"
SERVER_SECTION = "server:main"
LOGGING_SECTION = "loggers"
PASTE_MISSING = (
    "--paste needs PasteDeploy, which is not installed: "
    "pip install 'minigun[paste]' (or pip install PasteDeploy)"
)


def split_uri(uri: str) -> tuple[str, str]:
    """``site.ini#admin`` as ``("/abs/site.ini", "admin")``; the name defaults to main.

    Raises:
        ConfigError: the file does not exist.
    """
    path, _, name = uri.partition("#")
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"Invalid value for paste: {path!r} not found")
    return path, name or DEFAULT_APP_NAME


def require_pastedeploy() -> None:
    """Fail now, in the master, rather than in every worker that tries to load."""
    try:
        found = importlib.util.find_spec("paste.deploy") is not None
    except ImportError:  # no ``paste`` package at all, or a blocked one
        found = False
    if not found:
        raise ConfigError(PASTE_MISSING)


def paste_config(path: str, global_conf: Mapping[str, str]) -> dict[str, object]:
    """The settings the ini file implies: the bind and the logging configuration."""
    parser = read_ini(path, global_conf)
    settings: dict[str, object] = {"default_proc_name": path}
    bind = server_bind(parser)
    if bind:
        settings["bind"] = bind
    if parser.has_section(LOGGING_SECTION):
        settings["logconfig"] = path
    return settings


def read_ini(path: str, global_conf: Mapping[str, str]) -> configparser.ConfigParser:
    """The file as PasteDeploy reads it: ``%(here)s``, ``%(__file__)s`` and the
    global configuration are defined for interpolation."""
    defaults = {
        "here": os.path.dirname(path),
        "__file__": path,
        **global_conf,
    }
    parser = configparser.ConfigParser(defaults=defaults)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise ConfigError(f"Invalid value for paste: {path}: {error}") from None
    return parser


def server_bind(parser: configparser.ConfigParser) -> list[str]:
    """``[server:main]``'s ``host`` and ``port`` as bind addresses (none: ``[]``).

    ``host`` alone may list several addresses, comma-separated, as gunicorn reads it.
    """
    if not parser.has_section(SERVER_SECTION):
        return []
    host = parser.get(SERVER_SECTION, "host", fallback="").strip()
    port = parser.get(SERVER_SECTION, "port", fallback="").strip()
    if host and port:
        return [f"{host}:{port}"]
    if port:
        return [f"{DEFAULT_HOST}:{port}"]  # as minigun's own default bind
    return [address.strip() for address in host.split(",") if address.strip()]


def load_pasteapp(path: str, name: str, global_conf: Mapping[str, str]) -> WSGIApp:
    """Build the application with PasteDeploy's ``loadapp`` (in the worker).

    Raises:
        AppImportError: the section is missing or its factory failed, with the
            file, the section and PasteDeploy's reason in one line.
    """
    try:
        from paste.deploy import loadapp  # noqa: PLC0415 (an optional dependency)
    except ImportError:
        raise ConfigError(PASTE_MISSING) from None
    try:
        # PasteDeploy has no type hints; what its factories return is a WSGI app
        app: WSGIApp = loadapp(
            f"config:{path}",
            name=name,
            relative_to=os.path.dirname(path),
            global_conf=dict(global_conf),
        )
    except Exception as error:
        raise AppImportError(
            f"Failed to load [app:{name}] from {path}: {type(error).__name__}: {error}"
        ) from error
    return app
