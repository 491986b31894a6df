"""``sign``, ``verify`` and ``hmac``: signatures and MACs made with a key's versions."""

from __future__ import annotations

import hmac as std_hmac

from cryptography.hazmat.primitives import hashes

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import FieldData
from strongroom.sdk.logical import Request, Response

from . import batch, digests, envelope, signing
from .batch import Item, Result
from .encoding import field_bytes
from .engine import Engine
from .kdf import require_context
from .policy import KeyPolicy

TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)"


def _hash_name(fd: FieldData) -> str:
    """Vault's precedence: the algorithm in the URL, then ``hash_algorithm``, then the older ``algorithm``."""
    return str(fd.get("urlalgorithm") or fd.get("hash_algorithm") or fd.get("algorithm") or "")


def _input(item: Item, missing: str) -> bytes:
    if item.get("input") is None:
        raise InvalidRequest(missing)
    return field_bytes(batch.text(item, "input"), "input")


def _context(policy: KeyPolicy, item: Item) -> bytes:
    raw = batch.text(item, "context")
    context = field_bytes(raw, "context") if raw else b""
    require_context(policy.derived, context)
    return context


def _readable_version(policy: KeyPolicy, text: str, *, urlsafe: bool, what: str) -> tuple[int, bytes]:
    try:
        version, body = envelope.parse(text, urlsafe=urlsafe)
    except envelope.EnvelopeError:
        raise InvalidRequest(f"invalid {what}: not a vault:v<version>:<base64> value") from None
    if version < policy.min_decryption_version:
        raise InvalidRequest(TOO_OLD)
    if version not in policy.versions:
        raise InvalidRequest(f"invalid {what}: the key has no version {version}")
    return version, body


def _single(fd: FieldData, *names: str) -> Item:
    return {name: fd.raw.get(name) for name in (*names, "context", "reference")}


class SignHandlers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _options(self, policy: KeyPolicy, fd: FieldData) -> signing.SignOptions:
        return signing.options(
            policy,
            digests.algorithm(_hash_name(fd), allow_sha1=True),
            prehashed=fd.get("prehashed"),
            signature_algorithm=fd.get("signature_algorithm"),
            marshaling=fd.get("marshaling_algorithm"),
            salt_length=fd.get("salt_length"),
        )

    async def sign(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd, "input"))
        store = self.engine.store(req)
        policy = await self.engine.key_for_output(store, fd.get("name"), "signing")
        opts = self._options(policy, fd)
        version = policy.output_version(fd.get("key_version"))

        def one(item: Item) -> Result:
            data = _input(item, "missing input to sign")
            context = _context(policy, item)
            raw = signing.sign(policy, version, data, context, opts)
            result: Result = {"signature": envelope.render(version, raw, urlsafe=opts.urlsafe), "key_version": version}
            if policy.derived:
                result["publickey"] = signing.public_key_for(policy, version, context)
            return result

        return batch.respond(work, batch.run(work, one), fd)

    async def verify(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd, "input", "signature", "hmac"))
        kinds = {_kind(item) for item in work.items}
        if len(kinds) > 1:
            raise InvalidRequest("batch items must consistently supply either 'hmac' or 'signature'")
        policy = await self.engine.key(self.engine.store(req), fd.get("name"), "signature verification")
        if kinds == {"hmac"}:
            alg = digests.algorithm(_hash_name(fd))
            results = batch.run(work, lambda item: {"valid": self._check_hmac(policy, alg, item)})
        else:
            opts = self._options(policy, fd)
            results = batch.run(work, lambda item: {"valid": self._check_signature(policy, opts, item)})
        return batch.respond(work, results, fd, failed_item={"valid": False})

    def _check_signature(self, policy: KeyPolicy, opts: signing.SignOptions, item: Item) -> bool:
        data = _input(item, "missing input to verify")
        context = _context(policy, item)
        version, raw = _readable_version(policy, batch.text(item, "signature"), urlsafe=opts.urlsafe,
                                         what="signature")
        return signing.verify(policy, version, data, raw, context=context, opts=opts)

    def _check_hmac(self, policy: KeyPolicy, alg: hashes.HashAlgorithm, item: Item) -> bool:
        data = _input(item, "missing input to verify")
        version, mac = _readable_version(policy, batch.text(item, "hmac"), urlsafe=False, what="hmac")
        key = policy.mac_key(version)
        assert key is not None
        return std_hmac.compare_digest(digests.hmac_sum(key, alg, data), mac)

    async def hmac(self, req: Request, fd: FieldData) -> Response:
        work = batch.read(fd, _single(fd, "input"))
        store = self.engine.store(req)
        policy = await self.engine.key_for_output(store, fd.get("name"))
        alg = digests.algorithm(str(fd.get("urlalgorithm") or fd.get("algorithm") or ""))
        version = policy.output_version(fd.get("key_version"))
        key = policy.mac_key(version)
        assert key is not None

        def one(item: Item) -> Result:
            data = _input(item, "missing input for HMAC")
            return {"hmac": envelope.render(version, digests.hmac_sum(key, alg, data))}

        return batch.respond(work, batch.run(work, one), fd)


def _kind(item: Item) -> str:
    has_signature = item.get("signature") not in (None, "")
    has_hmac = item.get("hmac") not in (None, "")
    if has_signature == has_hmac:
        raise InvalidRequest("supply exactly one of 'signature' or 'hmac'")
    return "hmac" if has_hmac else "signature"
