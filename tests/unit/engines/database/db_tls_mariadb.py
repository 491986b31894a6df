"""A second, TLS-only MariaDB for the MySQL plugin's ``tls_ca``/``tls_certificate_key`` tests.

The machine's MariaDB on 3306 runs without TLS, so the tests start their own
``mariadbd`` (a fresh data directory, a free port on 127.0.0.1, ``require_secure_transport``)
with a certificate from a CA made here, and stop it afterwards.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import pymysql
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Issued:
    cert: str
    key: str

    @property
    def combined(self) -> str:
        return self.cert + self.key


class CA:
    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.name = subject
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(NOW - datetime.timedelta(hours=1))
                     .not_valid_after(NOW + datetime.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, common_name: str, *, ip: str | None = None) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                   .issuer_name(self.name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - datetime.timedelta(hours=1))
                   .not_valid_after(NOW + datetime.timedelta(days=1)))
        if ip is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(ip))]),
                                            critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        return Issued(cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem)


@dataclass(frozen=True)
class TlsMariaDB:
    port: int
    ca: CA
    client: Issued  # a client certificate from ``ca`` (for users created ``REQUIRE X509``)
    directory: Path

    def context(self, client: Issued | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cadata=self.ca.pem)
        if client is not None:
            path = self.directory / "client-login.pem"
            path.write_text(client.combined)
            context.load_cert_chain(path)
        return context

    def connect(self, user: str, password: str, *, client: Issued | None = None,
                database: str | None = None) -> pymysql.connections.Connection[object]:
        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, database=database,
                               autocommit=True, connect_timeout=5, ssl=self.context(client))

    def admin(self) -> pymysql.connections.Connection[object]:
        """root over the unix socket (secure transport without TLS; root has no TCP account)."""
        return pymysql.connect(unix_socket=str(self.directory / "mysqld.sock"), user="root", password="",
                               autocommit=True, connect_timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


@contextmanager
def tls_mariadb(directory: Path) -> Iterator[TlsMariaDB]:
    ca = CA("strongroom test MariaDB CA")
    server = ca.issue("127.0.0.1", ip="127.0.0.1")
    (directory / "ca.pem").write_text(ca.pem)
    (directory / "server.pem").write_text(server.cert)
    (directory / "server-key.pem").write_text(server.key)
    data = directory / "data"
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                    "--auth-root-authentication-method=normal", "--skip-test-db"],
                   check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (directory / "mariadbd.log").open("w")
    process = subprocess.Popen(
        ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root", f"--port={port}",
         "--bind-address=127.0.0.1", f"--socket={directory / 'mysqld.sock'}", f"--pid-file={directory / 'pid'}",
         f"--ssl-ca={directory / 'ca.pem'}", f"--ssl-cert={directory / 'server.pem'}",
         f"--ssl-key={directory / 'server-key.pem'}", "--require-secure-transport=ON"],
        stdout=log, stderr=subprocess.STDOUT)
    db = TlsMariaDB(port, ca, ca.issue("sr-db-client"), directory)
    try:
        deadline = time.monotonic() + 60  # start-up only; no assertion is timed
        while not _listening(directory / "mysqld.sock"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the TLS MariaDB did not start: " + (directory / "mariadbd.log").read_text()[-2000:])
            time.sleep(0.2)
        while True:
            try:
                with db.admin() as conn, conn.cursor() as cur:
                    cur.execute("CREATE DATABASE IF NOT EXISTS test")
                    cur.execute("CREATE TABLE IF NOT EXISTS test.db_engine_fixture (v int)")
                    cur.execute("INSERT INTO test.db_engine_fixture VALUES (7)")
                    # The engine's connection user must present a client certificate from the CA.
                    cur.execute("CREATE USER 'sr_tls_admin'@'%' IDENTIFIED BY 'tls-admin-pw' REQUIRE X509")
                    cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'sr_tls_admin'@'%' WITH GRANT OPTION")
                break
            except pymysql.err.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the TLS MariaDB did not start: " +
                                       (directory / "mariadbd.log").read_text()[-2000:]) from None
                time.sleep(0.2)
        yield db
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
