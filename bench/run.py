"""minigun beside gunicorn and the ceiling: same applications, same workers, same run.

Usage (``make bench`` runs it)::

    .venv/bin/python bench/run.py [--rounds 5] [--seconds 2] [--connections 16]
        [--setup NAME] [--rows all|standard|load|start] [--no-ceiling]

It installs gunicorn into its own virtualenv (``bench/.venv``) and minigun's
dependencies into another (``bench/.venv-minigun``: minigun itself runs from the
checkout, compiled to bytecode as pip would compile an installed copy). Then for
each worker set-up (sync with 2 workers; gthread with 2 workers of 4 threads; asgi
with 2 workers, minigun's beside gunicorn's own ASGI worker) and each application
(``hello``; ``sleep50``, which sleeps 50 ms; their ASGI twins for asgi) it starts
both servers on 127.0.0.1 and loads them in turns, minigun then gunicorn, round
after round: the
machine is shared, and interleaving keeps the ratio fair when its load changes.
With ``hello`` a third server takes its turns too: ``bench/ceiling.py``, the
smallest pre-fork server Python can be, so the table says how close each comes to
what Python allows on the machine. The load comes from ``wrk`` if it is installed,
from a small Python client if not.

It prints one Markdown table: requests per second (median of the rounds, with
min-max) and its share of the ceiling's, p50 and p99 latency, errors, the time from
start to the first 200 and the workers' resident memory at that moment (medians of
``--rounds`` starts, in turns), resident memory per worker after the load, and the
requests lost while the master is sent ``HUP`` under load; each minigun figure
beside gunicorn's, with the ratio, and the ceiling's in the last column. Then two
rows under load: 2,000 kept-alive clients on 2 gthread workers of 8 threads (wrk
only; how many responses came later than 2 s, per round), and 20 kept-alive clients
of the 50 ms application on 2 workers of 4 threads (requests per second in every
round: each round opens its connections anew, and how they land on the workers
decides the round). ``--rows load`` measures only those, ``--rows start`` only the
start-up and memory at start.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench.loadgen`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import LoadResult, python_load, wrk_load

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / "bench" / ".venv"
MINIGUN_VENV = ROOT / "bench" / ".venv-minigun"
MINIGUN_IMPORTS = ("setproctitle",)  # what pyproject.toml's dependencies provide
GUNICORN_VERSION = "gunicorn==27.0.1"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
WARMUP_SECONDS = 1.0
HUP_LOAD_SECONDS = 5.0
HUP_AFTER_SECONDS = 1.5

SETUPS = {
    "sync, 2 workers": ("--workers", "2", "--worker-class", "sync"),
    "gthread, 2 workers x 4 threads": (
        "--workers",
        "2",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
    ),
    "asgi, 2 workers": ("--workers", "2", "--worker-class", "asgi"),
}
APPS = {"hello": "bench.apps:hello", "sleep 50 ms": "bench.apps:sleep50"}
# The same two applications in ASGI, for the asgi set-up: minigun's worker beside
# gunicorn's own (``gunicorn -k asgi``, gunicorn >= 24).
ASGI_APPS = {
    "hello": "bench.asgi_apps:asgi_hello",
    "sleep 50 ms": "bench.asgi_apps:asgi_sleep50",
}
# The rows under load: 2,000 kept-alive clients on 2 x 8 threads, and how 20
# kept-alive clients of the 50 ms app spread over 2 x 4 threads (ideal: 8 threads
# x 20 requests/s = 160 requests/s).
MANY_LABEL = "gthread, 2 workers x 8 threads"
MANY_SETUP = ("--workers", "2", "--worker-class", "gthread", "--threads", "8")
MANY_TIMEOUT = 2.0  # seconds; wrk's own default
MANY_SECONDS = 5.0
MANY_ROUNDS = 3
OPEN_FILES_SPARE = 256  # descriptors beyond one per client: listeners, logs, pipes
SPREAD_SETUP = SETUPS["gthread, 2 workers x 4 threads"]
SPREAD_CLIENTS = 20
SPREAD_IDEAL_RPS = 160.0
SERVERS = ("minigun", "gunicorn")
CEILING = "ceiling"  # bench/ceiling.py: the smallest pre-fork server, for hello only
CEILING_SCRIPT = ROOT / "bench" / "ceiling.py"
# /proc/PID/stat after the command's closing parenthesis: utime and stime, in ticks.
STAT_UTIME, STAT_STIME = 11, 12


# Servers.


@dataclass
class Server:
    """One running master, its port, and how long it took to answer first."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    startup: float

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def ensure_venv(venv: Path, requirements: list[str], probe: str) -> Path:
    """A virtualenv made once; ``requirements`` installed while ``probe`` fails.
    Returns its python."""
    python = venv / "bin" / "python"
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    checked = subprocess.run(
        [str(python), "-c", probe], capture_output=True, check=False
    )
    if checked.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *requirements],
            check=True,
        )
    return python


