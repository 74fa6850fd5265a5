"""Pidfile: written whole, refuses a live owner, removed only by its owner."""

import os
import subprocess
import sys

import pytest

from minigun.errors import HaltServer
from minigun.pidfile import Pidfile


def test_create_writes_the_pid(tmp_path):
    pidfile = Pidfile(str(tmp_path / "app.pid"))
    pidfile.create(os.getpid())
    assert (tmp_path / "app.pid").read_text() == f"{os.getpid()}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["app.pid"], "temporary file left"


def test_create_refuses_a_live_process(tmp_path):
    path = tmp_path / "app.pid"
    path.write_text(f"{os.getppid()}\n")  # our parent: certainly alive
    with pytest.raises(HaltServer, match=f"Already running on PID {os.getppid()}"):
        Pidfile(str(path)).create(os.getpid())


def test_create_replaces_a_stale_pidfile(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = tmp_path / "app.pid"
    path.write_text(f"{dead.pid}\n")
    Pidfile(str(path)).create(os.getpid())
    assert path.read_text().strip() == str(os.getpid())


def test_unlink_leaves_a_file_that_names_another_process(tmp_path):
    path = tmp_path / "app.pid"
    pidfile = Pidfile(str(path))
    pidfile.create(os.getpid())
    path.write_text("12345\n")  # a new master took the name over
    pidfile.unlink()
    assert path.exists()


def test_unlink_removes_our_own_file(tmp_path):
    pidfile = Pidfile(str(tmp_path / "app.pid"))
    pidfile.create(os.getpid())
    pidfile.unlink()
    assert not (tmp_path / "app.pid").exists()


def test_rename_moves_the_file_to_the_new_name(tmp_path):
    pidfile = Pidfile(str(tmp_path / "app.pid.2"))
    pidfile.create(os.getpid())
    pidfile.rename(str(tmp_path / "app.pid"))
    assert not (tmp_path / "app.pid.2").exists()
    assert (tmp_path / "app.pid").read_text().strip() == str(os.getpid())


def test_validate_ignores_garbage(tmp_path):
    path = tmp_path / "app.pid"
    path.write_text("not a pid\n")
    assert Pidfile(str(path)).validate() is None


def test_create_in_a_missing_folder_halts_naming_the_path(tmp_path):
    path = tmp_path / "missing" / "app.pid"
    with pytest.raises(HaltServer) as halt:
        Pidfile(str(path)).create(os.getpid())
    assert halt.value.reason == (
        f"Cannot write the pid file '{path}': No such file or directory"
    )
