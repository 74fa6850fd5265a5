"""Worker life cycle pieces, in-process: jitter, signals as flags, heartbeat, errors."""

import json
import os
import signal
import time
from typing import Any

import pytest
from fake_app import FakeApp

from minigun.arbiter import Arbiter, WorkerRecord
from minigun.config import Config
from minigun.errors import APP_LOAD_ERROR, AppImportError
from minigun.http.errors import InvalidRequestLine
from minigun.http.exchange import Exchange
from minigun.wakepipe import WakePipe
from minigun.workers.base import IGNORED_WHILE_BOOTING, UNLIMITED_REQUESTS, Worker
from minigun.workers.handler import RequestHandler, log_failed_access
from minigun.workers.workertmp import WorkerTmp


class RecordingLog:
    def __init__(self):
        self.lines = []

    def __getattr__(self, level):
        return lambda msg, *args: self.lines.append(
            (level, msg % args if args else msg)
        )

    def access(self, resp, req, environ, request_time):
        self.lines.append(("access", resp.status_code))


class FakeClient:
    def __init__(self):
        self.sent = b""

    def sendall(self, data):
        self.sent += data


def make_worker(app=None, **settings) -> Worker:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return Worker(1, os.getpid(), [], app or FakeApp(), 30, cfg, RecordingLog())


def test_max_requests_zero_means_never():
    assert make_worker(max_requests=0).max_requests == UNLIMITED_REQUESTS


def test_max_requests_jitter_stays_in_range():
    limits = {
        make_worker(max_requests=100, max_requests_jitter=10).max_requests
        for _ in range(200)
    }
    assert limits <= set(range(100, 111))
    assert len(limits) > 1


def test_run_is_the_subclass_job():
    with pytest.raises(NotImplementedError):
        make_worker().run()


def test_a_child_is_handed_what_it_needs_and_nothing_more():
    master = Arbiter(FakeApp(Config()))
    master.wake_pipe = WakePipe()
    sibling = make_worker()
    master.workers[4242] = WorkerRecord(4242, sibling, 0, time.time())
    try:
        inherited = master.inheritance()
        assert inherited.proc_name == master.cfg.proc_name
        assert set(inherited.master_signals) == set(master.signal_handlers)
        assert set(inherited.master_files) == {sibling.tmp, master.wake_pipe}
    finally:
        sibling.tmp.close()
        master.wake_pipe.close()


def test_a_new_child_drops_the_masters_signals_pipe_and_heartbeat_files():
    """forget_master_state in a real child (it changes the process's signals): the
    master's signals ignored or default, its pipe and the siblings' files closed."""
    master = Arbiter(FakeApp(Config()))
    master.wake_pipe = WakePipe()
    master_fds = [master.wake_pipe.read_fd, master.wake_pipe.write_fd]
    sibling = make_worker()
    master.workers[4242] = WorkerRecord(4242, sibling, 0, time.time())
    report_fd, child_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and leave without unwinding pytest's frames
        found = {"handlers": {}, "closed": []}
        try:
            signal.signal(signal.SIGUSR1, master.signal)  # what the fork copies
            make_worker().forget_master_state(master.inheritance())
            for sig in master.signal_handlers:
                found["handlers"][sig.name] = int(signal.getsignal(sig))
            for fd in master_fds:
                try:
                    os.fstat(fd)
                except OSError:
                    found["closed"].append(fd)
            found["sibling_closed"] = sibling.tmp.fileno() < 0
        finally:
            os.write(child_fd, json.dumps(found).encode())
            os._exit(0)
    os.close(child_fd)
    os.waitpid(pid, 0)
    with os.fdopen(report_fd) as report:
        found = json.loads(report.read())
    sibling.tmp.close()
    master.wake_pipe.close()
    ignored = {sig.name for sig in IGNORED_WHILE_BOOTING}
    assert {name for name, h in found["handlers"].items() if h == signal.SIG_IGN} == (
        ignored
    ), "a USR1 to a booting worker must not kill it; HUP, USR2, TTIN, TTOU never"
    assert found["handlers"]["SIGTERM"] == signal.SIG_DFL, "a TERM stops it"
    assert found["closed"] == master_fds
    assert found["sibling_closed"]


def test_term_lets_the_request_finish():
    worker = make_worker(graceful_timeout=5)
    worker.wake_pipe = WakePipe()
    worker.handle_exit(signal.SIGTERM, None)
    assert worker.alive is False
    assert worker.stop_deadline == pytest.approx(time.monotonic() + 5, abs=1)
    assert os.read(worker.wake_pipe.fileno(), 10), "TERM must wake the accept loop"
    worker.wake_pipe.close()


