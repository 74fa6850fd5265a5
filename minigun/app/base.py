"""Applications: where a Config gets its values, and what the arbiter is handed.

The chapter's question: between typing ``minigun -w 4 myapp:app`` and the first fork,
who decides what ``cfg.workers`` is, and who knows how to load ``myapp:app``?

Two classes split the answer, as in gunicorn:

- :class:`BaseApplication` is the contract the arbiter relies on: ``cfg`` (a
  :class:`~minigun.config.Config`), ``load()`` (returns the WSGI callable), ``wsgi()``
  (loads it once), ``reload()`` (re-reads the configuration on SIGHUP) and ``run()``.
  A program that embeds minigun subclasses it and fills ``cfg`` from a dict
  (``examples/custom_app.py``).
- :class:`Application` fills ``cfg`` the way the command does, from four sources,
  lowest precedence first: the defaults (which read ``PORT`` and
  ``WEB_CONCURRENCY``), the config file, ``MINIGUN_CMD_ARGS``, the command line.
  A gunicorn user's ``./gunicorn.conf.py`` and ``GUNICORN_CMD_ARGS`` are read when
  minigun's own are absent, and a line on standard error says so.

Rules: configuration errors are raised as :class:`~minigun.errors.ConfigError`, never
turned into an exit here; the entry point (``minigun.app.wsgiapp.run``) prints them.
``run()`` returns the exit status for the entry point to pass to ``sys.exit``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING

from minigun import util
from minigun.config import Config
from minigun.errors import AppImportError, ConfigError

if TYPE_CHECKING:  # annotations only: --version and --print-config need no HTTP layer
    from minigun.http.wsgi import WSGIApp

DEFAULT_CONFIG_FILE = "minigun.conf.py"
"""Read from the working directory when no ``-c`` is given."""

CMD_ARGS_ENV = "MINIGUN_CMD_ARGS"
"""Extra command-line arguments from the environment (gunicorn: GUNICORN_CMD_ARGS)."""

GUNICORN_CONFIG_FILE = "gunicorn.conf.py"
GUNICORN_CMD_ARGS_ENV = "GUNICORN_CMD_ARGS"
"""gunicorn's names for the two, read when minigun's own are absent, so that a
gunicorn deployment switches by changing only the command's name."""

PYTHON_MODULE_PREFIX = "python:"
FILE_PREFIX = "file:"
"""``-c file:PATH`` (gunicorn's spelling) is ``-c PATH``."""


def note(message: str) -> None:
    """Say on standard error where a setting came from (no logger exists yet)."""
    print(f"minigun: {message}", file=sys.stderr)


class BaseApplication:
    """What the arbiter needs from an application, and nothing about where it came from.

    Subclasses implement :meth:`load_config` (put values into ``self.cfg``) and
    :meth:`load` (return the WSGI callable).
    """

    def __init__(self, usage: str | None = None, prog: str | None = None) -> None:
        self.usage = usage
        self.prog = prog
        self.cfg = Config(usage, prog)
        self.callable: WSGIApp | None = None
        self.do_load_config()

    def do_load_config(self) -> None:
        """Start from fresh defaults, then apply this application's sources."""
        self.load_default_config()
        self.load_config()

    def load_default_config(self) -> None:
        self.cfg = Config(self.usage, prog=self.prog)

    def init(
        self, parser: argparse.ArgumentParser, opts: argparse.Namespace, args: list[str]
    ) -> Mapping[str, object] | None:
        """Look at the parsed command line; may return settings to apply first."""
        raise NotImplementedError

    def load_config(self) -> None:
        raise NotImplementedError

    def load(self) -> WSGIApp:
        raise NotImplementedError

    def reload(self) -> None:
        """Re-read the configuration (SIGHUP); on an error keep the old one and raise.

        The arbiter calls this in the master, so a typo in an edited config file
        must not leave a half-loaded ``cfg`` behind.
        """
        # exercise: baseapp-reload
        previous = self.cfg
        try:
            self.do_load_config()
        except ConfigError:
            self.cfg = previous
            raise
        # end-exercise: baseapp-reload

    def wsgi(self) -> WSGIApp:
        """The WSGI callable, loaded on first use (in a worker, unless preloaded)."""
        if self.callable is None:
            self.callable = self.load()
        return self.callable

    def run(self) -> int:
        """Hand this application to a new arbiter; return the exit status."""
        # Imported here, not at the top: the arbiter brings the workers and the
        # HTTP parser with it, which --version, --print-config and every embedding
        # program's configuration step do not need.
        from minigun.arbiter import Arbiter  # noqa: PLC0415

        Arbiter(self).run()
        return 0


