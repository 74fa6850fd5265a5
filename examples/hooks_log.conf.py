"""Every server hook logs one line in the server's log: ``hook NAME`` and a detail.

    minigun -c examples/hooks_log.conf.py examples.hello:app

The line goes through the logger of the process the hook runs in, so its pid (the
second field of a log line) says where it ran: the master's pid, or a worker's. The
hooks chapter's recorded run serves one request, adds a worker (``TTIN``) and stops
(``TERM``) with this file; ``examples/hooks.conf.py`` records the same hooks as JSON
lines, with every argument, for the tests.
"""


def nworkers_changed(server, new_value, old_value):
    server.log.info("hook nworkers_changed: %s -> %s", old_value, new_value)


def on_starting(server):
    server.log.info("hook on_starting")


def when_ready(server):
    server.log.info("hook when_ready")


def pre_fork(server, worker):
    server.log.info("hook pre_fork: worker of age %s", worker.age)


def post_fork(server, worker):
    worker.log.info("hook post_fork: worker %s", worker.pid)


def post_worker_init(worker):
    worker.log.info("hook post_worker_init: application loaded")


def worker_ready(server, worker):
    server.log.info("hook worker_ready: worker %s", worker.pid)


def pre_request(worker, req):
    worker.log.info("hook pre_request: %s %s", req.method, req.path)


def post_request(worker, req, environ, resp):
    worker.log.info("hook post_request: %s", resp.status)


def on_reload(server):
    server.log.info("hook on_reload")


def worker_int(worker):
    worker.log.info("hook worker_int")


def worker_exit(server, worker):
    worker.log.info("hook worker_exit: worker %s", worker.pid)


def child_exit(server, worker):
    server.log.info("hook child_exit: worker %s", worker.pid)


def pre_exec(server):
    server.log.info("hook pre_exec")


def on_exit(server):
    server.log.info("hook on_exit")
