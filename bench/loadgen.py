"""Closed-loop HTTP load with wrk: N keep-alive connections, each sending its next
request as soon as the previous answer arrived (N concurrent clients).

wrk is written in C on epoll; one wrk thread drives tens of thousands of requests
per second, so on a small machine it takes far less CPU than the server it
measures. Its own CPU time is reported next to the server's so that claim is
checked in every run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk" / "scenario.lua"
MARKER = "BENCH-RESULT "


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_us: float
    p99_us: float
    client_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(install: bool) -> str:
    """Path to wrk; installs Debian's package with apt-get when allowed and missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if not install:
        sys.exit("wrk is not installed: apt-get install wrk (or run with --install-wrk)")
    print("wrk is not installed; installing it with apt-get (Debian package 'wrk')...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("apt-get finished but wrk is still not on PATH")
    return found


def run_wrk(
    wrk: str,
    url: str,
    *,
    connections: int,
    seconds: float,
    token: str = "",
    body: str | None = None,
    threads: int = 1,
) -> LoadResult:
    """Drive ``url`` with ``connections`` keep-alive connections for ``seconds``.

    With ``body`` every request is a POST of it to a distinct path under ``url``;
    without, every request is a GET of ``url``. ``threads`` wrk threads share the
    connections (at most one per connection). Raises RuntimeError if wrk fails.
    """
    argv = [
        wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(SCRIPT), url, "--", token,
    ]
    if body is not None:
        argv.append(body)
    env = {**os.environ, "BENCH_MODE": "write" if body is not None else "read"}
    before = _reaped_children_cpu()
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout, stderr = process.communicate()
    # communicate() reaped wrk, and no other child is reaped meanwhile (servers are
    # stopped between runs), so the rusage delta is wrk's own CPU time.
    client_cpu = _reaped_children_cpu() - before
    if process.returncode != 0 or MARKER not in stdout.decode():
        raise RuntimeError(f"wrk failed ({process.returncode}) after {time.monotonic() - started:.1f}s: "
                           f"{stderr.decode().strip() or stdout.decode().strip()}")
    line = next(x for x in stdout.decode().splitlines() if x.startswith(MARKER))
    raw = json.loads(line[len(MARKER):])
    errors = sum(raw["errors"].values())
    return LoadResult(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        errors=int(errors),
        p50_us=float(raw["latency_us"]["p50"]),
        p99_us=float(raw["latency_us"]["p99"]),
        client_cpu_seconds=client_cpu,
    )


def _reaped_children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system