def ensure_gunicorn() -> Path:
    """bench/.venv with the pinned gunicorn."""
    wanted = GUNICORN_VERSION.split("==")[1]
    has_wanted = f"import gunicorn, sys; sys.exit(gunicorn.__version__ != {wanted!r})"
    return ensure_venv(BENCH_VENV, [GUNICORN_VERSION], has_wanted)


def ensure_minigun() -> Path:
    """bench/.venv-minigun with minigun's dependencies, and not minigun itself.

    The servers run with the checkout as their working directory, so ``python -m
    minigun`` imports the checkout's code. The development .venv would do too, but
    its editable install adds a finder that every interpreter runs at start-up
    (pathlib, urllib.parse, re: about 30 ms on the machine of the latest run), which
    an installed minigun does not pay and gunicorn's plain virtualenv does not either.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"]
    probe = "; ".join(f"import {name}" for name in MINIGUN_IMPORTS)
    python = ensure_venv(MINIGUN_VENV, requirements, probe)
    compile_bytecode(python)
    return python


def compile_bytecode(python: Path) -> None:
    """Compile the checkout's modules, as pip compiles gunicorn's when it installs it.

    Otherwise, where ``PYTHONDONTWRITEBYTECODE`` is set, every start of minigun
    compiles its sources again (about 35 ms on the machine of the latest run) and
    gunicorn's start does not. The virtualenvs inside ``bench/`` are left out: pip
    compiled what it installed there.
    """
    subprocess.run(
        [str(python), "-m", "compileall", "-q", "-x", r"\.venv", "minigun", "bench"],
        cwd=ROOT,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(
    name: str, python: Path, setup: tuple[str, ...], app: str, port: int
) -> list[str]:
    """The command that starts one server on 127.0.0.1:``port``."""
    bind = ("--bind", f"127.0.0.1:{port}")
    if name == CEILING:
        return [str(python), str(CEILING_SCRIPT), *bind, *ceiling_setup(setup)]
    module = "minigun" if name == "minigun" else "gunicorn"
    return [str(python), "-m", module, *bind, *setup, app]


def ceiling_setup(setup: tuple[str, ...]) -> tuple[str, ...]:
    """The ceiling's arguments for a worker set-up: as many processes; kept-alive
    connections where the workers are threaded, as gthread keeps them."""
    workers = setup[setup.index("--workers") + 1]
    keep_alive = ("--keep-alive",) if "gthread" in setup else ()
    return ("--workers", workers, *keep_alive)


@contextmanager
def running(name: str, python: Path, setup: tuple[str, ...], app: str, logdir: Path):
    """Start a server, wait for its first 200, and always stop it."""
    port = free_port()
    command = server_command(name, python, setup, app, port)
    log = (logdir / f"{name}.log").open("ab")
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_first_200(f"http://127.0.0.1:{port}/", proc)
        yield Server(name, proc, port, time.monotonic() - started)
    finally:
        stop(proc)
        log.close()


def wait_first_200(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"no 200 from {url} within {START_TIMEOUT}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """TERM the master (it stops its workers); KILL it if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


def workers_cpu_seconds(server: Server) -> float:
    """The CPU time (user and system) the server's workers have used so far.

    Per request, it is the measure the shared machine disturbs least: a round
    that loses the cores to other jobs serves fewer requests a second, but each
    request still costs the worker about the same CPU time.
    """
    ticks = 0
    for pid in server.worker_pids():
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(stat[STAT_UTIME]) + int(stat[STAT_STIME])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_per_worker_mib(server: Server) -> float:
    """The mean resident set size of the server's workers."""
    sizes = []
    for pid in server.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return statistics.mean(sizes) if sizes else float("nan")


