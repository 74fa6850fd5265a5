"""Where a sync worker's time goes: cProfile of one worker under load, by phase.

Usage::

    .venv/bin/python bench/profile_worker.py [--seconds 3] [--top N]

The profiler is switched on and off by two server hooks, the way an operator would
do it in production: ``post_worker_init`` starts it in the worker once the
application is loaded, ``worker_exit`` writes the statistics when the worker stops.
One worker serves ``bench.apps:hello`` under ``wrk`` (or the Python client) for a few
seconds; the script prints how the worker's time divides among the phases of a
request (:data:`PHASES`), and with ``--top N`` the N functions that took the most
time of their own.

A phase is named by the functions that start it (:func:`phase_of`: the accept, the
parser's modules, the environ, the application, the response, the access log, the
close); a function that belongs to no phase, such as a config attribute read or a
``dict`` method, counts in the phase of whoever called it, in proportion to the
time each caller spent in it. cProfile slows every Python call down, so the Python
phases weigh more here than without it; the system calls (``accept``, ``recv``,
``sendall``, ``close``) weigh less.
"""

from __future__ import annotations

import argparse
import os
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
PHASES = {
    "accept": "accept a connection",
    "parse": "read and parse the request (minigun/http: parser, message, fields...)",
    "environ": "build the WSGI environ (wsgi.create)",
    "application": "the application (bench/apps.py: hello)",
    "write": "the response: start_response, the head, sendall",
    "log": "the access log",
    "close": "close the connection",
    "loop": "the worker's own loop: select, heartbeat, counting requests",
}
WAIT = "wait"  # epoll/select: idle, or the worker waiting for a core on a busy machine
PARSE_MODULES = {"parser", "message", "fields", "unreader", "body", "proxy", "exchange"}
RESPONSE_FUNCTIONS = {
    *("start_response", "send_headers", "head", "default_headers", "write", "frame"),
    *("clip", "write_file", "sendfile", "close", "__init__", "end_to_end_headers"),
    *("check_status", "check_header", "is_latin1", "without_framing", "has_body"),
    *("status_may_have_body", "should_close", "force_close", "finish_response"),
}
WORKER_MODULES = {"base", "sync", "gthread", "handler"}

Function = tuple[str, int, str]  # pstats' key: file, line, function name


def profile(seconds: float, tmp: Path) -> pstats.Stats:
    """Profile one sync worker: cProfile sees only the thread that switched it on,
    so a gthread worker's pool threads, which do its work, would be left out."""
    stats_path = tmp / "worker.prof"
    config = tmp / "profile.conf.py"
    config.write_text(HOOKS)
    setup = (
        *("--workers", "1", "--worker-class", "sync", "-c", str(config)),
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


def phase_of(function: Function) -> str | None:  # noqa: PLR0911 (a table of rules)
    """The phase a function starts, or None if it only serves whoever calls it."""
    path, _line, name = function
    module = os.path.splitext(os.path.basename(path))[0]
    in_minigun = f"minigun{os.sep}" in path
    if "_accept" in name or (module == "socket" and name == "accept"):
        return "accept"
    if "epoll" in name or "select" in name:
        return WAIT
    if "sendall" in name or "'send'" in name:
        return "write"
    if "socket.close" in name or (module == "socket" and name == "close"):
        return "close"
    if module == "apps" and "bench" in path:
        return "application"
    if module == "glogging" or path.endswith(f"logging{os.sep}__init__.py"):
        return "log"
    if in_minigun and module in PARSE_MODULES:
        return "parse"
    if in_minigun and module == "wsgi":
        return "write" if name in RESPONSE_FUNCTIONS else "environ"
    if in_minigun and module in WORKER_MODULES:
        return "loop"
    return None


def time_by_phase(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of the worker's own time in each phase (see the module docstring)."""
    table = stats.stats  # type: ignore[attr-defined]  # pstats keeps it untyped
    shares: dict[Function, dict[str, float]] = {}

    def share_of(function: Function, seen: frozenset[Function]) -> dict[str, float]:
        """How a function's time divides among phases: 1.0 in its own phase, or
        its callers' division, weighted by the time each caller spent in it."""
        phase = phase_of(function)
        if phase is not None:
            return {phase: 1.0}
        if function in shares:
            return shares[function]
        callers = table[function][4]
        total = sum(entry[2] for entry in callers.values()) or 1.0
        mixed: dict[str, float] = {}
        for caller, entry in callers.items():
            if caller in seen:  # recursion: the outer call has it already
                continue
            for name, part in share_of(caller, seen | {function}).items():
                mixed[name] = mixed.get(name, 0.0) + part * entry[2] / total
        shares[function] = mixed
        return mixed

    seconds: dict[str, float] = {}
    for function, (_cc, _nc, own, _cum, _callers) in table.items():
        for phase, part in share_of(function, frozenset()).items():
            seconds[phase] = seconds.get(phase, 0.0) + own * part
    return seconds


def requests_served(stats: pstats.Stats) -> int:
    """How many times the application was called."""
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        entry[1]
        for function, entry in table.items()
        if phase_of(function) == "application" and function[2] == "hello"
    )


def print_phases(stats: pstats.Stats) -> None:
    """One Markdown table: each phase's share of the request time, and per request."""
    seconds = time_by_phase(stats)
    requests = max(1, requests_served(stats))
    busy = sum(value for phase, value in seconds.items() if phase in PHASES)
    print(f"{requests:,} requests; {busy:.2f} s busy, {seconds.get(WAIT, 0):.2f} s in "
          "epoll/select (idle, or waiting for a core)\n")  # fmt: skip
    print("| phase | what | share | µs per request |")
    print("| --- | --- | --- | --- |")
    for phase, what in PHASES.items():
        value = seconds.get(phase, 0.0)
        print(
            f"| {phase} | {what} | {value / busy:.0%} | {value / requests * 1e6:.0f} |"
        )
    other = sum(
        value for phase, value in seconds.items() if phase not in {*PHASES, WAIT}
    )
    if other:
        print(f"| (other) | not attributed | {other / busy:.0%} | |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=0, help="also the top N functions")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="minigun-profile-") as tmp:
        stats = profile(options.seconds, Path(tmp))
        print_phases(stats)
        if options.top:
            stats.strip_dirs().sort_stats("tottime").print_stats(options.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
