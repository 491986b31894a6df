"""Strongroom's HTTP benchmark: the real server next to the bare-framework ceiling, in one run.

    .venv/bin/python bench/run.py [--duration S] [--quick] [--rounds R] [--workers N]
                                  [--wrk-threads T] [--dir DIR] [--install-wrk] [--json FILE]

Measures, on one machine and in one run (so the ratios hold even when absolute
figures drift):

* hello: a hello-world ASGI app on the same uvicorn/httptools/uvloop stack and
  process model (``bench/hello_server.py``), at 1, 16 and 64 clients;
* kv read: KV v2 read of one secret with a non-root token whose policy grants
  read (token lookup + ACL + decrypt), at 1, 16 and 64 clients;
* kv write: KV v2 writes of distinct secrets with the same token, SQLite with
  durable commits (WAL, synchronous=FULL), at 1, 16 and 64 clients;
* the kv read and the hello app at 64 clients again with one worker;
* single durable SQLite inserts (one INSERT + COMMIT each, one writer), measured
  here with the loop from ``bench/storage_sqlite.py``.

All servers start up front (idle ones cost nothing) and the two sides of every
target ratio run back to back, so a neighbour's load on a shared machine hits
both alike. Load comes from wrk (one thread, N keep-alive connections = N
clients, closed loop). The server's CPU time per request is read from /proc
(supervisor plus workers), wrk's own beside it, and the CPU that anything else
on the machine used meanwhile is shown as "other".

The real server runs from a config file with SQLite storage, no audit device and
``log_level = "warn"``. DIR must be on the disk you want to measure (default: a
fresh directory under the current one). Exit status 0 when every target passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procstat
import servers
from loadgen import LoadResult, ensure_wrk, run_wrk
from storage_sqlite import PUT, VALUE, connect

CLIENTS = (1, 16, 64)
WRITE_BODY = json.dumps({"data": {"username": "bench", "password": "x" * 64, "port": "5432"}})


@dataclass(frozen=True)
class Row:
    scenario: str
    workers: int
    clients: int
    rate: float
    p50_us: float
    p99_us: float
    server_cpu_us: float
    client_cpu_us: float
    other_cores: float
    errors: int

    @property
    def tail(self) -> float:
        return self.p99_us / self.p50_us if self.p50_us else float("inf")


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    goal: str
    passed: bool


def measure(name: str, workers: int, clients: int, pid: int, load: Callable[[], LoadResult]) -> Row:
    """Run ``load`` once and charge the server tree's CPU time (``pid`` and descendants) to it."""
    cpu_before, machine_before = procstat.tree_cpu_seconds(pid), procstat.machine_busy_seconds()
    result = load()
    cpu = procstat.tree_cpu_seconds(pid) - cpu_before
    machine = procstat.machine_busy_seconds() - machine_before
    requests = max(result.requests, 1)
    row = Row(
        scenario=name,
        workers=workers,
        clients=clients,
        rate=result.rate,
        p50_us=result.p50_us,
        p99_us=result.p99_us,
        server_cpu_us=cpu / requests * 1e6,
        client_cpu_us=result.client_cpu_seconds / requests * 1e6,
        other_cores=max(0.0, machine - cpu - result.client_cpu_seconds) / result.seconds,
        errors=result.errors,
    )
    print(f"  {_format_row(row)}", flush=True)
    return row


