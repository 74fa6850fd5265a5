"""Instrumentation: loggers that also report metrics (gunicorn's ``instrument``)."""
