"""The heartbeat file, read from /proc of real workers: each worker holds only its
own, and a worker that dropped privileges can still beat on it."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import wait_until

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


@pytest.fixture
def app_dir_for_nobody() -> Iterator[Path]:
    """A world-readable folder holding a copy of the hello app.

    The worker imports the app only after switching user, so the app must live where
    "nobody" can read it; a checkout, or pytest's tmp_path, may sit in a 0700 folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="minigun-nobody-"))
    folder.chmod(0o755)
    app_file = folder / "nobody_hello.py"
    shutil.copy(Path(__file__).parents[2] / "examples" / "hello.py", app_file)
    app_file.chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch to another user")
def test_a_worker_that_dropped_privileges_keeps_its_heartbeat(
    serve, app_dir_for_nobody
):
    nobody = pwd.getpwnam("nobody")
    server = serve(
        "nobody_hello:app", "--chdir", str(app_dir_for_nobody),
        "--user", "nobody", "--group", str(nobody.pw_gid), "--timeout", "1",
    )  # fmt: skip
    worker = server.booted_pids()[0]
    uid_line = f"Uid:\t{nobody.pw_uid}\t"  # set in init_process, after "Booting"
    wait_until(lambda: uid_line in Path(f"/proc/{worker}/status").read_text())
    time.sleep(2.5)  # more than twice the timeout: only a working heartbeat survives
    assert server.request("/") == (
        200,
        f"Hello from minigun worker {worker}\n".encode(),
    )
    assert "WORKER TIMEOUT" not in server.log.text
