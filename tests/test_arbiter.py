"""The arbiter's bookkeeping, in-process: no fork, ``kill`` and ``waitpid`` faked."""

import os
import signal
import time

import pytest
from fake_app import FakeApp, FakeClock

from minigun.arbiter import (
    MASTER_TICK,
    MAX_QUEUED_SIGNALS,
    Arbiter,
    SignalAction,
    Stop,
    WorkerRecord,
)
from minigun.backoff import FIRST_RESPAWN_DELAY, RespawnBackoff
from minigun.config import Config
from minigun.errors import (
    APP_FACTORY_ERROR,
    APP_LOAD_ERROR,
    APP_NOT_FOUND,
    WORKER_BOOT_ERROR,
    HaltServer,
)
from minigun.wakepipe import WakePipe
from minigun.workers.base import Worker


class FakeMaster(Arbiter):
    """An arbiter whose spawn, kill and waitpid are records instead of syscalls."""

    def __init__(self, cfg):
        self.killed: list[tuple[int, int]] = []
        self.exits: list[tuple[int, int]] = []
        self.next_pid = 1000
        super().__init__(FakeApp(cfg))

    def spawn_worker(self):
        self.next_pid += 1
        self.add_worker(self.next_pid, self.generation)
        return self.next_pid

    def add_worker(self, pid, generation, booted=False):
        """Record a worker as spawn_worker's parent side does, without the fork."""
        self.worker_age += 1
        worker = Worker(self.worker_age, self.pid, [], self.app, 30, self.cfg, self.log)
        worker.pid = pid
        record = WorkerRecord(pid, worker, generation, time.time(), booted=booted)
        self.workers[pid] = record
        return record

    def kill_worker(self, pid, sig):
        self.killed.append((pid, sig))

    def wait_child(self):
        return self.exits.pop(0) if self.exits else None


def make_master(**settings) -> FakeMaster:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return FakeMaster(cfg)


def exited(code: int) -> int:
    """A waitpid status for a normal exit with ``code``."""
    return code << 8


def test_one_table_maps_every_signal_to_a_handler_and_a_kind():
    master = make_master()
    table = master.signal_table()
    assert set(table) == {
        signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGTTIN,
        signal.SIGTTOU, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGCHLD,
    }  # fmt: skip
    assert table[signal.SIGTERM].stop is Stop.GRACEFUL
    assert table[signal.SIGINT].stop is table[signal.SIGQUIT].stop is Stop.QUICK
    assert all(action.handler.__self__ is master for action in table.values())


def test_signal_only_enqueues_and_the_queue_is_bounded():
    master = make_master()
    master.wake_pipe = WakePipe()
    for _ in range(MAX_QUEUED_SIGNALS + 2):
        master.signal(signal.SIGTTIN, None)
    assert list(master.signal_queue) == [signal.SIGTTIN] * MAX_QUEUED_SIGNALS
    assert master.workers == {}
    assert os.read(master.wake_pipe.fileno(), 100)
    master.wake_pipe.close()


def test_manage_workers_spawns_the_missing_and_retires_the_oldest_extra():
    master = make_master(workers=3)
    master.manage_workers()
    assert sorted(master.workers) == [1001, 1002, 1003]
    master.change_num_workers(1)
    master.manage_workers()
    assert master.killed == [(1001, signal.SIGTERM), (1002, signal.SIGTERM)]
    master.manage_workers()  # retiring workers are not asked twice
    assert len(master.killed) == 2


def test_ttou_never_goes_below_one():
    master = make_master(workers=1)
    master.handle_ttou()
    assert master.num_workers == 1


def test_nworkers_changed_sees_the_start_and_every_change():
    calls = []
    cfg = Config()
    cfg.set("nworkers_changed", lambda server, new, old: calls.append((new, old)))
    master = FakeMaster(cfg)
    master.handle_ttin()
    assert calls == [(1, None), (2, 1)]


def test_old_generation_retires_only_as_new_workers_boot():
    master = make_master(workers=2)
    old = [master.add_worker(1, 0, booted=True), master.add_worker(2, 0, booted=True)]
    master.generation = 1
    master.manage_workers()  # spawns the new generation, which has not booted
    assert master.killed == []
    master.workers[1001].booted = True
    master.manage_workers()
    assert master.killed == [(old[0].pid, signal.SIGTERM)]
    master.workers[1002].booted = True
    master.manage_workers()
    assert master.killed[-1] == (old[1].pid, signal.SIGTERM)


def test_reap_logs_and_forgets_the_dead():
    master = make_master()
    master.add_worker(7, 0)
    master.exits = [(7, signal.SIGKILL)]
    master.reap_workers()
    assert master.workers == {}


@pytest.mark.parametrize(
    "code", [WORKER_BOOT_ERROR, APP_LOAD_ERROR, APP_NOT_FOUND, APP_FACTORY_ERROR]
)
def test_a_boot_failure_halts_with_its_code(code):
    master = make_master()
    master.add_worker(7, 0)
    master.exits = [(7, exited(code))]
    with pytest.raises(HaltServer) as halt:
        master.reap_workers()
    assert halt.value.exit_status == code


def test_a_failed_reload_keeps_the_old_generation_and_config():
    master = make_master(workers=1)
    old = master.add_worker(1, 0, booted=True)
    reloaded = Config()
    reloaded.set("workers", 3)
    master.app.next_cfg = reloaded  # what the HUP's app.reload() reads
    master.reload()  # generation 1: workers 1001 to 1003
    assert (master.generation, master.num_workers) == (1, 3)
    master.exits = [(1001, exited(APP_LOAD_ERROR))]
    master.reap_workers()  # no HaltServer
    assert master.generation == 0
    assert master.cfg is master.app.cfg is master.previous_cfg, "the old config"
    assert master.num_workers == 1, "the old config's worker count is back"
    assert {(1002, signal.SIGKILL), (1003, signal.SIGKILL)} <= set(master.killed)
    assert (old.pid, signal.SIGTERM) not in master.killed
    assert master.workers[old.pid].generation == 0


