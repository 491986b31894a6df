"""Transit throughput: encrypt and decrypt of 1 KiB payloads, one per request and 100 per batch, through the
real server, each beside the raw ``cryptography`` cost of the same AES-256-GCM work measured in the same run.

    .venv/bin/python bench/transit.py [--duration S] [--clients N] [--workers N] [--rounds R] [--dir DIR]
                                      [--install-wrk] [--json FILE]

The server runs from a config file (SQLite storage, ``log_level = "warn"``, no audit device, ``workers`` worker
processes), is initialised and unsealed, mounts ``transit/`` and creates an ``aes256-gcm96`` key. Requests carry
a non-root token whose policy grants ``update`` on ``transit/encrypt/bench`` and ``transit/decrypt/bench``
(token lookup and ACL are part of every request, as in real use). Load comes from wrk (one thread, N keep-alive
connections, closed loop) posting one fixed JSON body; every answer must be 200 (wrk counts anything else as an
error, and the run fails).

For each scenario the table shows requests/s and items/s (an item is one 1 KiB payload), latency percentiles, the
server's CPU time (supervisor plus workers, from /proc) per request and per item, and the raw cost: the same
number of AES-256-GCM operations on 1 KiB (random 96-bit nonce per encryption) with ``cryptography`` in this
process, timed right before the scenario. "x raw" is server CPU per item divided by raw cost per item.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procstat
import servers
from loadgen import ensure_wrk

PAYLOAD = 1024
BATCH = 100
MARKER = "BENCH-RESULT "
POLICY = """
path "transit/encrypt/bench" { capabilities = ["update"] }
path "transit/decrypt/bench" { capabilities = ["update"] }
"""
# wrk builds its one request after init(): method, headers and the body (read from a file, since a 100-item
# batch is larger than one command-line argument may be) are set there.
LUA = r"""
function init(args)
  wrk.method = "POST"
  wrk.headers["X-Vault-Token"] = args[1]
  wrk.headers["Content-Type"] = "application/json"
  local file = assert(io.open(args[2], "rb"))
  wrk.body = file:read("*a")
  file:close()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p99": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Row:
    scenario: str
    items_per_request: int
    clients: int
    requests_per_s: float
    items_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_us_per_request: float
    server_cpu_us_per_item: float
    raw_us_per_item: float
    errors: int

    @property
    def ratio(self) -> float:
        return self.server_cpu_us_per_item / self.raw_us_per_item if self.raw_us_per_item else 0.0


def raw_cost_us(operation: str, seconds: float = 0.5) -> float:
    """Microseconds of one AES-256-GCM encryption or decryption of 1 KiB with ``cryptography``, here and now."""
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    plaintext = os.urandom(PAYLOAD)
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, plaintext, None)
    work: Callable[[], object]
    if operation == "encrypt":
        def work() -> object:
            return aead.encrypt(os.urandom(12), plaintext, None)
    else:
        def work() -> object:
            return aead.decrypt(nonce, sealed, None)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(1000):
            work()
        count += 1000
    return (time.perf_counter() - started) / count * 1e6


def call(client: httpx.Client, method: str, path: str, token: str, body: object = None) -> dict[str, object]:
    answer = client.request(method, "/v1/" + path, headers={"X-Vault-Token": token}, json=body)
    if answer.status_code >= 400:
        raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text}")
    return answer.json() if answer.content else {}


@dataclass
class Setup:
    token: str
    bodies: dict[str, Path]


def prepare(address: str, workdir: Path) -> Setup:
    """Initialise, unseal, mount transit, create the key and token, and write the four request bodies."""
    with httpx.Client(base_url=address, timeout=30) as client:
        init = call(client, "PUT", "sys/init", "", {"secret_shares": 1, "secret_threshold": 1})
        keys, root = init["keys_base64"], str(init["root_token"])
        assert isinstance(keys, list)
        servers.unseal(address, keys[0])
        call(client, "POST", "sys/mounts/transit", root, {"type": "transit"})
        call(client, "POST", "transit/keys/bench", root, {"type": "aes256-gcm96"})
        call(client, "PUT", "sys/policies/acl/transit-bench", root, {"policy": POLICY})
        created = call(client, "POST", "auth/token/create", root, {"policies": ["transit-bench"], "ttl": "24h"})
        token = str(created["auth"]["client_token"])  # type: ignore[index]
        plaintexts = [base64.b64encode(os.urandom(PAYLOAD)).decode() for _ in range(BATCH)]
        batch = call(client, "POST", "transit/encrypt/bench", token,
                     {"batch_input": [{"plaintext": p} for p in plaintexts]})["data"]
        ciphertexts = [item["ciphertext"] for item in batch["batch_results"]]  # type: ignore[index]
        check = call(client, "POST", "transit/decrypt/bench", token, {"ciphertext": ciphertexts[0]})["data"]
        if check["plaintext"] != plaintexts[0]:  # type: ignore[index]
            raise RuntimeError("the benchmark ciphertext did not decrypt to its plaintext")
    bodies = {
        "encrypt": {"plaintext": plaintexts[0]},
        "decrypt": {"ciphertext": ciphertexts[0]},
        "encrypt-batch": {"batch_input": [{"plaintext": p} for p in plaintexts]},
        "decrypt-batch": {"batch_input": [{"ciphertext": c} for c in ciphertexts]},
    }
    paths: dict[str, Path] = {}
    for name, body in bodies.items():
        paths[name] = workdir / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    return Setup(token=token, bodies=paths)


