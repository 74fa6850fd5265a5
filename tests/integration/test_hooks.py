"""Every server hook, fired by a real minigun and recorded by examples/hooks.conf.py.

Each hook of ``examples/hooks.conf.py`` appends one JSON line (hook, pid, parent pid,
arguments) to the file named by ``$MINIGUN_HOOKS_LOG``. The tests drive a server
through its life with real signals and requests, wait for the lines a step must
produce (bounded polling, no fixed sleeps), then check, process by process, which
hooks ran, in which order, and with which arguments. A hook fired in the wrong
process, at the wrong moment or with the wrong arguments fails a test here.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, Server

from minigun import config as minigun_config

HOOKS_CONF = ROOT / "examples" / "hooks.conf.py"
APP = "examples.app_hooks:app"
TIMEOUT = 3  # seconds of silence before the master aborts a worker
LIFE = (
    "--timeout", str(TIMEOUT), "--graceful-timeout", "3", "--abort-grace", "0.5",
)  # fmt: skip
HOOK_PARAMS = {
    setting.name: tuple(inspect.signature(setting.default).parameters)
    for setting in minigun_config.SETTINGS
    if setting.section == minigun_config.SERVER_HOOKS
}
HOOK_NAMES = sorted(HOOK_PARAMS)
WAIT = 15.0  # the longest any one step may take, even on a busy machine
BOOT = ["post_fork", "post_worker_init"]
SERVED = {
    "nworkers_changed", "on_starting", "when_ready", "pre_fork", "post_fork",
    "post_worker_init", "worker_ready", "pre_request", "post_request",
    "worker_exit", "child_exit", "on_exit",
}  # fmt: skip


class HookLog:
    """The JSON lines the hooks wrote, read in steps.

    ``take()`` returns the lines written since the previous ``take()``: one step of
    the server's life. Every step first waits for the last line it must produce.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.taken = 0

    def env(self) -> dict[str, str]:
        return {"MINIGUN_HOOKS_LOG": str(self.path)}

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        text = self.path.read_text()
        complete = text[: text.rfind("\n") + 1]  # a line being written is not yet one
        return [json.loads(line) for line in complete.splitlines()]

    def wait_for(self, hook: str, count: int = 1, **where) -> list[dict]:
        """Wait until ``count`` new lines of ``hook`` match ``where``; return them.

        ``where`` keys are paths into a line joined by ``__``:
        ``worker__age=3`` means ``line["args"]["worker"]["age"] == 3``; ``pid`` and
        ``ppid`` are the line's own.
        """
        deadline = time.monotonic() + WAIT
        while True:
            found = [e for e in self.entries()[self.taken :] if matches(e, hook, where)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"never saw {count} x {hook} {where}; lines since the last step:\n"
                    + "\n".join(map(str, self.entries()[self.taken :]))
                )
            time.sleep(0.05)

    def take(self) -> list[dict]:
        entries = self.entries()
        step, self.taken = entries[self.taken :], len(entries)
        return step


def matches(entry: dict, hook: str, where: dict) -> bool:
    if entry["hook"] != hook:
        return False
    for path, expected in where.items():
        value = entry if path in ("pid", "ppid") else entry["args"]
        for key in path.split("__") if path not in ("pid", "ppid") else [path]:
            value = value.get(key) if isinstance(value, dict) else None
        if value != expected:
            return False
    return True


def names(step: list[dict], pid: int) -> list[str]:
    """The hooks process ``pid`` ran in this step, in order."""
    return [entry["hook"] for entry in step if entry["pid"] == pid]


def by_pid(step: list[dict], pid: int) -> list[dict]:
    return [entry for entry in step if entry["pid"] == pid]


def one(step: list[dict], hook: str, pid: int) -> dict:
    found = [entry for entry in step if entry["hook"] == hook and entry["pid"] == pid]
    assert len(found) == 1, (hook, pid, step)
    return found[0]["args"]


def assert_booted(step: list[dict], master: int, age: int) -> int:
    """The worker of ``age`` forked from ``master`` ran post_fork then
    post_worker_init, in itself, with its own pid; return that pid."""
    forks = [
        e for e in step if matches(e, "post_fork", {"ppid": master, "worker__age": age})
    ]
    assert len(forks) == 1, (master, age, step)
    pid = forks[0]["pid"]
    assert names(step, pid)[:2] == BOOT
    for entry in by_pid(step, pid):
        assert entry["ppid"] == master
        assert entry["args"]["worker"]["pid"] == pid
        assert entry["args"]["worker"]["age"] == age
    server = forks[0]["args"]["server"]
    assert (server["type"], server["pid"]) == ("Arbiter", master)
    return pid


