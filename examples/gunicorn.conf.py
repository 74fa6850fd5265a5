"""A gunicorn config file, written for gunicorn; minigun reads it unchanged.

    minigun -c examples/gunicorn.conf.py

Every name below is a gunicorn setting. The ones minigun does not implement are left
at ``None``/``False`` here, which asks for nothing, so minigun loads this file without
a warning; set one (say ``certfile = "server.crt"``) and minigun warns once and
ignores it.
"""

import multiprocessing
import os

# Server socket
bind = os.environ.get("BIND", "127.0.0.1:8000")
backlog = 2048

# Worker processes
workers = min(2, multiprocessing.cpu_count())
worker_class = "sync"
worker_connections = 1000
timeout = 30
keepalive = 2
max_requests = 0

# Debugging and server mechanics
spew = False
daemon = False
raw_env = ["GREETING=hello"]
pidfile = None
umask = 0
user = None
group = None
tmp_upload_dir = None

# Logging
errorlog = "-"
loglevel = "info"
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'

# Process naming
proc_name = None

# The application, so the command line needs no APP_MODULE
wsgi_app = "examples.hello:app"


def on_starting(server):
    server.log.info("Starting the master")


def when_ready(server):
    server.log.info("Server is ready. Spawning workers")


def pre_fork(server, worker):
    pass


def post_fork(server, worker):
    server.log.info("Worker spawned (pid: %s)", worker.pid)


def pre_exec(server):
    server.log.info("Forked child, re-executing.")


def worker_int(worker):
    worker.log.info("worker received INT or QUIT signal")


def worker_abort(worker):
    worker.log.info("worker received SIGABRT signal")


def post_request(worker, req, environ, resp):
    worker.log.debug("%s %s -> %s", req.method, req.path, resp.status_code)


def child_exit(server, worker):
    server.log.info("Worker exited (pid: %s)", worker.pid)


def on_exit(server):
    server.log.info("Master exiting")
