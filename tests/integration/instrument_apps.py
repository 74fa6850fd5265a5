"""Applications and a logger for test_instrument.py: statsd, syslog, logger_class."""

from __future__ import annotations

from minigun.glogging import Extra, Logger


def status(environ, start_response):
    """Answers with the status the path names: ``/404`` gives ``404 Not Found``."""
    code = environ["PATH_INFO"].strip("/") or "200"
    body = f"status {code}\n".encode()
    start_response(f"{code} Whatever", [("Content-Length", str(len(body)))])
    return [body]


def crash(environ, start_response):
    """Raises: the worker answers 500 and logs the exception."""
    raise RuntimeError("the application failed on purpose")


class TaggedLogger(Logger):
    """A logger_class of a user's own: every error-log line gets a tag in front."""

    TAG = "[tagged-by-logger-class]"

    def info(self, msg: str, *args: object, extra: Extra = None) -> None:
        super().info(f"{self.TAG} {msg}", *args, extra=extra)
