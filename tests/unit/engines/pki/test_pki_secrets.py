"""CA private keys stay secret: behind the barrier in storage, out of repr, errors and logs."""

from __future__ import annotations

import asyncio
import base64
import logging

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pki_support import PKI, READ, UPDATE

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.view import StorageView
from strongroom.engines.pki.issuer import IssuerStore
from strongroom.engines.pki.keys import PrivateKeyPEM
from strongroom.errors import StrongroomError
from strongroom.storage.inmem import InmemBackend

CANARY = "canary-5d1e77"


def _barrier_mount() -> tuple[PKI, InmemBackend]:
    physical = InmemBackend()

    async def open_barrier() -> Barrier:
        barrier = Barrier(physical)
        await barrier.initialize(b"\x01" * 32)
        await barrier.unseal(b"\x01" * 32)
        return barrier

    barrier = asyncio.run(open_barrier())
    return PKI(StorageView(barrier, "logical/pki-1/")), physical


def _secret_forms(pem: str) -> list[bytes]:
    """Encodings of one EC key that no other key shares (headers of PKCS#8 and SEC 1 are common to all)."""
    key = serialization.load_pem_private_key(pem.encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return [pem.encode(), der, pkcs8, scalar, base64.b64encode(der)[48:88], base64.b64encode(scalar)]


def test_the_ca_key_reaches_physical_storage_only_encrypted() -> None:
    pki, physical = _barrier_mount()
    exported = pki.ok(UPDATE, "root/generate/exported", {"common_name": "Root", "key_type": "ec"})
    pki.role()
    pki.issue()
    raw = asyncio.run(physical.list("logical/pki-1/"))
    assert "ca/" in raw
    everything = b"".join(asyncio.run(_all_values(physical)))
    for form in _secret_forms(exported["private_key"]):
        assert form not in everything
    # The key is there, behind the barrier, and only under ca/key.
    holders = [key for key, value in pki.contents().items() if b"PRIVATE KEY" in value]
    assert holders == ["ca/key"]


async def _all_values(storage: InmemBackend, prefix: str = "") -> list[bytes]:
    found: list[bytes] = []
    for child in await storage.list(prefix):
        if child.endswith("/"):
            found += await _all_values(storage, prefix + child)
        else:
            value = await storage.get(prefix + child)
            assert value is not None
            found.append(value)
    return found


def test_issued_leaf_keys_are_never_stored(rooted) -> None:
    leaf = rooted.issue()
    stored = b"".join(rooted.contents().values())
    for form in _secret_forms(leaf["private_key"]):
        assert form not in stored


def test_internal_keys_never_appear_in_any_answer(pki) -> None:
    pki.root()
    pki.role()
    answers = [pki.call(READ, path) for path in ("ca/pem", "ca_chain", "cert/ca", "issuer/default", "crl/pem")]
    answers.append(pki.call(UPDATE, "issue/web", {"common_name": "www.example.com"}))
    stored_pem = orjson.loads(pki.contents()["ca/key"])["private_key"]
    forms = _secret_forms(stored_pem)
    for answer in answers:
        text = repr(answer).encode()
        assert not [form for form in forms if form in text]


def test_keys_and_issuers_hide_their_secrets_in_repr(rooted) -> None:
    issuer = asyncio.run(IssuerStore().load_signing(rooted.storage))
    key_pem = issuer.signing_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
    body = key_pem.splitlines()[1].decode()
    assert body not in repr(issuer)
    assert body not in repr(PrivateKeyPEM(key_pem))
    assert repr(PrivateKeyPEM(key_pem)) == "PrivateKeyPEM(<hidden>)"


@pytest.mark.parametrize(
    ("path", "field"),
    [("root/generate/internal", "key_type"), ("roles/web", "ttl"), ("issue/web", "common_name"),
     ("issue/web", "alt_names"), ("issue/web", "ip_sans"), ("issue/web", "uri_sans"), ("sign/web", "csr"),
     ("sign-verbatim", "csr"), ("revoke", "serial_number"), ("revoke", "certificate"), ("config/ca", "pem_bundle"),
     ("intermediate/set-signed", "certificate"), ("config/urls", "ocsp_servers"), ("issue/web", "not_after"),
     ("issuer/default", "leaf_not_after_behavior"), ("roles/web", "key_usage"), ("tidy", "safety_buffer")],
)
def test_errors_and_logs_never_echo_a_canary(rooted, caplog, path, field) -> None:
    caplog.set_level(logging.DEBUG)
    mount = PKI() if path.startswith("root/") else rooted
    values = [CANARY, f"{CANARY}.example.com", f"-----BEGIN CERTIFICATE-----\n{CANARY}\n-----END CERTIFICATE-----",
              f"x@{CANARY}", f"*.{CANARY}.*.com"]
    messages: list[str] = []
    for value in values:
        body = {"common_name": "www.example.com", field: value}
        try:
            mount.call(UPDATE, path, body)
        except StrongroomError as error:
            messages += [error.message, *error.errors]
    assert messages, "every canary value should have been refused"
    assert not [m for m in messages if "5d1e77" in m]
    assert "5d1e77" not in caplog.text