def run_wrk(wrk: str, url: str, script: Path, token: str, body: Path, clients: int, seconds: float) -> dict[str, int]:
    argv = [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), url,
            "--", token, str(body)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result: dict[str, int] = json.loads(line[len(MARKER):])
    return result


def measure(args: argparse.Namespace, wrk: str, script: Path, address: str, pid: int, setup: Setup,
            scenario: str) -> Row:
    operation = "encrypt" if scenario.startswith("encrypt") else "decrypt"
    items = BATCH if scenario.endswith("batch") else 1
    raw = raw_cost_us(operation)
    before = procstat.tree_cpu_seconds(pid)
    result = run_wrk(wrk, f"{address}/v1/transit/{operation}/bench", script, setup.token, setup.bodies[scenario],
                     args.clients, args.duration)
    cpu = procstat.tree_cpu_seconds(pid) - before
    requests = max(result["requests"], 1)
    seconds = result["duration_us"] / 1e6
    row = Row(
        scenario=scenario,
        items_per_request=items,
        clients=args.clients,
        requests_per_s=requests / seconds,
        items_per_s=requests * items / seconds,
        p50_ms=result["p50"] / 1e3,
        p99_ms=result["p99"] / 1e3,
        server_cpu_us_per_request=cpu / requests * 1e6,
        server_cpu_us_per_item=cpu / (requests * items) * 1e6,
        raw_us_per_item=raw,
        errors=result["errors"],
    )
    print(f"  {format_row(row)}", flush=True)
    return row


HEADER = (f"{'scenario':<14} {'items':>5} {'req/s':>8} {'items/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu us/req':>10} {'cpu us/item':>11} {'raw us/item':>11} {'x raw':>6} {'errors':>6}")


def format_row(row: Row) -> str:
    return (f"{row.scenario:<14} {row.items_per_request:>5} {row.requests_per_s:>8.0f} {row.items_per_s:>9.0f} "
            f"{row.p50_ms:>7.2f} {row.p99_ms:>7.2f} {row.server_cpu_us_per_request:>10.0f} "
            f"{row.server_cpu_us_per_item:>11.1f} {row.raw_us_per_item:>11.2f} {row.ratio:>6.0f} {row.errors:>6}")


def median_row(rows: list[Row]) -> Row:
    """Field-wise medians of the rounds of one scenario (errors are summed: any error fails the run)."""
    first = rows[0]
    def med(attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in rows))
    return Row(first.scenario, first.items_per_request, first.clients, med("requests_per_s"), med("items_per_s"),
               med("p50_ms"), med("p99_ms"), med("server_cpu_us_per_request"), med("server_cpu_us_per_item"),
               med("raw_us_per_item"), sum(r.errors for r in rows))


@contextlib.contextmanager
def workspace(base: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=base or Path.cwd(), prefix="bench-run-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario (default 5)")
    parser.add_argument("--clients", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server workers (default: CPUs)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each scenario, report medians (default 1)")
    parser.add_argument("--dir", type=Path, default=None, help="where the server's SQLite file goes")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if it is missing")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    wrk = ensure_wrk(args.install_wrk)
    print(f"{os.cpu_count()} CPUs, {args.workers} workers, {args.clients} clients, {args.duration:g} s per scenario,"
          f" {args.rounds} round(s); 1 KiB payloads, AES-256-GCM")
    print(f"  {HEADER}")
    scenarios = ("encrypt", "decrypt", "encrypt-batch", "decrypt-batch")
    measured: dict[str, list[Row]] = {s: [] for s in scenarios}
    with workspace(args.dir) as workdir, servers.strongroom_server(workdir, args.workers) as running:
        script = workdir / "transit.lua"
        script.write_text(LUA)
        setup = prepare(running.address, workdir)
        run_wrk(wrk, f"{running.address}/v1/transit/encrypt/bench", script, setup.token, setup.bodies["encrypt"],
                args.clients, 1)  # warm-up: every worker has loaded the key
        for _ in range(args.rounds):
            for scenario in scenarios:
                measured[scenario].append(measure(args, wrk, script, running.address, running.pid, setup, scenario))
    rows = [median_row(measured[s]) for s in scenarios]
    print("\nmedians:" if args.rounds > 1 else "\nsummary:")
    print(f"  {HEADER}")
    for row in rows:
        print(f"  {format_row(row)}")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "x_raw": r.ratio} for r in rows], indent=2))
    return 1 if any(r.errors for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
