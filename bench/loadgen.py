"""Load generators: ``wrk`` when installed, a small threaded Python client otherwise.

Both keep connections alive where the server allows it (HTTP/1.1) and report the
same :class:`LoadResult`. The Python client is much slower than ``wrk`` (the GIL,
http.client), so its absolute numbers are low; the ratio between two servers loaded
by it in the same run is still meaningful.
"""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass

WRK_THREADS = 1
WRK_TIMEOUT = 5.0  # seconds; a response slower than this counts as a timeout
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
PERCENT_99 = 99


@dataclass(frozen=True)
class LoadResult:
    """One load run: throughput, latency percentiles, failed requests."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int = 0  # responses slower than the client's timeout (part of errors)


def wrk_load(
    url: str, seconds: float, connections: int, timeout: float = WRK_TIMEOUT
) -> LoadResult:
    """Run ``wrk`` for ``seconds``; errors are socket errors plus non-2xx answers.

    wrk counts a timeout when a response finally arrives later than ``timeout``
    after its request was written (a client still waiting when the run ends is
    not counted at all).
    """
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={timeout:g}s",
        "--latency",
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> LoadResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {
        int(percent): float(value) * UNITS_MS[unit]
        for percent, value, unit in re.findall(
            r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE
        )
    }
    errors = sum(
        int(count)
        for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    timeouts = re.search(r"timeout (\d+)", output)
    return LoadResult(
        rps,
        percentiles[50],
        percentiles[PERCENT_99],
        errors,
        int(timeouts.group(1)) if timeouts else 0,
    )


def python_load(url: str, seconds: float, connections: int) -> LoadResult:
    """``connections`` threads, each requesting on one kept-alive connection."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    target = (parts.hostname, parts.port, parts.path or "/")
    threads = [
        threading.Thread(target=_client_loop, args=(target, deadline, lat, errors, i))
        for i, lat in enumerate(latencies)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    samples = sorted(ms for per_thread in latencies for ms in per_thread)
    if not samples:
        return LoadResult(0.0, 0.0, 0.0, sum(errors))
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return LoadResult(
        len(samples) / elapsed, statistics.median(samples), p99, sum(errors)
    )


def _client_loop(target, deadline, latencies, errors, index) -> None:
    host, port, path = target
    conn = http.client.HTTPConnection(host, port, timeout=5)
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors[index] += 1
                continue
        except (OSError, http.client.HTTPException):
            errors[index] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=5)
            continue
        latencies.append((time.monotonic() - started) * 1000)
    conn.close()
