"""Server hooks, in-process: validation, the timeline page, and each call site.

The real-process proof (every hook in its process, at its moment, with its arguments)
is ``tests/integration/test_hooks.py``. Here the same rules are pinned one call site at
a time, with the fork, ``kill`` and ``waitpid`` faked, so a failure names the method.
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
from pathlib import Path

import pytest
from fake_app import FakeApp

from minigun import config
from minigun.arbiter import Arbiter, WorkerRecord
from minigun.config import GUNICORN_ONLY_SETTINGS, SETTINGS, Config
from minigun.errors import ConfigError
from minigun.pidfile import Pidfile
from minigun.workers.base import Worker
from minigun.workers.sync import SyncWorker

ROOT = Path(__file__).resolve().parents[1]
TIMELINE = ROOT / "book" / "hooks-timeline.md"
HOOKS = {s.name: s for s in SETTINGS if s.section == config.SERVER_HOOKS}
PARAMS = {
    name: tuple(inspect.signature(s.default).parameters) for name, s in HOOKS.items()
}
FIXED_ARITY = sorted(set(HOOKS) - {"post_request"})
GUNICORN_HOOKS = {
    "on_starting", "on_reload", "when_ready", "pre_fork", "post_fork",
    "post_worker_init", "worker_int", "worker_abort", "pre_exec", "pre_request",
    "post_request", "child_exit", "worker_exit", "nworkers_changed", "on_exit",
    "ssl_context",
}  # fmt: skip
RUNS_IN = {"master", "worker", "new master", "not implemented"}


# --- the registry -----------------------------------------------------------------


def test_every_gunicorn_hook_is_a_setting_or_named_as_not_implemented():
    assert set(HOOKS) == GUNICORN_HOOKS | {"worker_ready"}
    assert not GUNICORN_HOOKS & GUNICORN_ONLY_SETTINGS


def test_the_minigun_extension_says_so():
    assert "minigun extension" in HOOKS["worker_ready"].desc
    for name in GUNICORN_HOOKS & set(HOOKS):
        assert "minigun extension" not in HOOKS[name].desc, name


def test_every_default_hook_does_nothing_but_pre_request_logs_at_debug():
    logged = []

    class Log:
        def debug(self, message, *args):
            logged.append(message % args)

    class Req:
        method, path = "PUT", "/a/b"

    class FakeWorker:
        log = Log()

    cfg = Config()
    cfg.pre_request(FakeWorker(), Req())
    assert logged == ["PUT /a/b"]
    for name in set(HOOKS) - {"pre_request", "ssl_context"}:
        assert getattr(cfg, name)(*[object()] * len(PARAMS[name])) is None
    assert cfg.ssl_context(cfg, lambda: "the default context") == "the default context"


# --- validation: how many parameters a hook takes ------------------------------------


def _function_with(name: str, params: tuple[str, ...]):
    """A function ``user_hooks.<name>`` taking exactly ``params``, returning them."""
    namespace: dict = {"__name__": "user_hooks"}
    listed = ", ".join(params)
    exec(f"def {name}({listed}):\n    return tuple([{listed}])\n", namespace)
    return namespace[name]


@pytest.mark.parametrize("name", FIXED_ARITY)
def test_a_hook_with_its_own_parameters_is_accepted(name):
    cfg = Config()
    cfg.set(name, _function_with(name, PARAMS[name]))
    arguments = tuple(range(len(PARAMS[name])))
    assert getattr(cfg, name)(*arguments) == arguments


@pytest.mark.parametrize("name", FIXED_ARITY)
@pytest.mark.parametrize("change", [-1, +1])
def test_a_hook_with_one_parameter_too_few_or_too_many_is_refused(name, change):
    params = PARAMS[name]
    wrong = params[:-1] if change < 0 else (*params, "extra")
    with pytest.raises(ConfigError) as refused:
        Config().set(name, _function_with(name, wrong))
    assert str(refused.value) == (
        f"Invalid value for {name}: user_hooks.{name}: the hook must accept "
        f"{len(params)} parameters ({', '.join(params)}), but its signature is "
        f"({', '.join(wrong)})"
    )


def test_optional_and_variadic_parameters_count_as_accepting():
    cfg = Config()
    cfg.set("pre_fork", lambda server, worker, extra=None: extra)
    cfg.set("child_exit", lambda *args: args)
    assert cfg.child_exit("s", "w") == ("s", "w")


def test_a_required_keyword_only_parameter_is_refused():
    with pytest.raises(ConfigError, match=r"must accept 1 parameters \(server\)"):
        Config().set("on_exit", lambda server, *, when: None)


@pytest.mark.parametrize("count", [2, 3, 4])
def test_post_request_takes_two_three_or_four_parameters(count):
    cfg = Config()
    params = ("worker", "req", "environ", "resp")[:count]
    cfg.set("post_request", _function_with("post_request", params))
    assert cfg.post_request("w", "r", "e", "s") == ("w", "r", "e", "s")[:count]


@pytest.mark.parametrize("params", [("worker",), ("a", "b", "c", "d", "e")])
def test_post_request_with_one_or_five_parameters_is_refused(params):
    with pytest.raises(ConfigError) as refused:
        Config().set("post_request", _function_with("post_request", params))
    assert str(refused.value) == (
        "Invalid value for post_request: user_hooks.post_request: the hook must accept "
        "2 to 4 parameters (worker, req[, environ[, resp]]), but its signature is "
        f"({', '.join(params)})"
    )


@pytest.mark.parametrize("value", [42, None, "not_a_path"])
def test_a_value_that_is_not_a_callable_is_refused(value):
    with pytest.raises(ConfigError) as refused:
        Config().set("when_ready", value)
    assert str(refused.value).startswith(f"Invalid value for when_ready: {value!r}: ")


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_may_be_a_dotted_path(name, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    params = ", ".join(PARAMS[name])
    module = f"dotted_{name}"  # one module per hook: imports are cached
    (tmp_path / f"{module}.py").write_text(f"def {name}({params}):\n    return 1\n")
    cfg = Config()
    cfg.set(name, f"{module}.{name}")
    assert getattr(cfg, name)(*range(len(PARAMS[name]))) == 1


def test_a_dotted_path_with_the_wrong_parameters_is_refused(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "short_hooks.py").write_text("def pre_fork(server):\n    pass\n")
    with pytest.raises(ConfigError, match=r"pre_fork: 'short_hooks\.pre_fork': the "):
        Config().set("pre_fork", "short_hooks.pre_fork")


# --- the timeline page the book includes -------------------------------------------


def timeline_rows() -> dict[str, list[str]]:
    """The table of book/hooks-timeline.md: hook name to its other cells."""
    rows = {}
    for line in TIMELINE.read_text().splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_timeline_has_a_row_for_every_hook():
    assert set(timeline_rows()) == set(HOOKS)


def test_the_timeline_shows_each_hook_with_its_parameters():
    for name, (_runs_in, _when, arguments, _raises) in timeline_rows().items():
        if name == "post_request":
            assert arguments == "`worker, req[, environ[, resp]]`"
        elif name in HOOKS:
            assert arguments == f"`{', '.join(PARAMS[name])}`", name


def test_the_timeline_says_where_each_hook_runs_and_what_raising_does():
    rows = timeline_rows()
    assert {row[0] for row in rows.values()} <= RUNS_IN
    assert rows["ssl_context"][0] == "worker"
    assert "minigun extension" in rows["worker_ready"][1]
    for name in ("on_starting", "when_ready"):
        assert rows[name][3].startswith("the server does not start")
    for name in ("post_fork", "post_worker_init"):
        assert "exit 3" in rows[name][3]


# --- call sites in the arbiter, with the fork faked ----------------------------------


class RecordingMaster(Arbiter):
    """An arbiter that records hook calls and fakes fork, kill and waitpid."""

    def __init__(self, calls: list, **settings):
        cfg = Config()
        for name, value in settings.items():
            cfg.set(name, value)
        self.calls = calls
        self.exits: list[tuple[int, int]] = []
        self.next_pid = 100
        super().__init__(FakeApp(cfg))

    def spawn_worker(self):
        self.next_pid += 1
        self.worker_age += 1
        worker = Worker(self.worker_age, self.pid, [], self.app, 30, self.cfg, self.log)
        worker.pid = self.next_pid
        self.workers[worker.pid] = WorkerRecord(worker.pid, worker, self.generation, 0)
        return worker.pid

    def kill_worker(self, pid, sig):
        self.calls.append(("kill", pid, sig))

    def wait_child(self):
        return self.exits.pop(0) if self.exits else None


def recorder(calls: list, name: str):
    """A hook with ``name``'s parameters that records ``(name, *args)``."""

    def hook(*args):
        calls.append((name, *args))

    hook.__signature__ = inspect.Signature(  # what the arity check reads
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_ONLY) for p in PARAMS[name]]
    )
    return hook


