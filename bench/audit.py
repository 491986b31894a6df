"""What auditing costs: KV v2 read throughput with one file audit device on, as a ratio to audit off.

    .venv/bin/python bench/audit.py [--duration S] [--clients N ...] [--rounds R] [--workers N]
                                    [--wrk-threads T] [--dir DIR] [--json FILE]

One real server (SQLite, ``workers`` worker processes, no per-request logging)
serves both sides of the ratio in the same run: for every client count and round
the device is enabled (``sys/audit``, a file in DIR) and disabled between two
wrk runs against the same secret with the same non-root token, alternating which
side goes first, so drift and a neighbour's load hit both alike. After each
audited run the file is counted: every read must have left a request and a
response line (the run fails otherwise), so the figure is for audit that really
happened, not a device silently dropping entries.

Columns: requests/s, p50 and p99 latency, server CPU per request (supervisor and
workers, from /proc), audit lines written per request. The ratio is
audited / unaudited requests/s (median over rounds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procstat
import servers
from loadgen import ensure_wrk, run_wrk


@dataclass(frozen=True)
class Run:
    audit: bool
    clients: int
    round: int
    rate: float
    p50_us: float
    p99_us: float
    server_cpu_us: float
    lines_per_request: float
    errors: int


@contextlib.contextmanager
def audit_device(address: str, root: str, log: Path) -> Iterator[Path]:
    """One file device enabled for the block (default options: HMAC, checkpoints every 1000 lines)."""
    headers = {"X-Vault-Token": root}
    enabled = httpx.put(f"{address}/v1/sys/audit/bench", headers=headers, timeout=30,
                        json={"type": "file", "options": {"file_path": str(log)}})
    if enabled.status_code != 204:
        raise RuntimeError(f"enabling the audit device answered {enabled.status_code}: {enabled.text}")
    try:
        yield log
    finally:
        httpx.delete(f"{address}/v1/sys/audit/bench", headers=headers, timeout=30).raise_for_status()


def measure(wrk: str, args: argparse.Namespace, server: servers.Running, token: str, clients: int,
            round_: int, log: Path | None) -> Run:
    lines_before = _lines(log)
    cpu_before = procstat.tree_cpu_seconds(server.pid)
    result = run_wrk(wrk, f"{server.address}/v1/{servers.READ_PATH}", connections=clients,
                     seconds=args.duration, token=token, threads=args.wrk_threads)
    cpu = procstat.tree_cpu_seconds(server.pid) - cpu_before
    requests = max(result.requests, 1)
    lines = _lines(log) - lines_before
    if log is not None and lines < 2 * result.requests:
        raise RuntimeError(f"{result.requests} audited reads left only {lines} lines in {log}")
    run = Run(audit=log is not None, clients=clients, round=round_, rate=result.rate, p50_us=result.p50_us,
              p99_us=result.p99_us, server_cpu_us=cpu / requests * 1e6, lines_per_request=lines / requests,
              errors=result.errors)
    print(f"  {'audit on ' if run.audit else 'audit off'}  {clients:>3} clients  {run.rate:>8.0f} req/s  "
          f"p50 {run.p50_us:>7.0f} us  p99 {run.p99_us:>7.0f} us  cpu {run.server_cpu_us:>6.0f} us/req  "
          f"{run.lines_per_request:.2f} lines/req  errors {run.errors}", flush=True)
    return run


def _lines(log: Path | None) -> int:
    if log is None or not log.exists():
        return 0
    with log.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (default 5)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64],
                        help="concurrent keep-alive clients (default 1 16 64)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; ratios are medians (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server workers (default: CPUs)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--dir", type=Path, default=None, help="directory on the disk to measure (default: cwd)")
    parser.add_argument("--json", type=Path, default=None, help="also write every run and the ratios here")
    args = parser.parse_args(argv)
    wrk = ensure_wrk(install=False)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(dir=args.dir or Path.cwd(), prefix="bench-audit-") as tmp:
        workdir = Path(tmp)
        with servers.strongroom_server(workdir, args.workers) as server:
            setup = servers.prepare_kv(server.address)
            print(f"kv v2 read, {args.workers} worker(s), {args.duration:g} s per run, audit log in {workdir}")
            run_wrk(wrk, f"{server.address}/v1/{servers.READ_PATH}", connections=16, seconds=1, token=setup.token)
            for round_ in range(args.rounds):
                for clients in args.clients:
                    order = (False, True) if round_ % 2 == 0 else (True, False)
                    for audited in order:
                        if audited:
                            with audit_device(server.address, setup.root_token, workdir / "audit.log") as log:
                                runs.append(measure(wrk, args, server, setup.token, clients, round_, log))
                        else:
                            runs.append(measure(wrk, args, server, setup.token, clients, round_, None))
    ratios = report(runs, args.clients)
    if args.json:
        args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "ratios": ratios}, indent=2))
    return 0


def report(runs: list[Run], clients: list[int]) -> dict[str, float]:
    print("\nKV v2 read throughput, audit on / audit off (median over rounds):")
    print(f"  {'clients':>7}  {'off req/s':>10}  {'on req/s':>10}  {'ratio':>6}  {'cpu off':>8}  {'cpu on':>8}")
    ratios: dict[str, float] = {}
    for n in clients:
        off = [r for r in runs if r.clients == n and not r.audit]
        on = [r for r in runs if r.clients == n and r.audit]
        per_round = [b.rate / a.rate for a, b in zip(off, on, strict=True) if a.rate]
        ratio = statistics.median(per_round) if per_round else 0.0
        ratios[str(n)] = ratio
        print(f"  {n:>7}  {statistics.median(r.rate for r in off):>10.0f}  "
              f"{statistics.median(r.rate for r in on):>10.0f}  {ratio:>6.2f}  "
              f"{statistics.median(r.server_cpu_us for r in off):>6.0f}us  "
              f"{statistics.median(r.server_cpu_us for r in on):>6.0f}us")
    return ratios


if __name__ == "__main__":
    sys.exit(main())