# Measuring.


@dataclass
class Measured:
    """Everything measured for one server in one set-up and application."""

    rounds: list[LoadResult]
    startup: float
    rss_mib: float
    hup_lost: int | None = None
    cpu_us: list[float] = field(default_factory=list)  # per request, each round

    @property
    def rps(self) -> list[float]:
        return [result.rps for result in self.rounds]


LOADS = {"wrk": wrk_load, "python": python_load}


def default_load() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def choose_load(name: str | None = None) -> Callable[[str, float, int], LoadResult]:
    return LOADS[name or default_load()]


def measure_pair(setup, app, options, pythons, logdir) -> dict[str, Measured]:
    """Both servers (and, for hello, the ceiling) up at once, loaded in turns."""
    plan = LoadPlan(
        choose_load(options.load), options.seconds, options.connections, options.rounds
    )
    names = SERVERS
    if app == APPS["hello"] and not options.no_ceiling:
        names = (*SERVERS, CEILING)
    return measure_plan(setup, app, plan, pythons, logdir, names)


@dataclass(frozen=True)
class LoadPlan:
    """How to load a pair: which client, how long a round, how many clients."""

    load: Callable[[str, float, int], LoadResult]
    seconds: float
    connections: int
    rounds: int


def measure_plan(
    setup, app, plan: LoadPlan, pythons, logdir, names=SERVERS
) -> dict[str, Measured]:
    """The servers up at once, loaded in turns; every round opens new connections."""
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(running(name, pythons[name], setup, app, logdir))
            for name in names
        }
        for server in servers.values():
            plan.load(server.url(), WARMUP_SECONDS, plan.connections)
        measured = {
            name: Measured([], server.startup, 0.0) for name, server in servers.items()
        }
        for _ in range(plan.rounds):
            for name, server in servers.items():
                load_round(server, plan, measured[name])
        for name, server in servers.items():
            measured[name].rss_mib = rss_per_worker_mib(server)
        return measured


def load_round(server: Server, plan: LoadPlan, measured: Measured) -> None:
    """One round of load on ``server``: its result, and its workers' CPU time per
    request (the requests counted as the client's rate times the round's length)."""
    cpu_before = workers_cpu_seconds(server)
    result = plan.load(server.url(), plan.seconds, plan.connections)
    requests = result.rps * plan.seconds
    measured.rounds.append(result)
    if requests:
        cpu = workers_cpu_seconds(server) - cpu_before
        measured.cpu_us.append(cpu / requests * 1e6)


@dataclass
class Started:
    """Start-up rounds of one server: seconds to the first 200, and its workers'
    resident memory at that moment (before any load)."""

    seconds: list[float]
    rss_mib: list[float]


def measure_startups(setup, options, pythons, logdir) -> dict[str, Started]:
    """Start each server ``--rounds`` times, in turns, and stop it after its first 200.

    One start is a poor sample on a shared machine; the median of several, taken in
    turns like the load rounds, is what the table shows.
    """
    hello = apps_for(setup)["hello"]
    no_ceiling = options.no_ceiling or hello != APPS["hello"]  # the ceiling is WSGI
    names = SERVERS if no_ceiling else (*SERVERS, CEILING)
    started = {name: Started([], []) for name in names}
    for _ in range(options.rounds):
        for name in names:
            with running(name, pythons[name], setup, hello, logdir) as server:
                wait_for_workers(server, setup)
                started[name].seconds.append(server.startup)
                started[name].rss_mib.append(rss_per_worker_mib(server))
    return started


def wait_for_workers(server: Server, setup: tuple[str, ...]) -> None:
    """Until every worker is forked: the first 200 may come from the first of them."""
    wanted = int(setup[setup.index("--workers") + 1])
    deadline = time.monotonic() + START_TIMEOUT
    while len(server.worker_pids()) < wanted and time.monotonic() < deadline:
        time.sleep(0.01)


