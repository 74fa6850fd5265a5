"""The smallest pre-fork server, the design every chapter of the book elaborates.

Run it with a port (0 lets the kernel choose): python examples/tiny_prefork.py 8000
"""

import os
import socket
import sys
import time

CHILDREN = 3
ANSWER = "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{}"


def log(message: str) -> None:
    """One write per line: the children share the terminal, and print's separate
    write of the newline would let their lines run into each other."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
    sys.stdout.write(f"[{stamp}] [{os.getpid()}] [INFO] {message}\n")
    sys.stdout.flush()


def serve(listener: socket.socket) -> None:
    log("Child accepting")
    while True:
        client, _ = listener.accept()
        client.recv(65536)  # the request, read and ignored
        body = f"Hello from child {os.getpid()}\n"
        client.sendall(ANSWER.format(len(body), body).encode())
        client.close()


def main() -> None:
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
    log(f"Listening at: http://127.0.0.1:{listener.getsockname()[1]}")
    for _ in range(CHILDREN):
        if os.fork() == 0:
            serve(listener)
    while True:
        pid, status = os.wait()
        log(f"Child {pid} exited with status {os.waitstatus_to_exitcode(status)}")


if __name__ == "__main__":
    main()