def test_nworkers_changed_at_creation_and_on_every_ttin_ttou_and_hup():
    calls: list = []
    master = RecordingMaster(
        calls, workers=2, nworkers_changed=recorder(calls, "nworkers_changed")
    )
    master.handle_ttin()
    master.handle_ttou()
    master.reload()  # HUP: the number stays 2, the hook runs all the same
    changed = [call for call in calls if call[0] == "nworkers_changed"]
    changes = [(new, old) for _name, _server, new, old in changed]
    assert changes == [(2, None), (3, 2), (2, 3), (2, 2)]
    assert all(call[1] is master for call in calls if call[0] == "nworkers_changed")


def test_taking_the_settings_again_calls_no_hook():
    calls: list = []
    master = RecordingMaster(
        calls, nworkers_changed=recorder(calls, "nworkers_changed")
    )
    calls.clear()
    master.setup(master.app)
    assert calls == [], "only a change of the number calls nworkers_changed"


def test_a_rolled_back_reload_tells_nworkers_changed_the_old_number_again():
    calls: list = []
    master = RecordingMaster(
        calls, workers=1, nworkers_changed=recorder(calls, "nworkers_changed")
    )
    master.manage_workers()
    reloaded = Config()
    reloaded.set("workers", 3)
    reloaded.set("nworkers_changed", master.cfg.nworkers_changed)
    master.app.next_cfg = reloaded
    master.reload()
    master.exits.append((max(master.workers), 3 << 8))  # a new worker cannot boot
    master.reap_workers()
    changed = [call[2:] for call in calls if call[0] == "nworkers_changed"]
    assert changed == [(1, None), (3, 1), (1, 3)]


