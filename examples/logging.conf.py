"""A logging configuration in a config file: minigun -c examples/logging.conf.py APP.

``logconfig_dict`` is handed to ``logging.config.dictConfig`` in the master (the
workers inherit it). minigun's loggers are ``minigun.error`` (what the server says)
and ``minigun.access`` (one line per request). ``tests/integration/test_logconfig.py``
serves with this file; ``book/deploy.md`` shows it.
"""

logconfig_dict = {
    "formatters": {
        "server": {"format": "server %(levelname)s pid=%(process)d %(message)s"},
        "access": {"format": "access %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "stream": "ext://sys.stderr",
        },
        "requests": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "minigun.error": {"handlers": ["console"], "level": "INFO"},
        "minigun.access": {"handlers": ["requests"], "level": "INFO"},
    },
}
