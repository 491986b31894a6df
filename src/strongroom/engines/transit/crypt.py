"""``encrypt``, ``decrypt``, ``rewrap`` and ``datakey``: data in and out of a key's ciphertexts."""

from __future__ import annotations

from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Operation, Request, Response

from . import batch, cipher, envelope
from .batch import Batch, Item, Result
from .cipher import CipherInput
from .creation import CreateOptions, new_policy
from .encoding import b64, field_bytes
from .engine import Engine
from .errors import NONCE_IGNORED, NONCE_REFUSED, InvalidCiphertext, key_not_found
from .kdf import require_context
from .keytypes import Family, KeyType, parse_key_type
from .policy import KeyPolicy
from .rotation import rotated_if_due
from .store import KeyStore

_SINGLE_FIELDS = ("plaintext", "ciphertext", "context", "nonce", "key_version", "associated_data", "reference")
DATAKEY_BITS = (128, 256, 512)


def _single(fd: FieldData) -> Item:
    return {name: fd.raw.get(name) for name in _SINGLE_FIELDS}


def _context_and_ad(policy: KeyPolicy, item: Item) -> tuple[bytes, bytes]:
    raw_context = batch.text(item, "context")
    context = field_bytes(raw_context, "context") if raw_context else b""
    require_context(policy.derived, context)
    raw_ad = batch.text(item, "associated_data")
    return context, field_bytes(raw_ad, "associated_data") if raw_ad else b""


def nonce_policy(policy: KeyPolicy, items: list[Item]) -> list[str]:
    """Refuse any caller nonce unless the key is convergent (then it is ignored, with a warning).

    SECURITY.md "crypto API misuse": a server that honours caller nonces invites
    nonce reuse and malformed sizes, so a non-convergent key answers 400 for the
    whole request before anything is encrypted.
    """
    if not any(item.get("nonce") not in (None, "") for item in items):
        return []
    if not policy.convergent:
        raise InvalidRequest(NONCE_REFUSED)
    return [NONCE_IGNORED]


def _open(policy: KeyPolicy, item: Item) -> bytes:
    """Decrypt one item's ``ciphertext``; every ciphertext problem is the one opaque error."""
    text = batch.text(item, "ciphertext")
    if not text:
        raise InvalidRequest("missing ciphertext to decrypt")
    context, ad = _context_and_ad(policy, item)
    try:
        version, body = envelope.parse(text)
    except envelope.EnvelopeError:
        raise InvalidCiphertext() from None
    return cipher.decrypt(policy, version, body, CipherInput(b"", context, ad))


class CryptHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def encrypt_exists(self, req: Request, fd: FieldData) -> bool:
        """Existence check: a write to a missing key needs ``create`` (it creates the key, as in Vault)."""
        return await self.engine.store(req).get(fd.get("name")) is not None

    def _seal(self, policy: KeyPolicy, item: Item, default_version: int) -> Result:
        if item.get("plaintext") is None:
            raise InvalidRequest("missing plaintext to encrypt")
        plaintext = field_bytes(batch.text(item, "plaintext"), "plaintext")
        context, ad = _context_and_ad(policy, item)
        version = policy.output_version(batch.integer(item, "key_version", default_version))
        body = cipher.encrypt(policy, version, CipherInput(plaintext, context, ad), self.engine.random)
        return {"ciphertext": envelope.render(version, body), "key_version": version}

    async def encrypt(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd))
        if not work.is_batch and fd.raw.get("plaintext") is None:
            raise InvalidRequest("missing plaintext to encrypt")
        store = self.engine.store(req)
        name: str = fd.get("name")
        policy = await store.get(name)
        warnings: list[str] = []
        if policy is None:
            if req.operation is not Operation.CREATE:
                raise key_not_found()
            policy, created = await self._upsert(store, name, fd, work)
            if not created:
                warnings.append(
                    "Attempted creation of the key during the encrypt operation, but it was created beforehand"
                )
        policy = await rotated_if_due(store, policy, self.engine.now)
        _require(policy, "encryption")
        warnings += nonce_policy(policy, work.items)
        default_version: int = fd.get("key_version")
        results = batch.run(work, lambda item: self._seal(policy, item, default_version))
        return batch.respond(work, results, fd, warnings=warnings)

    async def _upsert(self, store: KeyStore, name: str, fd: FieldData, work: Batch) -> tuple[KeyPolicy, bool]:
        """Create the key an encrypt names (the caller holds ``create``): derived iff the items carry a context."""
        with_context = [bool(batch.text(item, "context")) for item in work.items]
        if any(with_context) and not all(with_context):
            raise InvalidRequest("context should be set either in all the request blocks or in none")
        key_type = parse_key_type(fd.get("type"))
        if key_type not in (KeyType.AES128_GCM96, KeyType.AES256_GCM96, KeyType.CHACHA20_POLY1305):
            raise InvalidRequest(f"key type {key_type} not supported for this operation")
        convergent: bool = fd.get("convergent_encryption")
        if convergent and not with_context[0]:
            raise InvalidRequest("convergent encryption requires derivation to be enabled, so context is required")
        opts = CreateOptions(key_type=key_type, derived=with_context[0], convergent=convergent)
        return await store.create(await new_policy(name, opts, store.random_bytes, self.engine.now()))

    async def decrypt(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd))
        policy = await self.engine.key(self.engine.store(req), fd.get("name"))
        _require(policy, "decryption")
        warnings = nonce_policy(policy, work.items)
        results = batch.run(work, lambda item: {"plaintext": b64(_open(policy, item))})
        return batch.respond(work, results, fd, warnings=warnings)

    async def rewrap(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd))
        store = self.engine.store(req)
        policy = await self.engine.key_for_output(store, fd.get("name"))
        _require(policy, "encryption")
        warnings = nonce_policy(policy, work.items)
        default_version: int = fd.get("key_version")

        def one(item: Item) -> Result:
            plaintext = _open(policy, item)
            return self._seal(policy, {**item, "plaintext": b64(plaintext)}, default_version)

        return batch.respond(work, batch.run(work, one), fd, warnings=warnings)

    async def datakey(self, req: Request, fd: FieldData) -> Response:
        kind: str = fd.get("plaintext")
        if kind not in ("plaintext", "wrapped"):
            raise InvalidRequest("invalid path: the datakey type must be 'plaintext' or 'wrapped'")
        bits: int = fd.get("bits")
        if bits not in DATAKEY_BITS:
            raise InvalidRequest("invalid bits: must be 128, 256 or 512")
        store = self.engine.store(req)
        policy = await self.engine.key_for_output(store, fd.get("name"))
        _require(policy, "encryption")
        item = _single(fd)
        warnings = nonce_policy(policy, [item])
        key = self.engine.random(bits // 8)
        sealed = self._seal(policy, {**item, "plaintext": b64(key)}, fd.get("key_version"))
        data: dict[str, Any] = {"ciphertext": sealed["ciphertext"], "key_version": sealed["key_version"]}
        if kind == "plaintext":
            data["plaintext"] = b64(key)
        return Response(data=data, warnings=warnings)


def _require(policy: KeyPolicy, what: str) -> None:
    if not policy.spec.encryption or policy.spec.family not in (Family.AEAD, Family.RSA):
        raise InvalidRequest(f"key type {policy.key_type} does not support {what}")
