"""The ``minigun`` command: serve the WSGI application named on the command line.

The chapter's question: what is the shortest path from ``minigun myapp:app`` to a
running server? :func:`run` builds a :class:`WSGIApplication`, whose parents read the
settings, and calls its ``run()``. This module adds only what is particular to a WSGI
app named by ``MODULE:VARIABLE``: remembering that name (``app_uri``) and importing it
with :func:`minigun.util.import_app`; or, with ``--paste site.ini``, naming the app
in a PasteDeploy file and loading it with :mod:`minigun.app.pasterapp`.

:func:`run` is the one place that turns errors into an exit status: a
:class:`~minigun.errors.ConfigError` becomes one ``Error:`` line on stderr and exit
status 1, an :class:`~minigun.errors.AppImportError` (with ``preload_app``, the app is
loaded here in the master) one line and its own code (4 to 6); never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from minigun import util
from minigun.app.base import Application
from minigun.config import key_value_pairs
from minigun.errors import AppImportError, ConfigError

if TYPE_CHECKING:  # annotations only, as in minigun.app.base
    from minigun.http.wsgi import WSGIApp

USAGE = "%(prog)s [OPTIONS] [APP_MODULE]"
EXIT_FAILURE = 1


class WSGIApplication(Application):
    """An application given as ``MODULE:VARIABLE`` on the command line or in a file."""

    app_uri: str | None = None

    def init(
        self, parser: argparse.ArgumentParser, opts: argparse.Namespace, args: list[str]
    ) -> Mapping[str, object] | None:
        """Take the positional ``MODULE:VARIABLE``; it also names the processes.

        With ``--paste`` the ini file names the app instead, and the settings it
        implies (bind, logging) are returned to be applied first.
        """
        self.app_uri = None
        if opts.paste:
            return self.init_paste(opts.paste, opts.raw_paste_global_conf or [])
        if args:
            self.app_uri = args[0]
            self.cfg.set("default_proc_name", args[0])
        return None

    def init_paste(self, uri: str, raw_global_conf: list[str]) -> Mapping[str, object]:
        """``--paste site.ini[#name]``: check the file and PasteDeploy, now."""
        pasterapp = _pasterapp()
        path, _name = pasterapp.split_uri(uri)
        pasterapp.require_pastedeploy()
        self.app_uri = uri
        global_conf = key_value_pairs(raw_global_conf)
        return pasterapp.paste_config(path, global_conf)

    def load_config(self) -> None:
        """Read the settings; fall back to the ``wsgi_app`` setting for the app."""
        super().load_config()
        if self.app_uri is None:
            if self.cfg.wsgi_app is None:
                raise ConfigError(
                    "No application given: pass MODULE:VARIABLE or set wsgi_app."
                )
            self.app_uri = self.cfg.wsgi_app
            self.cfg.set("default_proc_name", self.app_uri)

    def load_wsgiapp(self) -> WSGIApp:
        """Import the app from ``cfg.chdir``, wherever the process has moved since."""
        assert self.app_uri is not None  # load_config made sure of it
        self.chdir()
        return util.import_app(self.app_uri)

    def load_pasteapp(self) -> WSGIApp:
        """Build the app the ini file describes (PasteDeploy's ``loadapp``)."""
        assert self.cfg.paste is not None
        self.chdir()
        pasterapp = _pasterapp()
        path, name = pasterapp.split_uri(self.cfg.paste)
        return pasterapp.load_pasteapp(path, name, self.cfg.paste_global_conf)

    def load(self) -> WSGIApp:
        if self.cfg.paste is not None:
            return self.load_pasteapp()
        return self.load_wsgiapp()


def _pasterapp() -> ModuleType:
    """:mod:`minigun.app.pasterapp`, imported on the paste path only: it brings
    ``configparser``, which a ``MODULE:VARIABLE`` server never uses, into the master
    and so into every worker."""
    from minigun.app import pasterapp  # noqa: PLC0415

    return pasterapp


def run(prog: str | None = None) -> None:
    """The entry point of ``minigun`` and ``python -m minigun``."""
    # exercise: exit-status
    try:
        status = WSGIApplication(USAGE, prog=prog).run()
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        status = EXIT_FAILURE
    except AppImportError as error:  # preload_app: the master loads the app
        print(f"Error: {error}", file=sys.stderr)
        status = error.exit_status
    sys.exit(status)
    # end-exercise: exit-status