def measure_many_clients(options, pythons, logdir) -> dict[str, Measured] | None:
    """``--many-clients`` kept-alive clients (wrk only: one thread each would swamp
    the Python client); wrk counts a response later than ``MANY_TIMEOUT`` s."""
    if options.load != "wrk":
        return None
    raise_open_files_limit(options.many_clients + OPEN_FILES_SPARE)
    load = functools.partial(wrk_load, timeout=MANY_TIMEOUT)
    plan = LoadPlan(load, MANY_SECONDS, options.many_clients, MANY_ROUNDS)
    return measure_plan(MANY_SETUP, APPS["hello"], plan, pythons, logdir)


def raise_open_files_limit(wanted: int) -> None:
    """Each client is a descriptor in wrk and one in a worker; the servers and wrk
    inherit the limit from this process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def measure_spread(options, pythons, logdir) -> dict[str, Measured]:
    """The 50 ms app with ``SPREAD_CLIENTS`` kept-alive clients: every round opens
    them anew, so every round is a new chance for them to land unevenly."""
    plan = LoadPlan(
        choose_load(options.load), options.seconds, SPREAD_CLIENTS, options.rounds
    )
    return measure_plan(SPREAD_SETUP, APPS["sleep 50 ms"], plan, pythons, logdir)


def apps_for(setup: tuple[str, ...]) -> dict[str, str]:
    """The applications a set-up serves: WSGI, or ASGI for the asgi worker."""
    return ASGI_APPS if "asgi" in setup else APPS


def measure_hup(setup, options, pythons, logdir) -> dict[str, int]:
    """Requests lost while the master reloads its workers (HUP) under load."""
    lost = {}
    hello = apps_for(setup)["hello"]
    for name in SERVERS:
        with running(name, pythons[name], setup, hello, logdir) as server:
            lost[name] = hup_under_load(server, options)
    return lost


def hup_under_load(server: Server, options: argparse.Namespace) -> int:
    load = choose_load(options.load)
    seconds, connections = HUP_LOAD_SECONDS, options.connections
    with background(load, server.url(), seconds, connections) as result:
        time.sleep(HUP_AFTER_SECONDS)
        server.proc.send_signal(signal.SIGHUP)
    return result[0].errors


@contextmanager
def background(load, url: str, seconds: float, connections: int) -> Iterator[list]:
    """Run a load in a thread; the list holds its result after the block."""
    import threading

    result: list[LoadResult] = []
    thread = threading.Thread(
        target=lambda: result.append(load(url, seconds, connections))
    )
    thread.start()
    try:
        yield result
    finally:
        thread.join()


# The table.


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def rps_cell(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def rows_for(label: str, app: str, pair: dict[str, Measured]) -> Iterator[str]:
    ours, theirs = pair["minigun"], pair["gunicorn"]
    ceiling = pair.get(CEILING)
    med = {name: statistics.median(measured.rps) for name, measured in pair.items()}

    def p(name: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in pair[name].rounds)

    def errors(measured: Measured) -> int:
        return sum(r.errors for r in measured.rounds)

    yield row(label, app, "requests/s, median (min-max)", rps_cell(ours.rps),
              rps_cell(theirs.rps), ratio(med["minigun"], med["gunicorn"]),
              rps_cell(ceiling.rps) if ceiling else "")  # fmt: skip
    if ceiling:
        share = {name: f"{med[name] / med[CEILING]:.2f}" for name in SERVERS}
        yield row(label, app, "share of the ceiling's requests/s", share["minigun"],
                  share["gunicorn"], "", "1")  # fmt: skip
    for attr, title in (("p50_ms", "p50 latency, ms"), ("p99_ms", "p99 latency, ms")):
        mine, yours = p("minigun", attr), p("gunicorn", attr)
        floor = f"{p(CEILING, attr):.2f}" if ceiling else ""
        yield row(label, app, title, f"{mine:.2f}", f"{yours:.2f}", ratio(mine, yours),
                  floor)  # fmt: skip
    yield row(label, app, "errors", str(errors(ours)), str(errors(theirs)), "",
              str(errors(ceiling)) if ceiling else "")  # fmt: skip
    cpu = {name: statistics.median(m.cpu_us or [0.0]) for name, m in pair.items()}
    yield row(label, app, "workers' CPU time per request, µs, median",
              f"{cpu['minigun']:.0f}", f"{cpu['gunicorn']:.0f}",
              ratio(cpu["minigun"], cpu["gunicorn"]),
              f"{cpu[CEILING]:.0f}" if ceiling else "")  # fmt: skip


def start_rows(label: str, started: dict[str, Started], memory) -> Iterator[str]:
    """Start-up (medians of the start rounds) and memory, beside the ceiling's."""
    ceiling = started.get(CEILING)

    def median_cells(attr: str, form: str) -> tuple[str, ...]:
        mine, yours = (statistics.median(getattr(started[n], attr)) for n in SERVERS)
        floor = (
            form.format(statistics.median(getattr(ceiling, attr))) if ceiling else ""
        )
        return form.format(mine), form.format(yours), ratio(mine, yours), floor

    yield row(label, "hello", "start to first 200, s, median",
              *median_cells("seconds", "{:.2f}"))  # fmt: skip
    yield row(label, "hello", "RSS per worker at start, MiB, median",
              *median_cells("rss_mib", "{:.1f}"))  # fmt: skip
    if not memory:  # --rows start: no load was run
        return
    mine, yours = memory["minigun"], memory["gunicorn"]
    floor = f"{memory[CEILING]:.1f}" if CEILING in memory else ""
    yield row(label, "hello", "RSS per worker after the load, MiB", f"{mine:.1f}",
              f"{yours:.1f}", ratio(mine, yours), floor)  # fmt: skip


