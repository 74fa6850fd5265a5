"""``python -m minigun``: the same as the ``minigun`` command."""

from minigun.app.wsgiapp import run

if __name__ == "__main__":
    run(prog="minigun")
