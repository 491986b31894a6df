"""Helpers for the pki tests: a harness that drives the backend without HTTP, CSRs, and the real ``openssl``.

The mount's clock is a ManualClock; ``openssl verify`` is told the same time with ``-attime``, so
validity checks need no sleeping and do not depend on the wall clock.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from strongroom.engines.pki import PKIBackend
from strongroom.errors import StrongroomError
from strongroom.sdk.logical import BackendContext, Operation, Request, Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp
from strongroom.sdk.system import ManualClock, SystemView
from strongroom.storage.inmem import InmemBackend

READ, UPDATE, DELETE, LIST, PATCH = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST, Operation.PATCH
YEAR = 365 * 24 * 3600
START = 1_800_000_000.0


class RecordingStorage(InmemBackend):
    """In-memory storage that counts writes, so a refused request can be shown to have written nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    async def put(self, key: str, value: bytes) -> None:
        self.writes += 1
        await super().put(key, value)

    async def delete(self, key: str) -> None:
        self.writes += 1
        await super().delete(key)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        self.writes += 1
        await super().transaction(ops, preconditions)


class YieldingStorage(InmemBackend):
    """In-memory storage whose every call yields to the event loop first, so concurrent requests interleave
    the way they do between worker processes sharing a real store."""

    async def get(self, key: str) -> bytes | None:
        await asyncio.sleep(0)
        return await super().get(key)

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        await asyncio.sleep(0)
        return await super().get_with_version(key)

    async def list(self, prefix: str) -> list[str]:
        await asyncio.sleep(0)
        return await super().list(prefix)

    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        await asyncio.sleep(0)
        await super().transaction(ops, preconditions)


async def dump(storage: StorageBackend, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for child in await storage.list(prefix):
        if child.endswith("/"):
            found.update(await dump(storage, prefix + child))
        else:
            value = await storage.get(prefix + child)
            assert value is not None
            found[prefix + child] = value
    return found


class PKI:
    """One pki mount. ``ok`` requires success and returns the data; ``fail`` requires an error and returns it."""

    def __init__(self, storage: StorageBackend | None = None, *, max_ttl: int = 10 * YEAR) -> None:
        self.clock = ManualClock(start=START)
        self.storage = storage if storage is not None else RecordingStorage()
        self.ctx = BackendContext(
            storage=self.storage,
            system=SystemView(clock=self.clock, mount_max_lease_ttl=max_ttl),
            mount_point="pki/",
            mount_accessor="pki_0001",
        )
        self.backend = PKIBackend(self.ctx)

    def call(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> Response | None:
        request = Request(operation=operation, path=path, data=dict(data or {}), storage=self.storage)
        return asyncio.run(self.backend.handle(request))

    def ok(self, operation: Operation, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.call(operation, path, data)
        assert response is not None
        assert response.data is not None
        return response.data

    def fail(self, operation: Operation, path: str, data: dict[str, Any] | None = None,
             error: type[StrongroomError] = StrongroomError) -> StrongroomError:
        with pytest.raises(error) as caught:
            self.call(operation, path, data)
        return caught.value

    def contents(self) -> dict[str, bytes]:
        return asyncio.run(dump(self.storage))

    def root(self, **fields: Any) -> dict[str, Any]:
        body = {"common_name": "Example Root CA", "key_type": "ec", "ttl": "87600h", **fields}
        return self.ok(UPDATE, "root/generate/internal", body)

    def role(self, name: str = "web", **fields: Any) -> dict[str, Any]:
        body = {"allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec", **fields}
        return self.ok(UPDATE, f"roles/{name}", body)

    def issue(self, role: str = "web", **fields: Any) -> dict[str, Any]:
        return self.ok(UPDATE, f"issue/{role}", {"common_name": "www.example.com", **fields})

    def ca_pem(self) -> str:
        response = self.call(READ, "ca/pem")
        assert response is not None
        assert response.raw is not None
        return response.raw.body.decode()


def load_cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def make_csr(common_name: str = "", dns: Sequence[str] = (), key: Any = None, **extensions: Any) -> tuple[str, Any]:
    """A PEM CSR (and its key): EC P-256 unless ``key`` is given; ``extensions`` maps names to x509 values."""
    key = key if key is not None else ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    for value in extensions.values():
        builder = builder.add_extension(value, critical=False)
    algorithm = None if key.__class__.__name__.startswith("Ed") else hashes.SHA256()
    csr = builder.sign(key, algorithm)
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


class OpenSSL:
    """The real ``openssl`` command on files in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    def file(self, text: str | bytes, suffix: str = ".pem") -> Path:
        self.count += 1
        path = self.directory / f"f{self.count}{suffix}"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, check=False, timeout=30)

    def verify(self, leaf: str, root: str, untrusted: Sequence[str] = (), at: float = START,
               crl: str | None = None) -> subprocess.CompletedProcess[str]:
        args: list[str | Path] = ["verify", "-attime", str(int(at)), "-CAfile", self.file(root)]
        if untrusted:
            args += ["-untrusted", self.file("\n".join(untrusted) + "\n")]
        if crl is not None:
            args += ["-crl_check", "-CRLfile", self.file(crl)]
        return self.run(*args, self.file(leaf))

    def x509_text(self, pem: str) -> str:
        result = self.run("x509", "-text", "-noout", "-in", self.file(pem))
        assert result.returncode == 0, result.stderr
        return result.stdout

    def crl_text(self, crl: str | bytes, ca: str | None = None, der: bool = False) -> subprocess.CompletedProcess[str]:
        args: list[str | Path] = ["crl", "-noout", "-text", "-in", self.file(crl, ".der" if der else ".pem")]
        if der:
            args += ["-inform", "DER"]
        if ca is not None:
            args += ["-CAfile", self.file(ca)]
        return self.run(*args)