COLUMNS = ("set-up", "app", "measure", "minigun", "gunicorn", "ratio", "ceiling")


def row(*cells: str) -> str:
    """One Markdown table row; cells left out at the end are empty."""
    padded = [*cells, *[""] * (len(COLUMNS) - len(cells))]
    return "| " + " | ".join(padded) + " |"


def print_table(options, results, startups, memory, hup, under_load) -> None:
    print(machine_line(options))
    print()
    print(row(*COLUMNS))
    print(row(*["---"] * len(COLUMNS)))
    for label in results_setups(results):
        for app in APPS:
            for line in rows_for(label, app, results[label, app]):
                print(line)
        for line in start_rows(label, startups[label], memory[label]):
            print(line)
        lost = hup[label]
        print(row(label, "hello", "requests lost on HUP under load",
                  str(lost["minigun"]), str(lost["gunicorn"]), ""))  # fmt: skip
    if under_load is not None:
        print_load_rows(options, *under_load)
        print()
        print(load_rows_line(options))


def print_load_rows(options, many, spread) -> None:
    """The rows under load: timed-out responses with many clients, and the spread."""
    label = f"{MANY_LABEL}, {options.many_clients:,} clients"
    if many is None:
        print(row(label, "hello", "timed out (needs wrk)", "-", "-", ""))
    else:
        for line in many_rows(label, many):
            print(line)
    label = f"gthread, 2 workers x 4 threads, {SPREAD_CLIENTS} clients"
    for line in spread_rows(label, spread):
        print(line)


def many_rows(label: str, many: dict[str, Measured]) -> Iterator[str]:
    ours, theirs = many["minigun"], many["gunicorn"]
    med = {name: statistics.median(many[name].rps) for name in SERVERS}
    yield row(label, "hello", "requests/s, median (min-max)", rps_cell(ours.rps),
              rps_cell(theirs.rps), ratio(med["minigun"], med["gunicorn"]))  # fmt: skip
    timed_out = f"timed out (> {MANY_TIMEOUT:g} s), per round"
    for attr, title in (("timeouts", timed_out), ("other_errors", "other errors")):
        mine, yours = per_round(ours, attr), per_round(theirs, attr)
        yield row(label, "hello", title, mine, yours, "")


def spread_rows(label: str, spread: dict[str, Measured]) -> Iterator[str]:
    ours, theirs = spread["minigun"], spread["gunicorn"]
    yield row(label, "sleep 50 ms", "requests/s per round",
              " ".join(f"{rps:.0f}" for rps in ours.rps),
              " ".join(f"{rps:.0f}" for rps in theirs.rps), "")  # fmt: skip
    yield row(label, "sleep 50 ms", f"worst round / ideal {SPREAD_IDEAL_RPS:.0f}",
              f"{min(ours.rps) / SPREAD_IDEAL_RPS:.2f}",
              f"{min(theirs.rps) / SPREAD_IDEAL_RPS:.2f}", "")  # fmt: skip


def per_round(measured: Measured, attr: str) -> str:
    def count(result: LoadResult) -> int:
        if attr == "timeouts":
            return result.timeouts
        return result.errors - result.timeouts

    return " ".join(str(count(result)) for result in measured.rounds)