class Application(BaseApplication):
    """An application configured like the ``minigun`` command: file, env, CLI."""

    def __init__(
        self,
        usage: str | None = None,
        prog: str | None = None,
        argv: list[str] | None = None,
    ) -> None:
        self.argv = sys.argv[1:] if argv is None else argv
        super().__init__(usage, prog)

    def load_config(self) -> None:
        """Apply the sources in order; a later source overrides an earlier one."""
        parser = self.cfg.parser()
        args = parser.parse_args(self.argv)
        env_args = self.parse_environment_args()
        app_settings = self.init(parser, args, args.args) or {}
        # exercise: config-precedence
        for name, value in app_settings.items():
            self.cfg.set(name, value)
        config_file = args.config or env_args.config or find_default_config_file()
        if config_file:
            self.cfg.apply_file_settings(load_config_file(config_file))
        self.apply_command_line(env_args)
        self.apply_command_line(args)
        # end-exercise: config-precedence
        self.chdir()

    def parse_environment_args(self) -> argparse.Namespace:
        """Parse ``$MINIGUN_CMD_ARGS`` (or gunicorn's ``$GUNICORN_CMD_ARGS``) like a
        command line; errors say which variable they came from."""
        name, value = cmd_args_from_environment()
        parser = self.cfg.parser()
        parser.prog = f"{parser.prog} (in ${name})"
        return parser.parse_args(shlex.split(value))

    def apply_command_line(self, args: argparse.Namespace) -> None:
        """Set every option that was given; argparse left the others as ``None``."""
        for name, value in vars(args).items():
            if name != "args" and value is not None:
                self.cfg.set(name, value)

    def chdir(self) -> None:
        """Move to ``cfg.chdir`` and import the app from there, as gunicorn does
        (the folder goes on ``sys.path`` after the standard library:
        :func:`~minigun.util.add_app_directory` says why)."""
        os.chdir(self.cfg.chdir)
        util.add_app_directory(self.cfg.chdir)

    def add_pythonpath(self) -> None:
        """Put each ``--pythonpath`` directory on ``sys.path`` where ``chdir``'s
        went, after it, in the order given (the first found first)."""
        entries = (self.cfg.pythonpath or "").split(",")
        for directory in [os.path.abspath(e.strip()) for e in entries if e.strip()]:
            util.add_app_directory(directory)

    def run(self) -> int:
        """Print or check the configuration, or detach and start the arbiter."""
        if self.cfg.print_config:
            print(self.cfg)
            return 0
        self.add_pythonpath()
        if self.cfg.check_config:
            return self.check_config()
        # A new master exec'd by USR2 (MINIGUN_PID set) is already detached; forking
        # again would orphan it at once and look like its old master had exited.
        if self.cfg.daemon and "MINIGUN_PID" not in os.environ:
            util.daemonize(self.cfg.enable_stdio_inheritance)
        return super().run()

    def check_config(self) -> int:
        """Exit status 0 if the worker class and the app load, else 1 and every
        reason: a bad worker path is reported even when the app is broken too."""
        errors: list[Exception] = []
        try:
            self.cfg.worker_class  # noqa: B018 (loading the class is the check)
        except ConfigError as error:
            errors.append(error)
        try:
            self.load()
        except (ConfigError, AppImportError) as error:
            errors.append(error)
        for problem in errors:
            print(f"Error: {problem}", file=sys.stderr)
        return 1 if errors else 0


def find_default_config_file() -> str | None:
    """``./minigun.conf.py`` if it exists, else gunicorn's ``./gunicorn.conf.py``."""
    path = os.path.join(os.getcwd(), DEFAULT_CONFIG_FILE)
    if os.path.exists(path):
        return path
    path = os.path.join(os.getcwd(), GUNICORN_CONFIG_FILE)
    if os.path.exists(path):
        note(f"no {DEFAULT_CONFIG_FILE} here; reading gunicorn's {path}")
        return path
    return None


def cmd_args_from_environment() -> tuple[str, str]:
    """The variable that holds extra arguments, and its value: ``MINIGUN_CMD_ARGS``,
    else ``GUNICORN_CMD_ARGS`` (said on standard error), else nothing."""
    if CMD_ARGS_ENV in os.environ:
        return CMD_ARGS_ENV, os.environ[CMD_ARGS_ENV]
    if GUNICORN_CMD_ARGS_ENV in os.environ:
        note(f"{CMD_ARGS_ENV} is not set; reading ${GUNICORN_CMD_ARGS_ENV}")
        return GUNICORN_CMD_ARGS_ENV, os.environ[GUNICORN_CMD_ARGS_ENV]
    return CMD_ARGS_ENV, ""


def load_config_file(location: str) -> dict[str, object]:
    """Run a config file (or import ``python:module``) and return its top-level names.

    Raises:
        ConfigError: naming the file when it is missing or raises.
    """
    if location.startswith(PYTHON_MODULE_PREFIX):
        return load_config_module(location.removeprefix(PYTHON_MODULE_PREFIX))
    location = location.removeprefix(FILE_PREFIX)
    if not os.path.isfile(location):
        raise ConfigError(f"The config file {location!r} does not exist.")
    try:
        return run_config_source(location)
    except Exception as error:
        raise ConfigError(
            f"The config file {location!r} raised {type(error).__name__}: {error}"
            f"{line_in_file(error, location)}."
        ) from error


def run_config_source(path: str) -> dict[str, object]:
    """Run the file at ``path`` as Python and return the names it defines.

    Compiled and run here rather than by ``runpy.run_path``, which sets
    ``sys.argv[0]`` while the file runs and fails when an embedding program left
    ``sys.argv`` empty.
    """
    with open(path, "rb") as file:
        code = compile(file.read(), path, "exec")
    namespace: dict[str, object] = {"__file__": path, "__name__": "__config__"}
    exec(code, namespace)
    return namespace


def line_in_file(error: Exception, path: str) -> str:
    """`` (line N)`` of the innermost frame in ``path``, or nothing if none is.

    A SyntaxError's message already names the line; for other errors the innermost
    frame may be in a module the config file called, so look for the file's own.
    """
    frames = traceback.extract_tb(error.__traceback__)
    lines = [frame.lineno for frame in frames if frame.filename == path]
    return f" (line {lines[-1]})" if lines else ""


def load_config_module(module_name: str) -> dict[str, object]:
    """The names of an importable config module (``-c python:myproject.conf``)."""
    try:
        return vars(importlib.import_module(module_name))
    except Exception as error:
        raise ConfigError(
            f"The config module {module_name!r} could not be imported: "
            f"{type(error).__name__}: {error}."
        ) from error
