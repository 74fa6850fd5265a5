"""What the arbiter chapter's start-up leaves for an operator to see: the pidfile
(a live master's refuses a second start) and the process titles."""

from __future__ import annotations

from pathlib import Path

from conftest import FAST


def test_pidfile_of_a_live_master_refuses_a_second_start(serve, run_to_exit, tmp_path):
    pidfile = tmp_path / "one.pid"
    server = serve("examples.app_pid:app", "--pid", str(pidfile), *FAST)
    code, text = run_to_exit("--pid", str(pidfile), "examples.app_pid:app")
    assert code != 0
    assert f"Already running on PID {server.master_pid}" in text
    assert pidfile.read_text().strip() == str(server.master_pid)


def test_process_titles_name_master_and_workers(serve):
    server = serve("examples.app_pid:app", *FAST)
    master = Path(f"/proc/{server.master_pid}/cmdline").read_bytes()
    worker = Path(f"/proc/{server.booted_pids()[0]}/cmdline").read_bytes()
    assert master.startswith(b"minigun: master [")
    assert worker.startswith(b"minigun: worker [")
