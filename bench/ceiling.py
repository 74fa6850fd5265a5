"""The smallest pre-fork server Python can be: the ceiling of the benchmark.

Usage (``bench/run.py`` starts it beside minigun and gunicorn)::

    python bench/ceiling.py --bind 127.0.0.1:8000 [--workers 2] [--keep-alive]

The master binds one socket and forks ``--workers`` children that accept on it. A
child reads a request head (up to the blank line), writes one fixed response and,
like a sync worker, closes the connection; with ``--keep-alive`` it serves each
connection in a thread of its own until the client closes it, as a threaded worker
keeps its clients. No parsing, no WSGI, no logging, no timeouts: whatever minigun
or gunicorn spends beyond this is the price of being a real server.
"""

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading

BODY = b"Hello, world!\n"
CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\n" + BODY
KEEP = b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" + BODY
END_OF_HEAD = b"\r\n\r\n"


def read_head(client: socket.socket) -> bool:
    """Read until the blank line that ends a request head; False if the client left."""
    data = b""
    while END_OF_HEAD not in data:
        chunk = client.recv(8192)
        if not chunk:
            return False
        data += chunk
    return True


def serve_one(client: socket.socket) -> None:
    with client:
        if read_head(client):
            client.sendall(CLOSE)


def serve_kept_alive(client: socket.socket) -> None:
    with client, contextlib.suppress(OSError):
        while read_head(client):  # a pipelined second head would wait: wrk sends none
            client.sendall(KEEP)


def child(listener: socket.socket, keep_alive: bool) -> None:
    """Accept forever; a client that leaves early costs only its own connection."""
    while True:
        client, _ = listener.accept()
        if keep_alive:
            threading.Thread(target=serve_kept_alive, args=(client,)).start()
        else:
            with contextlib.suppress(OSError):
                serve_one(client)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True, help="HOST:PORT")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep-alive", action="store_true")
    options = parser.parse_args(argv)
    host, port = options.bind.rsplit(":", 1)
    listener = socket.create_server((host, int(port)), backlog=2048)
    children = []
    for _ in range(options.workers):
        pid = os.fork()
        if pid == 0:
            try:
                child(listener, options.keep_alive)
            finally:
                os._exit(1)  # never return into the master's loop
        children.append(pid)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})  # stop: end the children too
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(sys.argv[1:])
