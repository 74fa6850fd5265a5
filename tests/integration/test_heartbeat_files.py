"""Each worker holds only its own heartbeat file, read from /proc of real workers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

SHORT = ("--timeout", "5", "--graceful-timeout", "3")


def heartbeat_fds(pid: int, folder: Path) -> list[str]:
    """The targets of ``pid``'s descriptors that point into ``folder``."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith(f"{folder}/"):
            targets.append(target)
    return targets


def wait_for_workers(server, count: int, timeout: float = 10.0) -> set[int]:
    """The master's ``count`` live workers once each has booted (served a pid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) == count and pids <= set(server.booted_pids()):
            return pids
        time.sleep(0.05)
    raise AssertionError(f"never saw {count} workers; log:\n{server.log.text}")


def assert_each_holds_only_its_own(server, folder: Path, count: int) -> None:
    pids = wait_for_workers(server, count)
    held = {pid: heartbeat_fds(pid, folder) for pid in pids}
    assert all(len(files) == 1 for files in held.values()), held
    assert len({files[0] for files in held.values()}) == count, held
    assert len(heartbeat_fds(server.master_pid, folder)) == count


def test_each_worker_holds_only_its_own_heartbeat_file(serve, tmp_path):
    server = serve(
        "examples.app_pid:app", *SHORT, "--worker-tmp-dir", str(tmp_path), workers=4
    )
    assert_each_holds_only_its_own(server, tmp_path, 4)
    for _ in range(3):  # respawned workers are forked with more siblings alive
        victim = min(server.worker_pids())
        os.kill(victim, signal.SIGKILL)
        server.wait_for(rf"Worker \(pid:{victim}\) was sent SIGKILL")
        assert_each_holds_only_its_own(server, tmp_path, 4)
