"""What a token create costs: sequential ``auth/token/create`` calls with a TTL against the real server.

    .venv/bin/python bench/token_create.py [--count N] [--workers W] [--dir DIR]

Every token with a TTL is a lease (``docs/leases.md``); its lease entries ride in the
token's own storage transaction, so this measures that a create did not get slower.
One keep-alive client, durable SQLite; reports requests per second and latency
percentiles (after a warm-up of 200 creates).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, servers.strongroom_server(Path(tmp), args.workers) as live:
        setup = servers.prepare_kv(live.address)
        headers = {"X-Vault-Token": setup.root_token}
        body = {"policies": ["default"], "ttl": "1h"}
        with httpx.Client(base_url=live.address, headers=headers, timeout=30) as client:
            for _ in range(200):
                client.post("/v1/auth/token/create", json=body).raise_for_status()
            latencies: list[float] = []
            started = time.perf_counter()
            for _ in range(args.count):
                t0 = time.perf_counter()
                client.post("/v1/auth/token/create", json=body).raise_for_status()
                latencies.append(time.perf_counter() - t0)
            elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"token create x{args.count}, {args.workers} workers: {args.count / elapsed:,.0f} req/s, "
          f"p50 {statistics.median(latencies) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
