"""The mount's one issuer (CA certificate, chain and key), and the pending key of an intermediate CSR.

Storage layout (inside the mount's barrier view):

* ``ca/issuer``: the CA certificate, its parents, its id and name and
  ``leaf_not_after_behavior`` (public information);
* ``ca/key``: the CA's private key, PKCS#8 PEM (written only with ``ca/issuer``,
  in one transaction);
* ``ca/pending``: the key of an intermediate CSR waiting for ``set-signed``.

A mount holds at most one issuer, as Vault did before 1.11: installing one
when another exists is refused, and ``DELETE root`` removes it. Installs are
conditional writes (``ca/issuer`` must still be absent), so two workers racing
to create a CA cannot both win.

Parsed issuers are cached per process keyed by the stored bytes themselves:
every request still reads the entries, so a change made by any worker is
seen at once, but an unchanged CA key is parsed once, not per certificate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography import x509

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from .codec import cert_pem, decode, encode, load_stored_cert
from .keys import IssuerKey, PrivateKeyPEM

ISSUER_KEY = "ca/issuer"
SIGNING_KEY = "ca/key"
PENDING_KEY = "ca/pending"
NO_CA = "backend must be configured with a CA certificate/key: generate a root, or import one with config/ca"


@dataclass
class Issuer:
    """The CA as the engine uses it. ``chain`` starts with ``certificate``; ``key`` is None for read paths."""

    issuer_id: str
    key_id: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    issuer_name: str = ""
    leaf_not_after_behavior: str = "err"
    key: IssuerKey | None = field(default=None, repr=False)

    def record(self) -> dict[str, object]:
        """The public ``ca/issuer`` entry."""
        return {
            "issuer_id": self.issuer_id,
            "issuer_name": self.issuer_name,
            "key_id": self.key_id,
            "certificate": cert_pem(self.certificate),
            "chain": [cert_pem(cert) for cert in self.chain[1:]],
            "leaf_not_after_behavior": self.leaf_not_after_behavior,
        }

    def signing_key(self) -> IssuerKey:
        if self.key is None:
            raise InternalError("the issuer was loaded without its key")
        return self.key


def parse_issuer(raw: bytes, key: IssuerKey | None) -> Issuer:
    entry = decode(raw)
    try:
        cert = load_stored_cert(entry["certificate"])
        parents = [load_stored_cert(pem) for pem in entry["chain"]]
        return Issuer(
            issuer_id=str(entry["issuer_id"]),
            key_id=str(entry["key_id"]),
            certificate=cert,
            chain=[cert, *parents],
            issuer_name=str(entry.get("issuer_name", "")),
            leaf_not_after_behavior=str(entry.get("leaf_not_after_behavior", "err")),
            key=key,
        )
    except (KeyError, TypeError):
        raise InternalError("the stored pki issuer is malformed") from None


def key_entry(key_id: str, key: PrivateKeyPEM) -> bytes:
    return encode({"key_id": key_id, "private_key": key.reveal()})


def load_key_entry(raw: bytes) -> tuple[str, PrivateKeyPEM]:
    entry = decode(raw)
    try:
        return str(entry["key_id"]), PrivateKeyPEM(str(entry["private_key"]).encode("ascii"))
    except (KeyError, TypeError, UnicodeEncodeError):
        raise InternalError("a stored pki key entry is malformed") from None


class IssuerStore:
    """Reads and writes the issuer entries of one mount, with the per-process parse cache."""

    def __init__(self) -> None:
        self._cache: dict[bytes, Issuer] = {}

    def clear(self) -> None:
        """Forget every parsed key (the mount is sealing or going away)."""
        self._cache.clear()

    async def load(self, storage: StorageBackend) -> Issuer | None:
        """The issuer without its key (read paths), or None when the mount has no CA."""
        raw = await storage.get(ISSUER_KEY)
        if raw is None:
            return None
        digest = b"pub:" + hashlib.sha256(raw).digest()
        cached = self._cache.get(digest)
        if cached is None:
            cached = parse_issuer(raw, None)
            self._remember(digest, cached)
        return cached

    async def require(self, storage: StorageBackend) -> Issuer:
        issuer = await self.load(storage)
        if issuer is None:
            raise InvalidRequest(NO_CA)
        return issuer

    async def load_signing(self, storage: StorageBackend) -> Issuer:
        """The issuer with its key, for signing; a 400 when the mount has no CA."""
        raw = await storage.get(ISSUER_KEY)
        key_raw = await storage.get(SIGNING_KEY)
        if raw is None or key_raw is None:
            raise InvalidRequest(NO_CA)
        digest = b"key:" + hashlib.sha256(raw + b"\0" + key_raw).digest()
        cached = self._cache.get(digest)
        if cached is None:
            _, pem = load_key_entry(key_raw)
            cached = parse_issuer(raw, pem.load())
            self._remember(digest, cached)
        return cached

    def _remember(self, digest: bytes, issuer: Issuer) -> None:
        if len(self._cache) >= 8:  # a mount has one issuer; stale versions need not pile up
            self._cache.clear()
        self._cache[digest] = issuer

    @staticmethod
    async def install(
        storage: StorageBackend, issuer: Issuer, key: PrivateKeyPEM, extra: list[TxnOp] | None = None,
        preconditions: list[Precondition] | None = None,
    ) -> None:
        """Write issuer and key in one transaction, only if no issuer exists (``StorageConflict`` otherwise)."""
        ops = [
            TxnOp(ISSUER_KEY, encode(issuer.record())),
            TxnOp(SIGNING_KEY, key_entry(issuer.key_id, key)),
            *(extra or []),
        ]
        await storage.transaction(ops, [Precondition(ISSUER_KEY, None), *(preconditions or [])])

    @staticmethod
    async def update_record(storage: StorageBackend, issuer: Issuer, version: bytes | None) -> None:
        """Rewrite ``ca/issuer`` (name, behaviour) if it still holds ``version``."""
        await storage.transaction([TxnOp(ISSUER_KEY, encode(issuer.record()))], [Precondition(ISSUER_KEY, version)])
