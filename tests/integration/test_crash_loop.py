"""Crash loops back off: a worker that keeps dying while it boots is not respawned
sixteen times a second, and the master still answers TERM while it waits."""

from __future__ import annotations

import os
import re
import signal
import time

CRASHING_APP = """\
import sys

sys.exit(1)  # an ordinary exit code while importing: not 3 or 4, so no halt
"""

BACKING_OFF = re.compile(r"backing off, the next worker starts in ([\d.]+) s")


def test_a_crash_loop_backs_off_and_the_master_still_answers_term(serve, tmp_path):
    (tmp_path / "crashing.py").write_text(CRASHING_APP)
    started = time.monotonic()
    server = serve("crashing:app", "--pythonpath", str(tmp_path), "--timeout", "5")
    # Wait until the delay has grown to 1.6 s: 0, 0.1, 0.2, 0.4, 0.8 s behind us.
    server.wait_for(r"next worker starts in 1\.6 s", timeout=15)
    elapsed = time.monotonic() - started
    boots = len(server.booted_pids())
    assert boots <= 8, f"{boots} boots in {elapsed:.1f} s: not backing off"
    delays = [float(m.group(1)) for m in BACKING_OFF.finditer(server.log.text)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6], server.log.text
    assert "Worker (pid:" in server.log.text and "exited with code 1" in server.log.text
    # The master is now waiting 1.6 s before the next spawn: TERM ends it at once.
    term_sent = time.monotonic()
    server.kill(signal.SIGTERM)
    assert server.wait_exit(timeout=5) == 0
    assert time.monotonic() - term_sent < 1.0, server.log.text


def test_a_one_off_crash_is_replaced_at_once(serve):
    server = serve("examples.app_pid:app", "--timeout", "5", workers=2)
    victim = server.get_pid()
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    server.wait_for(r"Booting worker with pid: \d+", count=3)
    assert time.monotonic() - killed < 1.5
    assert "backing off" not in server.log.text
