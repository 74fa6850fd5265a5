"""The validators: a setting's raw value in, the value minigun reads out.

The chapter's rule, from :mod:`minigun.config`: a value enters a
:class:`~minigun.config.Config` only through :meth:`~minigun.config.Config.set`,
which runs the setting's validator. This module holds those validators, and nothing
else: each is a plain function that takes the raw value (a string from the command
line or the environment, or any Python value from a config file) and returns the
value the rest of minigun reads, or raises :class:`TypeError` or :class:`ValueError`
with a short reason. The reason does not name the setting: ``Config.set`` adds the
name and the value, so every bad value is reported in the same one line.

Why a module of its own: gunicorn keeps its validators in ``gunicorn/config.py``,
beside the registry. minigun splits them out so that ``config.py`` holds only the
registry's mechanism (the ``Setting`` record, the table, the ``Config`` that applies
it) and reads in one sitting. A validator is found here by the name the table gives
it, and its type says what the setting holds: ``validate_seconds`` returns a
``float``, ``validate_bind`` a ``list[str]``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import ipaddress
import os
import sys
from collections.abc import Callable, Mapping

from minigun import util

Validator = Callable[[object], object]
"""A raw value in, the value minigun reads out; raises TypeError or ValueError."""

Hook = Callable[..., object]
"""A server hook: called with the arguments its setting names, result ignored."""

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})
PROXY_PROTOCOL_MODES = ("off", "v1", "auto")
GUNICORN_ONLY_WORKERS = frozenset(
    {"eventlet", "gevent", "gevent_wsgi", "gevent_pywsgi", "tornado"}
)
"""gunicorn's asynchronous worker classes; minigun warns and uses ``sync`` instead."""

POST_REQUEST_PARAMS = ("worker", "req", "environ", "resp")


def warn(message: str) -> None:
    """Print one warning line on stderr; used before any logger exists."""
    print(f"minigun: warning: {message}", file=sys.stderr)


def validate_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise ValueError("expected true or false")


def validate_sendfile(value: object) -> bool:
    """gunicorn's default is ``None``, meaning "use sendfile if possible"."""
    return True if value is None else validate_bool(value)


def validate_non_negative_int(value: object) -> int:
    number = _to_int(value)
    if number < 0:
        raise ValueError("must be 0 or more")
    return number


