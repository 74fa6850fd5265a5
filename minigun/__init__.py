"""minigun: a small, readable pre-fork WSGI server that re-creates gunicorn's design."""

__version__ = "0.1.0"
SERVER_SOFTWARE = f"minigun/{__version__}"
