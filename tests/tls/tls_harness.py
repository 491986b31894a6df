"""Real server processes behind TLS for the listener tests: certificates on disk, readiness over TLS."""

from __future__ import annotations

import contextlib
import datetime
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from tests.support.server import ServerProcess, free_port

from strongroom.cli.commands.tls_bootstrap import bootstrap, make_ca, make_leaf, write_bundle


@dataclass
class Pair:
    cert: Path
    key: Path

    def subject_cn(self) -> str:
        cert = x509.load_pem_x509_certificate(self.cert.read_bytes())
        return str(cert.subject.rfc4514_string())


def write_pair(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Pair:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return Pair(cert_path, key_path)


@dataclass
class ClientCA:
    """A CA that signs client certificates, written to ``<stem>.pem``."""

    directory: Path
    stem: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @staticmethod
    def create(directory: Path, stem: str) -> ClientCA:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = make_ca(key, f"{stem} client CA", datetime.datetime.now(datetime.UTC))
        (directory / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return ClientCA(directory, stem, cert, key)

    @property
    def path(self) -> Path:
        return self.directory / f"{self.stem}.pem"

    def issue(self, common_name: str, *, dns: tuple[str, ...] = (), days: int = 30,
              now: datetime.datetime | None = None) -> Pair:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = make_leaf(self.cert, self.key, key.public_key(), common_name=common_name, dns=dns, ips=(),
                         now=now or datetime.datetime.now(datetime.UTC), days=days,
                         usages=(ExtendedKeyUsageOID.CLIENT_AUTH,))
        return write_pair(self.directory, f"{self.stem}-{common_name}", cert, key)


def server_files(directory: Path) -> Path:
    """ca.pem, server.pem, server-key.pem for localhost/127.0.0.1 (as `operator tls bootstrap` writes them)."""
    write_bundle(bootstrap(["localhost", "127.0.0.1"]), directory)
    return directory / "ca.pem"


def client_context(ca: Path, pair: Pair | None = None, *, maximum: ssl.TLSVersion | None = None,
                   minimum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if pair is not None:
        context.load_cert_chain(str(pair.cert), str(pair.key))
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


def tls_server_process(tmp: Path, listener_extra: str = "", *, workers: int = 2) -> ServerProcess:
    port = free_port()
    config = tmp / "strongroom.hcl"
    config.write_text(
        f'storage "sqlite" {{\n  path = "{tmp / "strongroom.db"}"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n'
        f'  tls_cert_file = "{tmp / "server.pem"}"\n  tls_key_file = "{tmp / "server-key.pem"}"\n'
        f"{listener_extra}}}\n"
        f'workers = {workers}\nlog_level = "debug"\n'
    )
    argv = [sys.executable, "-m", "strongroom", "server", "-config", str(config)]
    return ServerProcess(f"https://127.0.0.1:{port}", argv, tmp / "server.log")


def start(server: ServerProcess, context: ssl.SSLContext, timeout: float = 30) -> None:
    """Start ``server`` and wait until /v1/sys/health answers over TLS with ``context``."""
    log = server.log_path.open("ab")
    server.process = subprocess.Popen(server.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log_text()}")
        with contextlib.suppress(httpx.HTTPError, ssl.SSLError, OSError):
            httpx.get(server.address + "/v1/sys/health", verify=context, timeout=1)
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not answer over TLS within {timeout}s:\n{server.log_text()}")


@contextlib.contextmanager
def running(server: ServerProcess, context: ssl.SSLContext) -> Iterator[ServerProcess]:
    start(server, context)
    try:
        yield server
    finally:
        server.stop()


def handshake(port: int, context: ssl.SSLContext) -> tuple[str, str, bytes]:
    """(TLS version, cipher name, server certificate DER) of one handshake with 127.0.0.1:port."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        version = tls.version() or ""
        cipher = tls.cipher()
        der = tls.getpeercert(binary_form=True) or b""
        # TLS 1.3 sends the verdict on a client certificate after the handshake: read to see it.
        tls.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        if not tls.recv(1):
            raise ConnectionError("the server closed the connection without answering")
        return version, cipher[0] if cipher else "", der


def port_of(server: ServerProcess) -> int:
    return int(server.address.rsplit(":", 1)[1])