def validate_positive_int(value: object) -> int:
    number = _to_int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _to_int(value: object) -> int:
    """An int, or text in any base Python writes (``0xFF``, ``0o17``, ``0b11``),
    as gunicorn reads it; ``010`` is ten (Python's own rule would refuse it)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("expected a whole number")
    if isinstance(value, int):
        return value
    for base in (0, 10):
        try:
            return int(value, base)
        except ValueError:
            continue
    raise ValueError("expected a whole number")


def validate_seconds(value: object) -> float:
    """A duration that may have a fraction, e.g. ``0.5``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("expected a number of seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if seconds < 0:
        raise ValueError("must be 0 or more")
    return seconds


def validate_string(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value.strip()


def validate_text(value: object) -> str:
    """A string that cannot be absent (the access log's format, the statsd
    prefix): ``None`` is refused here rather than failing at the first use."""
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value.strip()


def validate_string_list(value: object) -> list[str]:
    """A list of strings; a single string becomes a one-item list."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) for item in value
    ):
        raise TypeError("expected a string or a list of strings")
    return [item.strip() for item in value]


def validate_bind(value: object) -> list[str]:
    """Bind addresses, each checked now so a typo fails at start-up, not at bind."""
    addresses = validate_string_list(value)
    if not addresses:
        raise ValueError("at least one address is needed")
    for address in addresses:
        util.parse_address(address)
    return addresses


def validate_ip_list(value: object) -> list[str]:
    """Comma-separated addresses or networks (``10.0.0.0/8``), or ``*`` for any;
    ``None`` trusts nobody. A network with host bits set is refused as a typo.
    """
    addresses = validate_comma_list(value)
    for address in addresses:
        if address != "*":
            ipaddress.ip_network(address, strict=True)
    return addresses


def validate_comma_list(value: object) -> list[str]:
    """``"A,B"`` or ``["A", "B"]`` as a list of stripped, non-empty names;
    ``None`` (gunicorn's way to say "none") is the empty list."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else validate_string_list(value)
    return [item.strip() for item in items if item.strip()]


def validate_header_dict(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(key, str) and isinstance(val, str) for key, val in value.items()
    ):
        raise TypeError("expected a dict of header name to value")
    return {key.upper(): val for key, val in value.items()}


def validate_choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    """A validator accepting one of ``choices``, compared case-insensitively."""

    def validate(value: object) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value.lower()

    return validate


def validate_proxy_protocol(value: object) -> str:
    """``off``, ``v1`` or ``auto``; gunicorn's boolean ``True`` means ``auto``."""
    if isinstance(value, bool):
        return "auto" if value else "off"
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return "auto" if validate_bool(value) else "off"
    return validate_choice(PROXY_PROTOCOL_MODES)(value)


def validate_chdir(value: object) -> str:
    path = os.path.abspath(os.path.expanduser(str(validate_string(value))))
    if not os.path.isdir(path):
        raise ValueError(f"{path} is not a directory")
    return path


def validate_user(value: object) -> int:
    """A user name or uid; ``None`` (gunicorn's example config) means the current."""
    if value is None:
        return os.geteuid()
    return util.user_to_uid(value if isinstance(value, int) else str(value))


def validate_group(value: object) -> int:
    if value is None:
        return os.getegid()
    return util.group_to_gid(value if isinstance(value, int) else str(value))


def validate_umask(value: object) -> int:
    """An int, or text in octal (``022``, ``0o22``) or hex (``0x12``)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            text = "0o" + text[1:]
        value = int(text, 0)
    return validate_non_negative_int(value)


def validate_raw_env(value: object) -> list[str]:
    """``KEY=VALUE`` pairs (``raw_env``, ``raw_paste_global_conf``)."""
    pairs = validate_string_list(value)
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"{pair!r} is not KEY=VALUE")
    return pairs


def validate_existing_file(value: object) -> str | None:
    """A path that must name a readable file now, not when a worker first opens it."""
    path = validate_string(value)
    if path is None:
        return None
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a file")
    return path


def validate_dict(value: object) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise TypeError("expected a dict")
    return dict(value)


CERT_REQS = {"none": 0, "optional": 1, "required": 2}
"""The ssl module's ``CERT_NONE``, ``CERT_OPTIONAL`` and ``CERT_REQUIRED``, by value:
naming them would import ``ssl`` (and OpenSSL) into every server, TLS or not."""


def validate_cert_reqs(value: object) -> int:
    """0, 1 or 2 as in gunicorn, or the words none, optional, required."""
    if isinstance(value, str) and value.strip().lower() in CERT_REQS:
        return CERT_REQS[value.strip().lower()]
    number = _to_int(value)
    if number not in CERT_REQS.values():
        raise ValueError("expected 0 (none), 1 (optional) or 2 (required)")
    return number


def validate_worker_class(value: object) -> str | type:
    """A short name, a dotted path or a class; gunicorn's async workers fall back."""
    if isinstance(value, type):
        return value
    name = validate_string(value) or "sync"
    if name in GUNICORN_ONLY_WORKERS:
        warn(f"worker_class {name!r} is a gunicorn worker minigun lacks; using 'sync'")
        return "sync"
    return name


def validate_class(value: object) -> str | type:
    """A class, or the dotted path (or short name) of one, loaded when it is used."""
    if isinstance(value, type):
        return value
    name = validate_string(value)
    if not name:
        raise ValueError("expected a dotted path to a class")
    return name


def validate_statsd_address(value: object) -> str | None:
    """``HOST:PORT``, ``HOST`` (port 8125) or ``unix:PATH``; checked now, read by
    :mod:`minigun.instrument.statsd`."""
    text = validate_string(value)
    if text is None:
        return None
    address = util.parse_address(text, util.STATSD_DEFAULT_PORT)
    if isinstance(address, int):
        raise ValueError("a statsd address is HOST:PORT or unix:PATH, not an fd")
    return text


def validate_syslog_address(value: object) -> str:
    """``udp://HOST:PORT``, ``tcp://HOST:PORT`` or ``unix://PATH[#dgram|#stream]``."""
    text = validate_string(value) or ""
    util.parse_syslog_address(text)
    return text


def resolve_callable(value: object) -> Hook:
    """A callable, or a dotted path ``package.module.function`` imported now."""
    if isinstance(value, str):
        module_name, _, attribute = value.rpartition(".")
        try:
            value = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError) as error:
            raise ValueError(f"cannot import {value!r}: {error}") from None
    if not callable(value):
        raise TypeError("expected a callable")
    return value


def accepts_positional(function: Hook, count: int) -> bool:
    """True if ``function`` can be called with ``count`` positional arguments."""
    try:
        inspect.signature(function).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature (some builtins): trust the caller
        return True
    return True


def validate_hook(*params: str) -> Callable[[object], Hook]:
    """A validator for a hook called as ``hook(*params)``."""

    def validate(value: object) -> Hook:
        hook = resolve_callable(value)
        if not accepts_positional(hook, len(params)):
            raise TypeError(
                f"the hook must accept {len(params)} parameters "
                f"({', '.join(params)}), but its signature is {_signature(hook)}"
            )
        return hook

    return validate


def _signature(function: Hook) -> str:
    try:
        return str(inspect.signature(function))
    except ValueError:
        return "(unknown)"


def validate_post_request(value: object) -> Hook:
    """``post_request`` may take 2, 3 or 4 parameters; wrap it to always take 4."""
    hook = resolve_callable(value)
    for count in (4, 3, 2):
        if accepts_positional(hook, count):
            return hook if count == len(POST_REQUEST_PARAMS) else _first(count, hook)
    raise TypeError(
        "the hook must accept 2 to 4 parameters (worker, req[, environ[, resp]]), "
        f"but its signature is {_signature(hook)}"
    )


def _first(count: int, hook: Hook) -> Hook:
    """Wrap ``hook`` so that it is called with only the first ``count`` arguments."""

    @functools.wraps(hook)
    def post_request(
        worker: object, req: object, environ: object, resp: object
    ) -> object:
        return hook(*(worker, req, environ, resp)[:count])

    return post_request
