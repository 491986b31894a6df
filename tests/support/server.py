"""Start real server processes for tests: dev mode, or a config file with SQLite and workers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT_TOKEN = "root-token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A server process and how to reach it. Logs go to ``log_path`` for canary scans."""

    address: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, expect_status: tuple[int, ...] = (200, 429, 473, 501, 503), timeout: float = 30) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.address + "/v1/sys/health", timeout=1).status_code in expect_status:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def dev_server_process(tmp: Path) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "strongroom", "server", "-dev", f"-dev-root-token-id={ROOT_TOKEN}",
            f"-dev-listen-address=127.0.0.1:{port}"]
    return ServerProcess(f"http://127.0.0.1:{port}", argv, tmp / "dev-server.log")


def sqlite_server_process(tmp: Path, workers: int = 2, extra: str = "") -> ServerProcess:
    port = free_port()
    config = tmp / "strongroom.hcl"
    config.write_text(
        f'storage "sqlite" {{\n  path = "{tmp / "strongroom.db"}"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n}}\n'
        f"workers = {workers}\nlog_level = \"debug\"\n{extra}"
    )
    argv = [sys.executable, "-m", "strongroom", "server", "-config", str(config)]
    return ServerProcess(f"http://127.0.0.1:{port}", argv, tmp / "server.log")


@contextlib.contextmanager
def running(server: ServerProcess) -> Iterator[ServerProcess]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
