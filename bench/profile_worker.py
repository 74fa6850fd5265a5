"""Where a sync worker's time goes: cProfile of one worker under load.

Usage::

    .venv/bin/python bench/profile_worker.py [--seconds 3] [--worker-class sync]

The profiler is switched on and off by two server hooks, the way an operator would
do it in production: ``post_worker_init`` starts it in the worker once the
application is loaded, ``worker_exit`` writes the statistics when the worker stops.
One worker serves ``bench.apps:hello`` under ``wrk`` (or the Python client) for a few
seconds; the script prints the functions that took the most time of their own.
"""

from __future__ import annotations

import argparse
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import choose_load, ensure_minigun, running

HOOKS = """
import cProfile
import os

def post_worker_init(worker):
    worker.profiler = cProfile.Profile()
    worker.profiler.enable()

def worker_exit(server, worker):
    worker.profiler.disable()
    worker.profiler.dump_stats(os.environ["PROFILE_STATS"])
"""
CONNECTIONS = 8
TOP = 25


def profile(seconds: float, worker_class: str, tmp: Path) -> pstats.Stats:
    stats_path = tmp / "worker.prof"
    config = tmp / "profile.conf.py"
    config.write_text(HOOKS)
    setup = (
        *("--workers", "1", "--worker-class", worker_class, "-c", str(config)),
        *("--env", f"PROFILE_STATS={stats_path}"),
    )
    with running("minigun", ensure_minigun(), setup, "bench.apps:hello", tmp) as server:
        result = choose_load()(server.url(), seconds, CONNECTIONS)
        print(f"{result.rps:,.0f} requests/s while profiled", file=sys.stderr)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(10)
    deadline = time.monotonic() + 5
    while not stats_path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return pstats.Stats(str(stats_path))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--worker-class", default="sync")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="minigun-profile-") as tmp:
        stats = profile(options.seconds, options.worker_class, Path(tmp))
        stats.strip_dirs().sort_stats("tottime").print_stats(TOP)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