def results_setups(results) -> list[str]:
    return [label for label in SETUPS if (label, "hello") in results]


def machine_line(options) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = {"wrk": "wrk", "python": "the Python client"}[options.load]
    start = options.load_average_at_start  # `uptime`'s first figure
    return (
        f"Machine: nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
        f"{GUNICORN_VERSION.replace('==', ' ')}; load: {load}, "
        f"{options.connections} connections, {options.rounds} rounds x "
        f"{options.seconds:g} s, interleaved; load average {start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end."
    )


def load_rows_line(options) -> str:
    return (
        f"Rows under load: {options.many_clients:,} clients, {MANY_ROUNDS} rounds x "
        f"{MANY_SECONDS:g} s, wrk --timeout {MANY_TIMEOUT:g}s; {SPREAD_CLIENTS} "
        f"clients, {options.rounds} rounds x {options.seconds:g} s; every round "
        "opens its connections anew."
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--setup", choices=sorted(SETUPS), action="append")
    parser.add_argument("--load", choices=sorted(LOADS), default=default_load())
    parser.add_argument("--many-clients", type=int, default=2000)
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="leave out bench/ceiling.py, the smallest pre-fork server",
    )
    parser.add_argument(
        "--rows",
        choices=("all", "standard", "load", "start"),
        default="all",
        help="'load': only the rows under load; 'standard': all but those; "
        "'start': only start-up and memory at start",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    options.load_average_at_start = os.getloadavg()[0]
    pythons = {"minigun": ensure_minigun(), "gunicorn": ensure_gunicorn()}
    pythons[CEILING] = pythons["minigun"]  # the same interpreter, without minigun
    with tempfile.TemporaryDirectory(prefix="minigun-bench-") as tmp:
        logdir = Path(tmp)
        if options.rows == "start":
            print_start_table(options, measure_start_only(options, pythons, logdir))
            return 0
        standard = ({}, {}, {}, {})
        if options.rows != "load":
            standard = measure_standard(options, pythons, logdir)
        under_load = None
        if options.rows != "standard":
            under_load = measure_under_load(options, pythons, logdir)
    print_table(options, *standard, under_load)
    return 0


def measure_standard(options, pythons, logdir) -> tuple[dict, dict, dict, dict]:
    """Each set-up with each application, then its start-up, memory and HUP."""
    results, startups, memory, hup = {}, {}, {}, {}
    for label in options.setup or SETUPS:
        setup = SETUPS[label]
        for app_label, app in apps_for(setup).items():
            print(f"measuring {label}, {app_label} ...", file=sys.stderr)
            results[label, app_label] = measure_pair(
                setup, app, options, pythons, logdir
            )
        hello = results[label, "hello"]
        memory[label] = {name: measured.rss_mib for name, measured in hello.items()}
        print(f"start-up, {label} ...", file=sys.stderr)
        startups[label] = measure_startups(setup, options, pythons, logdir)
        print(f"HUP under load, {label} ...", file=sys.stderr)
        hup[label] = measure_hup(setup, options, pythons, logdir)
    return results, startups, memory, hup


def measure_start_only(options, pythons, logdir) -> dict[str, dict[str, Started]]:
    """``--rows start``: only the start-up rounds, for each set-up."""
    startups = {}
    for label in options.setup or SETUPS:
        print(f"start-up, {label} ...", file=sys.stderr)
        startups[label] = measure_startups(SETUPS[label], options, pythons, logdir)
    return startups


def print_start_table(options, startups: dict[str, dict[str, Started]]) -> None:
    print(machine_line(options))
    print()
    print(row(*COLUMNS))
    print(row(*["---"] * len(COLUMNS)))
    for label, started in startups.items():
        for line in start_rows(label, started, {}):
            print(line)


def measure_under_load(options, pythons, logdir) -> tuple:
    """The two rows under load: many kept-alive clients, and their spread."""
    print(f"{options.many_clients:,} kept-alive clients ...", file=sys.stderr)
    many = measure_many_clients(options, pythons, logdir)
    print(f"{SPREAD_CLIENTS} kept-alive clients, 50 ms app ...", file=sys.stderr)
    return many, measure_spread(options, pythons, logdir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