def test_ttou_at_one_worker_changes_nothing_and_calls_nothing():
    calls: list = []
    master = RecordingMaster(
        calls, nworkers_changed=recorder(calls, "nworkers_changed")
    )
    calls.clear()
    master.handle_ttou()
    assert calls == []


def test_on_reload_runs_after_the_new_config_and_before_the_new_workers():
    calls: list = []

    def on_reload(server):
        calls.append(("on_reload", server.generation, len(server.workers)))

    master = RecordingMaster(calls, on_reload=on_reload)
    master.manage_workers()
    master.reload()
    assert calls == [("on_reload", 1, 1)], "new generation, old worker only"
    assert len(master.workers) == 2, "the new generation is forked after on_reload"


def test_child_exit_gets_the_reaped_worker_already_out_of_the_table():
    calls: list = []
    seen_in_table = []

    def child_exit(server, worker):
        seen_in_table.append(worker.pid in server.workers)
        calls.append(("child_exit", worker.pid, isinstance(worker, Worker)))

    master = RecordingMaster(calls, child_exit=child_exit)
    master.manage_workers()
    pid = next(iter(master.workers))
    master.exits.append((pid, signal.SIGKILL))
    master.reap_workers()
    assert calls[-1] == ("child_exit", pid, True), "the worker, not the record"
    assert seen_in_table == [False]


def test_worker_ready_runs_once_per_worker_when_its_heartbeat_appears():
    calls: list = []
    master = RecordingMaster(calls, worker_ready=recorder(calls, "worker_ready"))
    master.manage_workers()
    record = next(iter(master.workers.values()))
    master.notice_booted_workers()
    assert calls == []  # no heartbeat yet: not booted
    record.tmp.notify()
    master.notice_booted_workers()
    master.notice_booted_workers()
    assert calls == [("worker_ready", master, record.worker)], "not the record"
    assert record.booted, "the master's record says so"


def test_on_exit_is_the_masters_last_act_and_cannot_change_the_status(tmp_path):
    calls: list = []

    def on_exit(server):
        calls.append(("on_exit", bool(server.workers), Path(pidfile).exists()))
        raise RuntimeError("on_exit failed")

    pidfile = str(tmp_path / "m.pid")
    master = RecordingMaster(calls, on_exit=on_exit, pidfile=pidfile)
    master.manage_workers()
    master.exits.append((next(iter(master.workers)), 0))
    master.pidfile = Pidfile(pidfile)
    master.pidfile.create(os.getpid())
    with pytest.raises(SystemExit) as leaving:
        master.halt(exit_status=7)
    assert leaving.value.code == 7
    assert calls[-1] == ("on_exit", False, False), "workers reaped, pidfile gone"


# --- call sites in the worker -------------------------------------------------------


