"""The prefork chapter's smallest pre-fork server (examples/tiny_prefork.py), from
outside: it serves from several children on one socket, it does not replace a child
that dies, and TERM kills its master alone, leaving the children serving as orphans.

The chapter shows exactly these three behaviours, and the rest of the book adds what
they lack; if the small server changed, this test and the chapter's recorded run
would both say so.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from conftest import ROOT, LogBuffer, children_of, is_alive, wait_until

SERVER = ROOT / "examples" / "tiny_prefork.py"
LISTENING = re.compile(r"\[(\d+)\] \[INFO\] Listening at: http://127\.0\.0\.1:(\d+)")
CHILD = re.compile(r"\[(\d+)\] \[INFO\] Child accepting")
CHILDREN = 3
NOT_REPLACED_WITHIN = 1.0  # seconds: minigun's master replaces a child well within


class Tiny:
    """The running small server: its master, its children, its port, its log."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.log = LogBuffer(self.proc.stdout)
        listening = self.log.wait_for(LISTENING)[0]
        self.master, self.port = int(listening[1]), int(listening[2])
        self.children = [int(m[1]) for m in self.log.wait_for(CHILD, count=CHILDREN)]

    def get(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/")
            response = conn.getresponse()
            assert response.status == 200, f"status {response.status}"
            return response.read().decode()
        finally:
            conn.close()


@pytest.fixture
def tiny() -> Iterator[Tiny]:
    server = Tiny()
    try:
        yield server
    finally:  # every pid it ever had, stopped by pid, orphans included
        for pid in [server.master, *server.children]:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        wait_until(lambda: not any(is_alive(pid) for pid in server.children))


@pytest.mark.timeout(30)
def test_children_share_the_socket_and_answer(tiny: Tiny) -> None:
    assert children_of(tiny.master) == set(tiny.children)
    answers = {tiny.get() for _ in range(2 * CHILDREN)}
    served_by = {int(a.split()[-1]) for a in answers}
    assert served_by <= set(tiny.children), f"{answers} not from {tiny.children}"


@pytest.mark.timeout(30)
def test_a_child_that_dies_is_not_replaced(tiny: Tiny) -> None:
    victim, *others = tiny.children
    os.kill(victim, signal.SIGKILL)
    tiny.log.wait_for(rf"Child {victim} exited with status -9")
    time.sleep(NOT_REPLACED_WITHIN)  # proving that nothing happens takes a wait
    assert children_of(tiny.master) == set(others), "the master forked a new child"
    assert int(tiny.get().split()[-1]) in others


@pytest.mark.timeout(30)
def test_term_kills_the_master_and_leaves_orphans_serving(tiny: Tiny) -> None:
    os.kill(tiny.master, signal.SIGTERM)
    assert tiny.proc.wait(timeout=10) == -signal.SIGTERM
    assert all(is_alive(pid) for pid in tiny.children), "a child died with its master"
    assert int(tiny.get().split()[-1]) in tiny.children, "the orphans stopped serving"