def assert_master_spawned(args: dict, master: int, age: int) -> None:
    """pre_fork ran in the master, before the fork: the worker has no pid yet."""
    assert args["server"]["pid"] == master
    assert args["worker"]["age"] == age
    assert args["worker"]["pid"] is None
    assert args["worker"]["booted"] is False


def worker_args(entries: list[dict], hook: str) -> list[tuple[int, int]]:
    """``(pid, age)`` of the worker argument of every ``hook`` line, sorted."""
    return sorted(
        (e["args"]["worker"]["pid"], e["args"]["worker"]["age"])
        for e in entries
        if e["hook"] == hook
    )


def assert_own_server_and_worker(entry: dict, masters: set[int]) -> None:
    """A master hook gets its own arbiter; a worker hook gets its master's arbiter
    and the worker it runs in. pre_exec, alone, gets the arbiter the fork copied."""
    args, in_master = entry["args"], entry["pid"] in masters
    if "server" in args and entry["hook"] != "pre_exec":
        own_master = entry["pid"] if in_master else entry["ppid"]
        assert args["server"]["pid"] == own_master, entry
    if "worker" in args and not in_master:
        assert args["worker"]["pid"] == entry["pid"], entry


class Hang(threading.Thread):
    """A request to ``/hang`` in the background: the worker serving it times out."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.error: BaseException | None = None
        self.status: int | None = None
        self.start()

    def run(self) -> None:
        try:
            self.status, _ = self.server.request("/hang", timeout=WAIT)
        except OSError as error:  # the worker died mid-request: no response
            self.error = error


def test_a_whole_life_through_the_hooks(serve, processes, tmp_path):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    server = serve(APP, "-c", str(HOOKS_CONF), *LIFE, workers=2, env=hooks.env())
    master = server.master_pid

    # Start-up: nworkers_changed from None, on_starting, when_ready once the
    # listeners are bound (the log said "Listening" before), then the forks.
    hooks.wait_for("worker_ready", count=2)
    step = hooks.take()
    assert names(step, master) == [
        "nworkers_changed", "on_starting", "when_ready", "pre_fork", "pre_fork",
        "worker_ready", "worker_ready",
    ]  # fmt: skip
    changed = one(step, "nworkers_changed", master)
    assert (changed["new_value"], changed["old_value"]) == (2, None)
    assert all(e["ppid"] == os.getpid() for e in by_pid(step, master))
    address = f"http://127.0.0.1:{server.port}"
    assert one(step, "on_starting", master)["server"]["listeners"] == []
    assert one(step, "when_ready", master)["server"]["listeners"] == [address]
    pre_forks = [e["args"] for e in step if e["hook"] == "pre_fork"]
    for age, args in enumerate(pre_forks, start=1):
        assert_master_spawned(args, master, age)
    workers = {age: assert_booted(step, master, age) for age in (1, 2)}
    assert sorted(names(step, workers[1]) + names(step, workers[2])) == sorted(BOOT * 2)
    assert worker_args(step, "worker_ready") == sorted(
        (pid, age) for age, pid in workers.items()
    )
    assert all(e["args"]["booted"] for e in step if e["hook"] == "worker_ready"), (
        "the master's record of the worker says it has booted"
    )

    # A request: pre_request and post_request in the worker that served it.
    status, body = server.request("/ok")
    assert status == 200
    served_by = int(body)
    hooks.wait_for("post_request", req__path="/ok")
    step = hooks.take()
    assert names(step, served_by) == ["pre_request", "post_request"]
    assert names(step, master) == []
    assert one(step, "pre_request", served_by)["req"] == {
        "type": "Request", "method": "GET", "path": "/ok",
    }  # fmt: skip
    after = one(step, "post_request", served_by)
    assert after["resp"] == {"type": "Response", "status_code": 200}
    assert after["environ"] == {"type": "dict", "PATH_INFO": "/ok"}

    # The application raises: post_request runs all the same, before the 500.
    assert server.request("/boom")[0] == 500
    hooks.wait_for("post_request", req__path="/boom")
    step = hooks.take()
    failed_in = step[0]["pid"]
    assert names(step, failed_in) == ["pre_request", "post_request"]
    assert one(step, "post_request", failed_in)["resp"] == {
        "type": "Response", "status_code": None,
    }  # fmt: skip
    assert failed_in in workers.values()

    # TTIN: one more worker.
    server.kill(signal.SIGTTIN)
    hooks.wait_for("worker_ready", worker__age=3)
    step = hooks.take()
    assert names(step, master) == ["nworkers_changed", "pre_fork", "worker_ready"]
    changed = one(step, "nworkers_changed", master)
    assert (changed["new_value"], changed["old_value"]) == (3, 2)
    assert_master_spawned(one(step, "pre_fork", master), master, 3)
    workers[3] = assert_booted(step, master, 3)
    assert names(step, workers[3]) == BOOT

    # TTOU: the oldest worker leaves; worker_exit in it, child_exit in the master.
    server.kill(signal.SIGTTOU)
    hooks.wait_for("child_exit", worker__age=1)
    step = hooks.take()
    assert names(step, master) == ["nworkers_changed", "child_exit"]
    changed = one(step, "nworkers_changed", master)
    assert (changed["new_value"], changed["old_value"]) == (2, 3)
    assert names(step, workers[1]) == ["worker_exit"]
    assert one(step, "worker_exit", workers[1])["worker"]["alive"] is False
    assert worker_args(step, "child_exit") == [(workers[1], 1)]

    # HUP: nworkers_changed even though the number stays 2, on_reload, a new
    # generation; the old workers leave as the new ones become ready.
    server.kill(signal.SIGHUP)
    hooks.wait_for("worker_ready", count=2)
    hooks.wait_for("child_exit", count=2)
    step = hooks.take()
    in_master = names(step, master)
    assert in_master[:4] == ["nworkers_changed", "on_reload", "pre_fork", "pre_fork"]
    assert Counter(in_master[4:]) == {"worker_ready": 2, "child_exit": 2}
    assert in_master.index("worker_ready") < in_master.index("child_exit")
    changed = one(step, "nworkers_changed", master)
    assert (changed["new_value"], changed["old_value"]) == (2, 2)
    workers[4] = assert_booted(step, master, 4)
    workers[5] = assert_booted(step, master, 5)
    assert names(step, workers[2]) == names(step, workers[3]) == ["worker_exit"]
    assert worker_args(step, "child_exit") == [(workers[2], 2), (workers[3], 3)]

    # SIGKILL a worker: it runs nothing; the master reaps it and replaces it.
    os.kill(workers[4], signal.SIGKILL)
    hooks.wait_for("worker_ready", worker__age=6)
    step = hooks.take()
    assert names(step, master) == ["child_exit", "pre_fork", "worker_ready"]
    assert worker_args(step, "child_exit") == [(workers[4], 4)]
    assert names(step, workers[4]) == []
    workers[6] = assert_booted(step, master, 6)

    # A request that hangs: the master aborts the worker (worker_abort in it),
    # post_request still runs on the way out, then worker_exit, then child_exit.
    hang = Hang(server)
    stuck = hooks.wait_for("pre_request", req__path="/hang")[0]["pid"]
    hooks.wait_for("worker_ready", worker__age=7)
    hang.join(WAIT)
    step = hooks.take()
    assert names(step, stuck) == [
        "pre_request", "worker_abort", "post_request", "worker_exit",
    ]  # fmt: skip
    aborted = one(step, "worker_abort", stuck)["worker"]
    assert (aborted["aborted"], aborted["alive"]) == (True, False)
    assert names(step, master) == ["child_exit", "pre_fork", "worker_ready"]
    stuck_age = next(age for age, pid in workers.items() if pid == stuck)
    assert stuck_age in (5, 6)
    assert worker_args(step, "child_exit") == [(stuck, stuck_age)]
    assert (hang.status, hang.error) == (500, None), "a timeout is answered 500"
    workers[7] = assert_booted(step, master, 7)
    survivors = sorted({workers[5], workers[6], workers[7]} - {stuck})

    # USR2: pre_exec in the forked child (the new master's pid) before its exec;
    # the new master then starts like any master.
    server.kill(signal.SIGUSR2)
    pre_exec = hooks.wait_for("pre_exec")[0]
    new_master = pre_exec["pid"]
    processes.extra_pids.add(new_master)
    hooks.wait_for("worker_ready", count=2, pid=new_master)
    step = hooks.take()
    assert pre_exec["ppid"] == master
    assert pre_exec["args"]["server"]["pid"] == master  # the old arbiter, copied
    assert names(step, new_master) == [
        "pre_exec", "nworkers_changed", "on_starting", "when_ready",
        "pre_fork", "pre_fork", "worker_ready", "worker_ready",
    ]  # fmt: skip
    changed = one(step, "nworkers_changed", new_master)
    assert (changed["new_value"], changed["old_value"]) == (2, None)
    assert changed["server"]["pid"] == new_master
    ready = one(step, "when_ready", new_master)["server"]
    assert ready["listeners"] == [address], "the inherited socket, same port"
    assert names(step, master) == []
    new_workers = [assert_booted(step, new_master, age) for age in (1, 2)]

    # TERM the old master: its workers leave, it reaps them, on_exit is its last act.
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    step = hooks.take()
    assert names(step, master) == ["child_exit", "child_exit", "on_exit"]
    assert one(step, "on_exit", master)["server"]["listeners"] == []  # closed
    assert worker_args(step, "child_exit") == sorted(
        (pid, age) for age, pid in workers.items() if pid in survivors
    )
    for pid in survivors:
        assert names(step, pid) == ["worker_exit"]
    assert {e["pid"] for e in step} == {master, *survivors}

    # TERM the new master, now the only one.
    os.kill(new_master, signal.SIGTERM)
    hooks.wait_for("on_exit", pid=new_master)
    step = hooks.take()
    assert names(step, new_master) == ["child_exit", "child_exit", "on_exit"]
    for pid in new_workers:
        assert names(step, pid) == ["worker_exit"]
    assert {e["pid"] for e in step} == {new_master, *new_workers}

    # Over the whole life, every worker began with post_fork and post_worker_init,
    # and every hook got its own process's arbiter and worker.
    everything = hooks.entries()
    worker_pids = {e["pid"] for e in everything if e["hook"] == "post_fork"}
    for pid in worker_pids:
        assert names(everything, pid)[:2] == BOOT
    for entry in everything:
        assert_own_server_and_worker(entry, masters={master, new_master})
    assert {e["hook"] for e in everything} == SERVED | {
        "on_reload", "worker_abort", "pre_exec",
    }  # fmt: skip


# --- worker_int ----------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT])
def test_worker_int_runs_in_each_worker_on_a_quick_stop(serve, tmp_path, sig):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    server = serve(APP, "-c", str(HOOKS_CONF), *LIFE, workers=2, env=hooks.env())
    master = server.master_pid
    hooks.wait_for("worker_ready", count=2)
    started = hooks.take()
    workers = [assert_booted(started, master, age) for age in (1, 2)]
    server.kill(sig)
    assert server.wait_exit() == 0
    step = hooks.take()
    for pid in workers:
        assert names(step, pid) == ["worker_int", "worker_exit"]
        assert one(step, "worker_int", pid)["worker"]["alive"] is False
    assert names(step, master) == ["child_exit", "child_exit", "on_exit"]


def test_terminate_runs_no_worker_int(serve, tmp_path):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    server = serve(APP, "-c", str(HOOKS_CONF), *LIFE, env=hooks.env())
    hooks.wait_for("worker_ready")
    worker = assert_booted(hooks.take(), server.master_pid, 1)
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert names(hooks.take(), worker) == ["worker_exit"]


# --- the default hooks ----------------------------------------------------------------


def test_default_pre_request_logs_method_and_path_at_debug(serve):
    server = serve(APP, "--log-level", "debug", *LIFE)
    assert server.request("/look/here", method="POST", body=b"x")[0] == 200
    server.wait_for(r"\[DEBUG\] POST /look/here")


def test_default_pre_request_is_silent_at_info(serve):
    server = serve(APP, *LIFE)
    assert server.request("/quiet")[0] == 200
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0
    assert "/quiet" not in server.log.text.replace("GET /quiet HTTP", "")


# --- the four ways to set a hook ------------------------------------------------------


def assert_short_life(hooks: HookLog, master: int) -> None:
    """Start, one request, TERM: every serving hook ran, each in its process."""
    step = hooks.take()
    assert names(step, master) == [
        "nworkers_changed", "on_starting", "when_ready", "pre_fork", "worker_ready",
        "child_exit", "on_exit",
    ]  # fmt: skip
    worker = assert_booted(step, master, 1)
    assert names(step, worker) == [*BOOT, "pre_request", "post_request", "worker_exit"]
    assert {entry["hook"] for entry in step} == SERVED


def live_briefly(server: Server, hooks: HookLog) -> None:
    hooks.wait_for("worker_ready")
    assert server.request("/ok")[0] == 200
    hooks.wait_for("post_request")
    server.kill(signal.SIGTERM)
    assert server.wait_exit() == 0


def importable_hooks(tmp_path: Path) -> dict[str, str]:
    """examples/hooks.conf.py copied to an importable module, ``recorded_hooks``."""
    shutil.copy(HOOKS_CONF, tmp_path / "recorded_hooks.py")
    return {"PYTHONPATH": str(tmp_path)}


def test_hooks_from_a_python_module_config(serve, tmp_path):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    env = {**hooks.env(), **importable_hooks(tmp_path)}
    server = serve(APP, "-c", "python:recorded_hooks", *LIFE, env=env)
    live_briefly(server, hooks)
    assert_short_life(hooks, server.master_pid)


def test_hooks_as_dotted_path_strings(serve, tmp_path):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    env = {**hooks.env(), **importable_hooks(tmp_path)}
    config = tmp_path / "dotted.conf.py"
    config.write_text(
        "".join(f"{name} = 'recorded_hooks.{name}'\n" for name in HOOK_NAMES)
    )
    server = serve(APP, "-c", str(config), *LIFE, env=env)
    live_briefly(server, hooks)
    assert_short_life(hooks, server.master_pid)


EMBEDDED = """
import runpy, sys
from examples.custom_app import StandaloneApplication, app
recorded = runpy.run_path("examples/hooks.conf.py")
options = {"bind": "127.0.0.1:0", "workers": 1, "timeout": %d}
options.update({name: recorded[name] for name in %r})
sys.exit(StandaloneApplication(app, options).run())
"""


def test_hooks_in_the_options_of_a_custom_application(processes, tmp_path):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    proc = subprocess.Popen(
        [sys.executable, "-c", EMBEDDED % (TIMEOUT, HOOK_NAMES)],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **hooks.env()},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    server = processes.track(proc)
    live_briefly(server, hooks)
    assert_short_life(hooks, server.master_pid)


# --- validation at start-up -----------------------------------------------------------


def test_a_hook_with_the_wrong_parameters_stops_start_up_in_one_line(
    run_to_exit, tmp_path
):
    config = tmp_path / "bad.conf.py"
    config.write_text("def post_request(worker):\n    pass\n")
    code, output = run_to_exit("-c", str(config), APP)
    assert code == 1
    assert output.splitlines() == [
        "Error: Invalid value for post_request: __config__.post_request: the hook "
        "must accept 2 to 4 parameters (worker, req[, environ[, resp]]), but its "
        "signature is (worker)"
    ]


def test_a_hook_that_is_not_callable_stops_start_up_in_one_line(run_to_exit, tmp_path):
    config = tmp_path / "bad.conf.py"
    config.write_text("when_ready = 'not_a_module_path'\n")
    code, output = run_to_exit("-c", str(config), APP)
    assert code == 1
    assert len(output.splitlines()) == 1
    assert output.startswith("Error: Invalid value for when_ready: 'not_a_module_path'")


def test_ssl_context_is_a_hook_and_is_not_called_without_a_certificate(
    run_to_exit, tmp_path
):
    config = tmp_path / "tls.conf.py"
    config.write_text(
        "def ssl_context(config, default_ssl_context_factory):\n    1/0\n"
    )
    code, output = run_to_exit("-c", str(config), "--check-config", APP)
    assert code == 0
    assert "warning" not in output  # tests/integration/test_tls.py calls it


# --- hooks that raise -----------------------------------------------------------------


def raising_config(path: Path, *hook_names: str, only_path: str | None = None) -> str:
    """A config file whose hooks ``hook_names`` raise ``RuntimeError``."""
    text = ""
    for name in hook_names:
        params = ", ".join(HOOK_PARAMS[name])
        guard = (
            f"    if req.path != {only_path!r}:\n        return\n" if only_path else ""
        )
        text += (
            f"def {name}({params}):\n{guard}"
            f"    raise RuntimeError('{name} failed on purpose')\n"
        )
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("hook", "exit_status", "reason"),
    [
        ("on_starting", 1, "Reason: on_starting hook failed: on_starting failed"),
        ("when_ready", 1, "Reason: when_ready hook failed: when_ready failed"),
        ("pre_fork", 1, "Reason: pre_fork hook failed: pre_fork failed"),
        ("post_fork", 3, "Reason: Worker failed to boot."),
        ("post_worker_init", 3, "Reason: Worker failed to boot."),
    ],
)
def test_a_failing_start_up_hook_stops_the_server(
    run_to_exit, tmp_path, hook, exit_status, reason
):
    config = raising_config(tmp_path / "raise.conf.py", hook)
    with open(config, "a") as file:
        file.write(LAST_WORDS)
    code, output = run_to_exit("-c", config, *LIFE, APP)
    assert code == exit_status, output
    assert reason in output
    assert f"RuntimeError: {hook} failed on purpose" in output
    assert f"Exception in {hook} hook" in output
    assert output.count("Booting worker") <= 1  # halted once, no respawn storm
    # A worker that failed to boot still says goodbye; the master always does.
    assert ("worker_exit ran" in output) == (hook in ("post_fork", "post_worker_init"))
    assert output.rstrip().endswith("on_exit ran")


LAST_WORDS = """
def worker_exit(server, worker):
    server.log.info("worker_exit ran")

