"""Every server hook, each writing one JSON line: which hook, where, with what.

    MINIGUN_HOOKS_LOG=hooks.jsonl minigun -c examples/hooks.conf.py examples.hello:app

Run it, send the master a few signals (TTIN, TTOU, HUP, USR2, TERM) and read
``hooks.jsonl``: it is the server's life as the hooks see it. Without
``MINIGUN_HOOKS_LOG`` the lines go to standard error. One line looks like::

    {"hook": "post_fork", "pid": 4242, "ppid": 4240,
     "args": {"server": {"type": "Arbiter", "pid": 4240, "num_workers": 2, ...},
              "worker": {"type": "SyncWorker", "pid": 4242, "age": 1, ...}}}

``pid`` and ``ppid`` are the process the hook ran in and its parent, so a line says
by itself whether it ran in the master or in a worker. The tests in
``tests/integration/test_hooks.py`` drive a whole life through this file and check
every line. The same hooks load as ``-c python:MODULE`` (copy this file to an
importable name), as dotted-path strings, or from a BaseApplication's options.

``ssl_context`` is recorded too, but only a server with ``--certfile`` calls it
(``tests/integration/test_tls.py`` drives that one).
"""

import json
import os
import sys

LOG_ENV = "MINIGUN_HOOKS_LOG"


def record(hook, **args):
    """Append one JSON line for ``hook``: this process, its parent, the arguments.

    One ``os.write`` on a file opened with ``O_APPEND``, so lines written at the
    same moment by the master and its workers never interleave.
    """
    entry = {"hook": hook, "pid": os.getpid(), "ppid": os.getppid(), "args": args}
    line = json.dumps(entry, sort_keys=True) + "\n"
    path = os.environ.get(LOG_ENV)
    if not path:
        sys.stderr.write(line)
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# What each kind of argument looks like in a line: its type and the fields that say
# which one it is.


def server_fields(server):
    return {
        "type": type(server).__name__,
        "pid": server.pid,
        "num_workers": server.num_workers,
        "listeners": [str(listener) for listener in server.listeners],
    }


def worker_fields(worker):
    return {
        "type": type(worker).__name__,
        "pid": worker.pid,
        "age": worker.age,
        "alive": worker.alive,
        "booted": worker.booted,
        "aborted": worker.aborted,
    }


def request_fields(req):
    return {"type": type(req).__name__, "method": req.method, "path": req.path}


def environ_fields(environ):
    return {"type": type(environ).__name__, "PATH_INFO": environ.get("PATH_INFO")}


def response_fields(resp):
    if resp is None:  # the request failed before a response existed
        return {"type": "NoneType"}
    return {"type": type(resp).__name__, "status_code": resp.status_code}


# The hooks, in the order of a server's life.


def nworkers_changed(server, new_value, old_value):
    record(
        "nworkers_changed",
        server=server_fields(server),
        new_value=new_value,
        old_value=old_value,
    )


def on_starting(server):
    record("on_starting", server=server_fields(server))


def when_ready(server):
    record("when_ready", server=server_fields(server))


def pre_fork(server, worker):
    record("pre_fork", server=server_fields(server), worker=worker_fields(worker))


def post_fork(server, worker):
    record("post_fork", server=server_fields(server), worker=worker_fields(worker))


def post_worker_init(worker):
    record("post_worker_init", worker=worker_fields(worker))


def worker_ready(server, worker):  # a minigun extension: gunicorn has no such hook
    # In the master, worker is the object the child was forked from, as it was then;
    # what the master has learnt since is in its record of the child.
    booted = server.workers[worker.pid].booted
    record(
        "worker_ready",
        server=server_fields(server),
        worker=worker_fields(worker),
        booted=booted,
    )


def pre_request(worker, req):
    record("pre_request", worker=worker_fields(worker), req=request_fields(req))


def post_request(worker, req, environ, resp):
    record(
        "post_request",
        worker=worker_fields(worker),
        req=request_fields(req),
        environ=environ_fields(environ),
        resp=response_fields(resp),
    )


def on_reload(server):
    record("on_reload", server=server_fields(server))


def worker_int(worker):
    record("worker_int", worker=worker_fields(worker))


def worker_abort(worker):
    record("worker_abort", worker=worker_fields(worker))


def worker_exit(server, worker):
    record("worker_exit", server=server_fields(server), worker=worker_fields(worker))


def child_exit(server, worker):
    record("child_exit", server=server_fields(server), worker=worker_fields(worker))


def pre_exec(server):
    record("pre_exec", server=server_fields(server))


def on_exit(server):
    record("on_exit", server=server_fields(server))


def ssl_context(config, default_ssl_context_factory):
    record("ssl_context", certfile=config.certfile)
    return default_ssl_context_factory()