def test_quit_runs_worker_int_and_leaves():
    called = []
    worker = make_worker(worker_int=called.append)
    with pytest.raises(SystemExit) as leaving:
        worker.handle_quit(signal.SIGQUIT, None)
    assert leaving.value.code == 0
    assert called == [worker]


def test_abort_runs_worker_abort_and_exits_1():
    called = []
    worker = make_worker(worker_abort=called.append)
    with pytest.raises(SystemExit) as leaving:
        worker.handle_abort(signal.SIGABRT, None)
    assert leaving.value.code == 1
    assert worker.aborted and called == [worker]


class FakeRequest:
    method = "POST"
    uri = "/report?year=2026"
    version = (1, 1)


def test_abort_names_the_request_in_hand():
    worker = make_worker(timeout=2)
    worker.timeout = 2
    worker.request_in_hand = FakeRequest()
    with pytest.raises(SystemExit):
        worker.handle_abort(signal.SIGABRT, None)
    assert (
        "error",
        f"Request timed out after 2 s: POST /report?year=2026 (pid:{worker.pid})",
    ) in worker.log.lines


def test_a_timed_out_request_is_answered_500():
    worker = make_worker()
    client = FakeClient()
    head = b"POST /report?year=2026 HTTP/1.1\r\nHost: x\r\n\r\n"
    exchange = Exchange(
        worker.parse_rules, iter([head]), ("10.0.0.1", 5), send=client.sendall
    )
    exchange.next_request()
    handler = RequestHandler(worker, lambda environ, start_response: [])
    handler.answer_failure(exchange.time_out(), exchange, client, ("10.0.0.1", 5))
    assert client.sent.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"Connection: close" in client.sent
    assert ("access", 500) in worker.log.lines


def test_a_hook_that_raises_is_logged_by_name():
    def broken(worker):
        raise RuntimeError("oops")

    worker = make_worker(worker_int=broken)
    with pytest.raises(SystemExit):
        worker.handle_quit(signal.SIGINT, None)
    assert ("exception", "Exception in worker_int hook") in worker.log.lines


def test_app_that_fails_to_load_exits_with_app_load_error():
    worker = make_worker(app=FakeApp(error=AppImportError("no module named 'nope'")))
    with pytest.raises(SystemExit) as leaving:
        worker.load_wsgi()
    assert leaving.value.code == APP_LOAD_ERROR
    assert any("no module named 'nope'" in text for _, text in worker.log.lines)


def answer(worker: Worker, client: Any, error: Exception) -> None:
    """What the request path does with an error the exchange judged."""
    exchange = Exchange(
        worker.parse_rules, iter([]), ("10.0.0.1", 5), send=client.sendall
    )
    handler = RequestHandler(worker, lambda environ, start_response: [])
    handler.answer_failure(exchange.fail(error), exchange, client, ("10.0.0.1", 5))


def test_parse_error_is_answered_with_its_status():
    worker = make_worker()
    client = FakeClient()
    answer(worker, client, InvalidRequestLine("GARBAGE"))
    assert client.sent.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in client.sent


def test_app_exception_is_answered_500_and_logged():
    worker = make_worker()
    client = FakeClient()
    try:
        raise ZeroDivisionError("bug")
    except ZeroDivisionError as error:
        answer(worker, client, error)
    assert client.sent.startswith(b"HTTP/1.1 500 ")
    assert worker.log.lines[0][0] == "exception"


def test_parent_change_is_noticed():
    worker = make_worker()
    worker.ppid = os.getppid()
    assert worker.is_parent_alive()
    worker.ppid = -1
    assert not worker.is_parent_alive()


def test_heartbeat_starts_unnotified_and_moves_forward(tmp_path):
    tmp = WorkerTmp(str(tmp_path))
    try:
        assert not tmp.has_notified()
        tmp.notify()
        assert tmp.has_notified()
        assert time.time() - tmp.last_update() < 5
        assert list(tmp_path.iterdir()) == [], "the heartbeat file must be unlinked"
    finally:
        tmp.close()


def test_failed_access_is_logged():
    worker = make_worker()

    class Req:
        method, uri, version = "GET", "/x", (1, 1)

    log_failed_access(worker.log, Req(), ("1.2.3.4", 1), 400)  # type: ignore[arg-type]
    assert ("access", 400) in worker.log.lines


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_heartbeat_file_belongs_to_the_workers_user(tmp_path):
    tmp = WorkerTmp(str(tmp_path), uid=65534, gid=65534)
    try:
        assert os.fstat(tmp.fileno()).st_uid == 65534
    finally:
        tmp.close()
