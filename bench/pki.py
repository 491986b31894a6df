"""PKI issue rate through the real server, beside the raw ``cryptography`` cost of the same work, in one run.

    .venv/bin/python bench/pki.py [--seconds S] [--clients C] [--workers N] [--dir DIR] [--json FILE] [--install-wrk]

For each key kind (EC P-256 and RSA-2048; the CA's key is of the same kind):

* raw: in this process, on one core, generate a leaf key and sign a certificate
  like the server's (same CA key type, subject, SANs, key usages, key
  identifiers, SHA-256) in a loop. CPU seconds per issue, from
  ``time.process_time``; key generation alone is timed too.
* server: ``POST /v1/pki-<kind>/issue/<role>`` with C keep-alive clients (wrk,
  closed loop) against a SQLite node with N workers and durable commits. Role
  ``bench`` stores every certificate (Vault's default ``no_store=false``: one
  durable commit per issue); for EC P-256 a second row uses a ``no_store`` role,
  which isolates the request path from the commit. Requests per second, p50/p99
  latency, the server's CPU seconds per issue (supervisor plus workers, from
  /proc), and that figure over the raw cost: what the server adds on top of the
  cryptography it cannot avoid.

The raw loops run right before the server loads they are compared with, so a
neighbour's load on a shared machine hits both alike. The token is the root
token (the ACL check is then a lookup; see bench/run.py for policy-bound tokens).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procstat
import servers
from loadgen import ensure_wrk

MARKER = "BENCH-RESULT "
# A static request (no request() function): wrk formats it once, so the client spends no Lua per request.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"common_name": "www.example.com", "ttl": "24h"}'
wrk.headers["Content-Type"] = "application/json"

function init(args)
  wrk.headers["X-Vault-Token"] = args[1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p99": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

KINDS: dict[str, Callable[[], ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]] = {
    "ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "rsa-2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
}
SERVER_KEYS = {"ec-p256": {"key_type": "ec", "key_bits": 256}, "rsa-2048": {"key_type": "rsa", "key_bits": 2048}}
#: (key kind, role): the rows of the report.
SCENARIOS = (("ec-p256", "bench"), ("ec-p256", "bench-nostore"), ("rsa-2048", "bench"))


@dataclass
class Raw:
    kind: str
    issues: int
    cpu_ms_per_issue: float
    keygen_ms: float

    @property
    def per_core_rate(self) -> float:
        return 1000 / self.cpu_ms_per_issue


@dataclass
class Served:
    kind: str
    role: str
    workers: int
    clients: int
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_issue: float
    client_cpu_ms_per_issue: float


def _ca(kind: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]:
    key = KINDS[kind]()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, kind: str) -> None:
    """What the server does per issue, minus everything that is not cryptography."""
    key = KINDS[kind]()
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                          data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    (x509.CertificateBuilder()
     .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com")]))
     .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
     .not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=24))
     .add_extension(usage, critical=True)
     .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                    critical=False)
     .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
     .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
     .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example.com")]), critical=False)
     .sign(ca_key, hashes.SHA256()))


def measure_raw(kind: str, seconds: float) -> Raw:
    ca, ca_key = _ca(kind)
    issues, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        _leaf(ca, ca_key, kind)
        issues += 1
    cpu = time.process_time() - started
    keys, started = 0, time.process_time()
    while time.process_time() - started < seconds / 4:
        KINDS[kind]()
        keys += 1
    keygen = (time.process_time() - started) / keys
    return Raw(kind, issues, 1000 * cpu / issues, 1000 * keygen)


def _post(client: httpx.Client, path: str, token: str, body: dict[str, object]) -> dict[str, object]:
    response = client.post("/v1/" + path, headers={"X-Vault-Token": token}, json=body)
    if response.status_code >= 400:
        raise RuntimeError(f"POST {path} answered {response.status_code}: {response.text}")
    return response.json() if response.content else {}


def prepare(address: str) -> str:
    """Initialise and unseal the node, mount one pki engine per kind with a root and a role; the root token."""
    with httpx.Client(base_url=address, timeout=60) as client:
        init = client.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
        servers.unseal(address, init["keys_base64"][0])
        token = init["root_token"]
        for kind, key in SERVER_KEYS.items():
            mount = f"pki-{kind}"
            _post(client, f"sys/mounts/{mount}", token, {"type": "pki", "config": {"max_lease_ttl": "87600h"}})
            _post(client, f"{mount}/root/generate/internal", token,
                  {"common_name": "Bench Root", "ttl": "8760h", **key})
            for role, no_store in (("bench", False), ("bench-nostore", True)):
                _post(client, f"{mount}/roles/{role}", token,
                      {"allowed_domains": ["example.com"], "allow_subdomains": True, "no_store": no_store, **key})
                _post(client, f"{mount}/issue/{role}", token, {"common_name": "www.example.com", "ttl": "24h"})
    return token


def measure_served(wrk: str, script: Path, address: str, token: str, pid: int, scenario: tuple[str, str],
                   clients: int, workers: int, seconds: float) -> Served:
    kind, role = scenario
    url = f"{address}/v1/pki-{kind}/issue/{role}"
    argv = [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
            url, "--", token]
    cpu_before = procstat.tree_cpu_seconds(pid)
    children_before = os.times().children_user + os.times().children_system
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    client_cpu = os.times().children_user + os.times().children_system - children_before
    server_cpu = procstat.tree_cpu_seconds(pid) - cpu_before
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    raw = json.loads(line[len(MARKER):])
    requests = max(1, int(raw["requests"]))
    return Served(
        kind=kind, role=role, workers=workers, clients=clients, requests=int(raw["requests"]),
        errors=int(raw["errors"]),
        rate=raw["requests"] / (raw["duration_us"] / 1e6), p50_ms=raw["p50"] / 1000, p99_ms=raw["p99"] / 1000,
        server_cpu_ms_per_issue=1000 * server_cpu / requests, client_cpu_ms_per_issue=1000 * client_cpu / requests,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes")
    parser.add_argument("--rounds", type=int, default=1, help="repeat and report medians")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a fresh temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk when it is missing")
    args = parser.parse_args()
    wrk = ensure_wrk(args.install_wrk)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-pki-", dir="."))
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "pki_issue.lua"
    script.write_text(WRK_SCRIPT)
    raws: dict[tuple[str, str], list[Raw]] = {scenario: [] for scenario in SCENARIOS}
    served: dict[tuple[str, str], list[Served]] = {scenario: [] for scenario in SCENARIOS}
    with servers.strongroom_server(workdir, args.workers) as node:
        token = prepare(node.address)
        for _ in range(args.rounds):
            for scenario in SCENARIOS:
                raws[scenario].append(measure_raw(scenario[0], args.seconds))
                served[scenario].append(measure_served(wrk, script, node.address, token, node.pid, scenario,
                                                       args.clients, args.workers, args.seconds))
    print(f"PKI issue, {args.workers} worker(s), {args.clients} clients, {args.seconds:.0f}s per figure, "
          f"{args.rounds} round(s), medians; {os.cpu_count()} CPUs")
    print(f"{'kind':<9} {'role':<13} {'raw ms/issue':>12} {'raw keygen ms':>13} {'raw/s/core':>10} | {'server/s':>8} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'srv CPU ms':>10} {'x raw':>6} {'wrk CPU ms':>10} {'errors':>6}")
    report = []
    for scenario in SCENARIOS:
        kind, role = scenario
        raw_ms = statistics.median(r.cpu_ms_per_issue for r in raws[scenario])
        keygen = statistics.median(r.keygen_ms for r in raws[scenario])
        rows = served[scenario]
        srv = statistics.median(s.server_cpu_ms_per_issue for s in rows)
        rate = statistics.median(s.rate for s in rows)
        p50 = statistics.median(s.p50_ms for s in rows)
        p99 = statistics.median(s.p99_ms for s in rows)
        client = statistics.median(s.client_cpu_ms_per_issue for s in rows)
        errors = sum(s.errors for s in rows)
        print(f"{kind:<9} {role:<13} {raw_ms:>12.3f} {keygen:>13.3f} {1000 / raw_ms:>10.0f} | {rate:>8.0f} {p50:>7.1f} "
              f"{p99:>7.1f} {srv:>10.3f} {srv / raw_ms:>6.2f} {client:>10.3f} {errors:>6}")
        report.append({"kind": kind, "role": role, "raw": [asdict(r) for r in raws[scenario]],
                       "served": [asdict(s) for s in rows]})
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if all(s.errors == 0 for rows in served.values() for s in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
