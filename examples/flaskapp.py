"""A Flask application served by minigun: ``minigun examples.flaskapp:app``.

Flask's ``app`` object is a WSGI callable, so nothing minigun-specific is needed.
"""

from flask import Flask, request

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "Hello from Flask on minigun\n"


@app.post("/echo")
def echo() -> bytes:
    """Send the request body back: handy to test request bodies by hand."""
    return request.get_data()