def on_exit(server):
    server.log.info("on_exit ran")
"""


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_a_failing_pre_request_fails_its_request_only(serve, tmp_path, worker_class):
    path = tmp_path / "raise.conf.py"
    config = raising_config(path, "pre_request", only_path="/boom")
    server = serve(APP, "-c", config, "--worker-class", worker_class, *LIFE)
    worker = server.booted_pids()[0]
    status, body = server.request("/boom")
    assert (status, body) == (500, b"Internal Server Error\n")
    server.wait_for(r"Exception in pre_request hook: RuntimeError\('pre_request fail")
    assert "AppBug" not in server.log.text  # the application was never called
    assert server.get_pid("/fine") == worker  # and the worker lives on


LOGGED_ONLY = (
    "nworkers_changed", "worker_ready", "post_request", "on_reload", "child_exit",
    "worker_exit", "worker_abort", "worker_int", "pre_exec", "on_exit",
)  # fmt: skip


def test_a_failing_hook_while_serving_is_logged_by_name_and_ignored(
    serve, processes, tmp_path
):
    config = raising_config(tmp_path / "raise.conf.py", *LOGGED_ONLY)
    server = serve(APP, "-c", config, *LIFE)
    server.wait_for("Exception in worker_ready hook")
    assert server.request("/ok")[0] == 200
    server.kill(signal.SIGHUP)  # nworkers_changed, on_reload, then the old worker
    server.wait_for("Booting worker", count=2)  # leaves: worker_exit, child_exit
    server.wait_for("Exception in child_exit hook")
    hang = Hang(server)  # worker_abort, then a replacement
    server.wait_for("Booting worker", count=3, timeout=WAIT)
    hang.join(WAIT)
    server.kill(signal.SIGUSR2)  # pre_exec fails, the exec happens all the same
    listening = server.wait_for(r"Listening at: \S+ \((\d+)\)", count=2)
    new_master = int(listening[1].group(1))
    processes.extra_pids.add(new_master)
    os.kill(new_master, signal.SIGTERM)
    server.wait_for("The new master .* has exited")
    assert server.request("/still")[0] == 200
    server.kill(signal.SIGQUIT)  # worker_int, worker_exit, child_exit, on_exit
    assert server.wait_exit() == 0
    for hook in LOGGED_ONLY:  # the last lines may still be on their way from the pipe
        server.wait_for(f"Exception in {hook} hook")


@pytest.mark.parametrize(
    ("worker_class", "class_name"),
    [("sync", "SyncWorker"), ("gthread", "ThreadWorker")],
)
def test_each_worker_class_calls_the_worker_hooks(
    serve, tmp_path, worker_class, class_name
):
    hooks = HookLog(tmp_path / "hooks.jsonl")
    server = serve(
        APP, "-c", str(HOOKS_CONF), "--worker-class", worker_class, *LIFE,
        env=hooks.env(),
    )  # fmt: skip
    live_briefly(server, hooks)
    assert_short_life(hooks, server.master_pid)
    seen = hooks.entries()
    assert {e["args"]["worker"]["type"] for e in seen if "worker" in e["args"]} == {
        class_name
    }
