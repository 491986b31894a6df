"""Start the servers the benchmark measures, and prepare the real one for KV traffic.

* :func:`strongroom_server` runs ``python -m strongroom server -config FILE`` on
  SQLite with durable commits (``synchronous = FULL``, the default), no audit
  device, ``log_level = "warn"`` so nothing is logged per request.
* :func:`hello_server` runs ``bench/hello_server.py`` with the same worker count.
* :func:`prepare_kv` initialises and unseals the store (once), mounts KV v2 at
  ``secret/``, writes a policy and mints a non-root token under it, and writes
  the secret the read scenarios fetch.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
READ_PATH = "secret/data/bench/read"
WRITE_PREFIX = "secret/data/bench/w/"
POLICY = """
path "secret/data/bench/*" {
  capabilities = ["create", "read", "update"]
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started server: its address and the pid whose process tree does the work."""

    address: str
    process: subprocess.Popen[bytes]
    log_path: Path
    workers: int

    @property
    def pid(self) -> int:
        return self.process.pid


def _wait_ready(running: Running, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"server exited with {running.process.returncode}; see {running.log_path}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(running.address + path, timeout=1)
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not answer within {timeout}s; see {running.log_path}")


@contextlib.contextmanager
def _process(argv: list[str], address: str, log_path: Path, ready_path: str, workers: int) -> Iterator[Running]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    running = Running(address, process, log_path, workers)
    try:
        _wait_ready(running, ready_path)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def strongroom_server(workdir: Path, workers: int) -> Iterator[Running]:
    """The real server on ``workdir/strongroom.db`` with ``workers`` worker processes."""
    port = free_port()
    config = workdir / f"strongroom-{workers}.hcl"
    config.write_text(
        f'storage "sqlite" {{\n  path = "{workdir / "strongroom.db"}"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n'
        f'workers = {workers}\nlog_level = "warn"\n'
    )
    argv = [sys.executable, "-m", "strongroom", "server", "-config", str(config)]
    log_path = workdir / f"server-{workers}.log"
    with _process(argv, f"http://127.0.0.1:{port}", log_path, "/v1/sys/health", workers) as running:
        yield running


@contextlib.contextmanager
def hello_server(workdir: Path, workers: int) -> Iterator[Running]:
    """The hello-world app on the same HTTP stack and process model."""
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "hello_server.py"), "--port", str(port), "--workers", str(workers)]
    with _process(argv, f"http://127.0.0.1:{port}", workdir / f"hello-{workers}.log", "/", workers) as running:
        yield running


@dataclass
class KvSetup:
    """What the KV scenarios need. ``unseal_key`` lets a restarted server reopen the same store."""

    unseal_key: str
    root_token: str
    token: str


def _call(client: httpx.Client, method: str, path: str, token: str = "", **kwargs: object) -> httpx.Response:
    headers = {"X-Vault-Token": token} if token else {}
    response = client.request(method, "/v1/" + path, headers=headers, **kwargs)  # type: ignore[arg-type]
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text}")
    return response


def unseal(address: str, key: str, timeout: float = 30) -> None:
    """Unseal and wait until every worker serves unsealed (health answers 200)."""
    with httpx.Client(base_url=address, timeout=10) as client:
        _call(client, "PUT", "sys/unseal", json={"key": key})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # New connections land on any worker: several 200s in a row means all are ready.
            if all(httpx.get(address + "/v1/sys/health", timeout=5).status_code == 200 for _ in range(8)):
                return
            time.sleep(0.05)
    raise RuntimeError("server did not report unsealed in time")


def prepare_kv(address: str) -> KvSetup:
    with httpx.Client(base_url=address, timeout=10) as client:
        init = _call(client, "PUT", "sys/init", json={"secret_shares": 1, "secret_threshold": 1}).json()
        key, root = init["keys_base64"][0], init["root_token"]
        unseal(address, key)
        _call(client, "POST", "sys/mounts/secret", root, json={"type": "kv", "options": {"version": "2"}})
        _call(client, "PUT", "sys/policies/acl/bench", root, json={"policy": POLICY})
        created = _call(client, "POST", "auth/token/create", root, json={"policies": ["bench"], "ttl": "24h"})
        token = created.json()["auth"]["client_token"]
        secret = {"data": {"username": "bench", "password": "correct horse battery staple", "port": "5432"}}
        _call(client, "POST", READ_PATH, token, json=secret)
        read = _call(client, "GET", READ_PATH, token).json()
        if read["data"]["data"] != secret["data"]:
            raise RuntimeError("the benchmark secret did not read back as written")
    return KvSetup(unseal_key=key, root_token=root, token=token)
