"""Exercise 20: a USR2 child prepares what the new master inherits, then execs."""

import os
import socket
import sys
from pathlib import Path

import pytest
from fakes import FakeApp, RecordingLog

import minigun
from minigun.arbiter import ENV_FDS, ENV_PID, Arbiter
from minigun.config import Config


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


class ExecCalled(Exception):
    """Raised by the fake ``os.execve`` to stop the test where the exec would be."""

    def __init__(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(path)
        self.path, self.argv, self.env = path, argv, env


class FakeListener:
    """A listener as the arbiter keeps it: something with a file descriptor."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """chdir and execve calls, in order; fork answers as the child would (0)."""
    happened: list[tuple] = []

    def execve(path, argv, env):
        happened.append(("execve", path))
        raise ExecCalled(path, argv, env)

    monkeypatch.setattr(os, "fork", lambda: 0)
    monkeypatch.setattr(os, "chdir", lambda path: happened.append(("chdir", path)))
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("MINIGUN_TEST_INHERITED", "kept")
    return happened


@pytest.fixture
def master(events: list[tuple]):
    """An arbiter with two real (unbound) sockets as listeners."""
    arbiter = Arbiter(FakeApp(Config()))
    arbiter.log = RecordingLog()
    sockets = [socket.socket(), socket.socket()]
    arbiter.listeners = [FakeListener(sock) for sock in sockets]
    arbiter.start_dir = "/where/the/server/started"
    yield arbiter
    for sock in sockets:
        sock.close()


def exec_of(master: Arbiter) -> ExecCalled:
    with pytest.raises(ExecCalled) as called:
        master.reexec()
    return called.value


def test_the_new_master_learns_its_sockets_and_its_parent(master: Arbiter):
    env = exec_of(master).env
    fds = ",".join(str(listener.fileno()) for listener in master.listeners)
    found = {name: env.get(name) for name in (ENV_FDS, ENV_PID)}
    expected = {ENV_FDS: fds, ENV_PID: str(os.getpid())}
    assert found == expected, (
        f"the new master's environment has {found}; expected {expected}: the "
        "listeners' descriptors and the old master's pid"
    )
    assert env.get("MINIGUN_TEST_INHERITED") == "kept", (
        "the new master's environment lost MINIGUN_TEST_INHERITED: start from "
        "os.environ and add to it"
    )


def test_the_sockets_survive_the_exec(master: Arbiter):
    exec_of(master)
    inheritable = {
        listener.fileno(): os.get_inheritable(listener.fileno())
        for listener in master.listeners
    }
    assert all(inheritable.values()), (
        f"at the exec, the listeners' inheritable flags are {inheritable}; expected "
        "all True, or exec closes them and the new master has nothing to accept on"
    )


def test_the_directory_is_restored_before_the_exec(
    master: Arbiter, events: list[tuple]
):
    exec_of(master)
    expected = [("chdir", master.start_dir), ("execve", sys.executable)]
    assert events == expected, (
        f"the USR2 child did {events}; expected {expected}: back to the directory "
        "the server started in, so relative paths mean the same, then the exec"
    )