class Log:
    """The worker's logger, recording ``(level, message)``."""

    def __init__(self):
        self.lines: list[tuple[str, str]] = []

    def record(self, level, msg, *args):
        self.lines.append((level, msg % args if args else msg))

    def debug(self, msg, *args):
        self.record("debug", msg, *args)

    def info(self, msg, *args):
        self.record("info", msg, *args)

    def error(self, msg, *args):
        self.record("error", msg, *args)

    def exception(self, msg, *args):
        self.record("exception", msg, *args)

    def close_on_exec(self):
        pass

    def access(self, resp, req, environ, request_time):
        self.lines.append(("access", str(resp.status_code)))


class Listener:
    def getsockname(self):
        return ("127.0.0.1", 8000)


def serve_one(worker: SyncWorker, app, path: str = "/x") -> bytes:
    """Run ``handle`` for one real request over a socketpair; return the answer."""
    worker.wsgi = app
    client, server = socket.socketpair()
    with client, server:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        worker.handle(Listener(), server, ("10.0.0.1", 5))
        server.shutdown(socket.SHUT_WR)
        client.settimeout(5)
        return b"".join(iter(lambda: client.recv(65536), b""))


def make_sync_worker(**hooks) -> SyncWorker:
    cfg = Config()
    for name, value in hooks.items():
        cfg.set(name, value)
    return SyncWorker(1, os.getpid(), [], None, 30, cfg, Log())


def test_pre_request_runs_before_the_app_and_post_request_after_it():
    calls: list = []

    def app(environ, start_response):
        calls.append(("app",))
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    worker = make_sync_worker(
        pre_request=recorder(calls, "pre_request"),
        post_request=recorder(calls, "post_request"),
    )
    assert serve_one(worker, app).startswith(b"HTTP/1.1 200 OK")
    assert [call[0] for call in calls] == ["pre_request", "app", "post_request"]
    _, hook_worker, req, environ, resp = calls[2]
    assert hook_worker is worker and req is calls[0][2]
    assert (req.method, req.path, environ["PATH_INFO"], resp.status_code) == (
        "GET", "/x", "/x", 200,
    )  # fmt: skip


def test_post_request_runs_even_when_the_app_raises():
    calls: list = []

    def app(environ, start_response):
        raise ValueError("bug")

    worker = make_sync_worker(post_request=recorder(calls, "post_request"))
    assert serve_one(worker, app).startswith(b"HTTP/1.1 500")
    assert len(calls) == 1
    assert calls[0][4].status_code is None  # no response was started


def test_a_failing_pre_request_answers_500_without_calling_the_app():
    called = []

    def pre_request(worker, req):
        raise RuntimeError("refused")

    worker = make_sync_worker(pre_request=pre_request)
    answer = serve_one(worker, lambda environ, start_response: called.append(1))
    assert answer.startswith(b"HTTP/1.1 500")
    assert called == []
    assert ("error", "Exception in pre_request hook: RuntimeError('refused')") in (
        worker.log.lines
    )


def test_a_failing_post_request_is_logged_and_the_response_stands():
    def post_request(worker, req):
        raise RuntimeError("late")

    worker = make_sync_worker(post_request=post_request)
    assert serve_one(worker, ok_app).startswith(b"HTTP/1.1 200")
    assert ("exception", "Exception in post_request hook") in worker.log.lines


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "0")])
    return []


def test_a_failing_post_worker_init_is_named_and_fails_the_boot():
    def post_worker_init(worker):
        raise RuntimeError("no database")

    worker = make_sync_worker(post_worker_init=post_worker_init)
    worker.app = FakeApp(worker.cfg)
    worker.init_signals = lambda: None  # keep this test process's own handlers
    worker.set_owner_and_umask = lambda: None  # and its umask
    with pytest.raises(RuntimeError, match="no database"):
        worker.init_process()
    assert not worker.booted
    assert (
        "error",
        "Exception in post_worker_init hook: RuntimeError('no database')",
    ) in worker.log.lines


@pytest.mark.parametrize(
    ("handler", "hook", "code"),
    [("handle_quit", "worker_int", 0), ("handle_abort", "worker_abort", 1)],
)
def test_worker_int_and_worker_abort_run_in_the_signal_handler_then_exit(
    handler, hook, code
):
    seen = []

    def record(worker):
        seen.append((worker.alive, worker.aborted))
        raise RuntimeError("even a failing hook does not keep the worker")

    worker = make_sync_worker(**{hook: record})
    with pytest.raises(SystemExit) as leaving:
        getattr(worker, handler)(signal.SIGQUIT, None)
    assert leaving.value.code == code
    assert seen == [(False, hook == "worker_abort")]
    assert ("exception", f"Exception in {hook} hook") in worker.log.lines