def sqlite_single(workdir: Path, seconds: float) -> Row:
    """One writer, one INSERT + COMMIT per row, WAL + synchronous=FULL, 1 KiB values."""
    conn = connect(workdir / "single.db")
    latencies: list[float] = []
    started = time.perf_counter()
    cpu_before, machine_before = time.process_time(), procstat.machine_busy_seconds()
    n = 0
    while time.perf_counter() - started < seconds:
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(PUT, (f"single/{n}", VALUE))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - began)
        n += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    machine = procstat.machine_busy_seconds() - machine_before
    conn.close()
    latencies.sort()
    row = Row(
        scenario="sqlite single insert",
        workers=0,
        clients=1,
        rate=n / elapsed,
        p50_us=latencies[len(latencies) // 2] * 1e6,
        p99_us=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e6,
        server_cpu_us=cpu / n * 1e6,
        client_cpu_us=0.0,
        other_cores=max(0.0, machine - cpu) / elapsed,
        errors=0,
    )
    print(f"  {_format_row(row)}", flush=True)
    return row


def run_round(args: argparse.Namespace, wrk: str, workdir: Path, live: Servers) -> list[Row]:
    """One pass over every scenario. The two sides of each target ratio run back
    to back, so a neighbour's load on a shared machine hits both alike."""
    seconds = args.duration
    clients = (1, 64) if args.quick else CLIENTS
    rows: list[Row] = []

    def scenario(name: str, server: servers.Running, path: str, clients: int, body: str | None = None) -> None:
        token = "" if name == "hello" else live.token
        load = partial(run_wrk, wrk, server.address + path, connections=clients, seconds=seconds,
                       token=token, body=body, threads=args.wrk_threads)
        rows.append(measure(name, server.workers, clients, server.pid, load))

    read_path = f"/v1/{servers.READ_PATH}"
    for n in clients:
        scenario("hello", live.hello, "/", n)
        scenario("kv read", live.strongroom, read_path, n)
    if live.strongroom_one is not None and live.hello_one is not None:
        scenario("kv read", live.strongroom_one, read_path, 64)
        scenario("hello", live.hello_one, "/", 64)
    print("  (single durable SQLite inserts, then KV writes)")
    rows.append(sqlite_single(workdir, seconds))
    for n in sorted({*clients, 16}, key=lambda n: (n != 16, n)):
        scenario("kv write", live.strongroom, f"/v1/{servers.WRITE_PREFIX}", n, WRITE_BODY)
    return rows


@dataclass
class Servers:
    """Every server of the run, all started up front (an idle server costs no CPU)."""

    hello: servers.Running
    strongroom: servers.Running
    token: str
    hello_one: servers.Running | None = None
    strongroom_one: servers.Running | None = None


def run_all(args: argparse.Namespace, wrk: str, workdir: Path) -> list[Row]:
    workers = args.workers
    with contextlib.ExitStack() as stack:
        print(f"starting: hello world and strongroom (SQLite) with {workers} worker(s)"
              + ("" if workers == 1 else ", and both again with 1 worker (same store)"))
        hello = stack.enter_context(servers.hello_server(workdir, workers))
        strongroom = stack.enter_context(servers.strongroom_server(workdir, workers))
        setup = servers.prepare_kv(strongroom.address)
        live = Servers(hello, strongroom, setup.token)
        if workers != 1:
            live.hello_one = stack.enter_context(servers.hello_server(workdir, 1))
            live.strongroom_one = stack.enter_context(servers.strongroom_server(workdir, 1))
            servers.unseal(live.strongroom_one.address, setup.unseal_key)
        for server, path in ((live.hello, "/"), (live.hello_one, "/"), (live.strongroom, f"/v1/{servers.READ_PATH}"),
                             (live.strongroom_one, f"/v1/{servers.READ_PATH}")):
            if server is not None:
                token = "" if path == "/" else setup.token
                run_wrk(wrk, server.address + path, connections=64, seconds=args.warmup, token=token)
        rows: list[Row] = []
        for index in range(args.rounds):
            print(f"round {index + 1} of {args.rounds}" if args.rounds > 1 else "measuring")
            rows += run_round(args, wrk, workdir, live)
    return median_rows(rows)


def median_rows(rows: list[Row]) -> list[Row]:
    """One row per scenario, each column the median over the rounds, in a fixed order."""
    groups: dict[tuple[str, int, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.workers, row.clients), []).append(row)
    order = {"sqlite single insert": 0, "hello": 1, "kv read": 2, "kv write": 3}
    merged = []
    for key in sorted(groups, key=lambda k: (order[k[0]], -k[1], k[2])):
        group = groups[key]
        merged.append(Row(
            *key,
            rate=statistics.median(r.rate for r in group),
            p50_us=statistics.median(r.p50_us for r in group),
            p99_us=statistics.median(r.p99_us for r in group),
            server_cpu_us=statistics.median(r.server_cpu_us for r in group),
            client_cpu_us=statistics.median(r.client_cpu_us for r in group),
            other_cores=statistics.median(r.other_cores for r in group),
            errors=sum(r.errors for r in group),
        ))
    return merged


def _find(rows: list[Row], scenario: str, workers: int, clients: int) -> Row | None:
    return next((r for r in rows if (r.scenario, r.workers, r.clients) == (scenario, workers, clients)), None)


def targets(rows: list[Row], workers: int) -> Iterator[Target]:
    """The four targets of the issue, as same-run ratios."""
    hello = _find(rows, "hello", workers, 64)
    read = _find(rows, "kv read", workers, 64)
    read_one = _find(rows, "kv read", 1, 64)
    write16 = _find(rows, "kv write", workers, 16)
    write64 = _find(rows, "kv write", workers, 64)
    single = _find(rows, "sqlite single insert", 0, 1)
    if hello and read:
        ratio = read.rate / hello.rate
        yield Target(f"kv read @64 / hello @64 ({workers} workers), req/s", ratio, ">= 0.35", ratio >= 0.35)
    if read and read_one and workers != 1:
        ratio = read.rate / read_one.rate
        yield Target(f"kv read @64, {workers} workers / 1 worker, req/s", ratio, ">= 1.60", ratio >= 1.6)
    if write16 and single:
        ratio = write16.rate / single.rate
        yield Target("kv write @16 / single durable SQLite inserts", ratio, ">= 1.00", ratio >= 1.0)
    for row in (read, write64):
        if row:
            yield Target(f"p99 / p50, {row.scenario} @64", row.tail, "<= 4.0", row.tail <= 4.0)


def _format_row(row: Row) -> str:
    workers = "-" if row.workers == 0 else str(row.workers)
    client_cpu = "-" if row.client_cpu_us == 0 else f"{row.client_cpu_us:.0f}"
    return (f"{row.scenario:<21} {workers:>7} {row.clients:>7} {row.rate:>9,.0f} {row.p50_us / 1e3:>8.2f} "
            f"{row.p99_us / 1e3:>8.2f} {row.tail:>7.1f} {row.server_cpu_us:>10.0f} {client_cpu:>8} "
            f"{row.other_cores:>6.2f} {row.errors:>6}")


def print_report(rows: list[Row], workers: int) -> bool:
    header = (f"{'scenario':<21} {'workers':>7} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'p99/p50':>7} {'server µs':>10} {'wrk µs':>8} {'other':>6} {'errors':>6}")
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        print(_format_row(row))
    print("server µs, wrk µs: CPU time per request (user + system) of the server's processes and of wrk.\n"
          "other: CPU cores busy with anything else on the machine meanwhile (0 on a quiet machine).")
    hello = _find(rows, "hello", workers, 64)
    read = _find(rows, "kv read", workers, 64)
    if hello and read:
        print(f"CPU per request, hello / kv read at 64 clients: {hello.server_cpu_us / read.server_cpu_us:.2f} "
              "(the same ratio measured in CPU time rather than req/s)")
    print()
    all_passed = True
    for target in targets(rows, workers):
        verdict = "PASS" if target.passed else "FAIL"
        all_passed &= target.passed
        print(f"{verdict}  {target.name:<52} {target.value:>6.2f}  (target {target.goal})")
    if any(row.errors for row in rows):
        print("WARNING: some requests failed (see the errors column); their scenarios are not trustworthy")
        all_passed = False
    return all_passed


def describe_machine(wrk: str) -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_version = subprocess.run([wrk, "--version"], check=False, capture_output=True, text=True).stdout.split(" [")[0]
    return (f"{os.cpu_count()} CPUs ({model or platform.machine()}), Linux {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {wrk_version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per scenario (default 6)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up load per server (default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="2 s per scenario and 1 and 64 clients only (plus 16 for writes): a smoke run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes of both servers (default: CPU count, the server's default)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every scenario this many times and report medians (default 1)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1; each takes CPU)")
    parser.add_argument("--dir", type=Path, default=None, help="directory on the disk to measure")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if it is missing")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows and targets as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 2.0)
    wrk = ensure_wrk(args.install_wrk)
    print(describe_machine(wrk))
    print(f"{args.duration:g} s per scenario, wrk -t{args.wrk_threads}, keep-alive, closed loop; "
          "columns as in the final table")
    with tempfile.TemporaryDirectory(dir=args.dir or Path.cwd(), prefix="bench-run-") as tmp:
        rows = run_all(args, wrk, Path(tmp))
    passed = print_report(rows, args.workers)
    if args.json:
        args.json.write_text(json.dumps({
            "machine": describe_machine(wrk),
            "seconds_per_scenario": args.duration,
            "rows": [asdict(row) for row in rows],
            "targets": [asdict(target) for target in targets(rows, args.workers)],
        }, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