def test_reaping_the_usr2_child_allows_another_upgrade():
    master = make_master()
    master.reexec_pid = 555
    master.exits = [(555, exited(0))]
    master.reap_workers()
    assert master.reexec_pid == 0


def test_a_silent_worker_is_aborted_then_killed_after_abort_grace():
    master = make_master(timeout=1, abort_grace=0.2)
    worker = master.add_worker(9, 0)
    worker.spawned_at = time.time() - 10
    master.murder_workers()
    assert master.killed == [(9, signal.SIGABRT)]
    master.murder_workers()
    assert master.killed == [(9, signal.SIGABRT)], "aborted once, then given grace"
    worker.abort_deadline = time.monotonic() - 1
    master.murder_workers()
    assert master.killed[-1] == (9, signal.SIGKILL)


def test_timeout_zero_never_aborts():
    master = make_master(timeout=0)
    master.add_worker(9, 0).spawned_at = 0.0
    master.murder_workers()
    assert master.killed == []


def test_a_hook_that_raises_is_logged_and_a_startup_hook_halts(capsys):
    master = make_master()

    def broken(server):
        raise RuntimeError("bad hook")

    master.call_hook("on_reload", broken, master)
    assert "Exception in on_reload hook" in capsys.readouterr().err
    with pytest.raises(HaltServer, match="when_ready hook failed: bad hook"):
        master.call_startup_hook("when_ready", broken, master)


def test_an_int_during_a_graceful_stop_is_noticed():
    master = make_master()
    master.signal_queue.extend([signal.SIGCHLD, signal.SIGCHLD, signal.SIGINT])
    assert master.quick_stop_requested()
    assert not master.signal_queue


def test_the_master_backs_off_from_workers_that_crash_young_and_says_so():
    master = make_master(workers=1)
    clock = FakeClock()
    master.backoff = RespawnBackoff(clock.monotonic)
    warnings = []
    master.log.warning = lambda message, *args: warnings.append(message % args)
    spawned = []
    for crash in range(3):
        master.manage_workers()
        spawned.append(len(master.workers))
        [pid] = master.workers
        master.exits = [(pid, exited(1))]
        master.reap_workers()
        if crash:
            assert master.backoff.seconds_left() > 0
            master.manage_workers()
            assert master.workers == {}, "no spawn while backing off"
            clock.now += master.backoff.seconds_left()
    assert spawned == [1, 1, 1]
    assert len(warnings) == 2
    assert "backing off, the next worker starts in 0.1 s" in warnings[0]
    assert "2 crashes in a row" in warnings[0]


def test_exits_the_master_asked_for_are_not_crashes():
    master = make_master(workers=2)
    master.backoff = RespawnBackoff(FakeClock().monotonic)
    retired = master.add_worker(1, 0)
    retired.retire_deadline = time.monotonic() + 30
    aborted = master.add_worker(2, 0)
    aborted.abort_deadline = time.monotonic() + 1
    master.exits = [(1, exited(1)), (2, signal.SIGKILL), (3, exited(0))]
    master.reap_workers()
    assert master.backoff.crashes == 0


def test_the_master_sleeps_no_longer_than_the_back_off():
    master = make_master(timeout=0)
    clock = FakeClock()
    master.backoff = RespawnBackoff(clock.monotonic)
    master.backoff.crashed(lifetime=0.1)
    master.backoff.crashed(lifetime=0.1)
    assert master.sleep_seconds() == pytest.approx(FIRST_RESPAWN_DELAY, abs=0.02)


def test_the_master_wakes_when_a_heartbeat_goes_stale():
    master = make_master(timeout=2)
    worker = master.add_worker(9, 0)
    worker.tmp.notify()
    worker.spawned_at = 0.0
    assert master.sleep_seconds() == pytest.approx(MASTER_TICK, abs=0.05)
    beat = time.time() - 1.5  # the last heartbeat, 1.5 s ago: stale in 0.5 s
    os.utime(worker.tmp.fileno(), (beat, beat))
    assert master.sleep_seconds() == pytest.approx(0.5, abs=0.05)


def test_the_master_remembers_the_directory_as_the_user_named_it(tmp_path, monkeypatch):
    """A deploy swaps the ``current`` symlink; USR2 must re-exec in the new release,
    so the master keeps ``$PWD`` (the symlink), not the resolved old release."""
    release = tmp_path / "release-1"
    release.mkdir()
    current = tmp_path / "current"
    current.symlink_to(release)
    monkeypatch.chdir(current)
    monkeypatch.setenv("PWD", str(current))
    assert os.getcwd() == str(release)  # what the kernel says: the symlink resolved
    assert Arbiter(FakeApp(Config())).start_dir == str(current)


def test_the_log_says_what_the_signal_table_says_of_a_signal():
    master = Arbiter(FakeApp(Config()))
    lines = []
    master.log.info = lambda message, *args: lines.append(message % args)
    quiet = SignalAction(lambda: None, Stop.NONE, "reopen the logs")
    master.signal_handlers[signal.SIGUSR1] = quiet
    master.signal_queue.append(signal.SIGUSR1)
    master.handle_queued_signals()
    assert lines == ["Handling signal: usr1 (reopen the logs; stops nothing)"]
