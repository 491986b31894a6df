"""Hash algorithms by Vault's names, and the hash and HMAC computations built on them."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, hmac

from strongroom.errors import InvalidRequest

_ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha2-224": hashes.SHA224,
    "sha2-256": hashes.SHA256,
    "sha2-384": hashes.SHA384,
    "sha2-512": hashes.SHA512,
    "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}
DEFAULT = "sha2-256"


def algorithm(name: str, *, allow_sha1: bool = False) -> hashes.HashAlgorithm:
    """The hash named ``name`` (``""``: sha2-256). SHA-1 only where Vault allows it (sign/verify).

    An unknown name is a 400 listing the valid ones, never repeating the input.
    """
    name = (name or DEFAULT).strip().lower()
    factory = _ALGORITHMS.get(name)
    if factory is None or (name == "sha1" and not allow_sha1):
        allowed = [n for n in _ALGORITHMS if allow_sha1 or n != "sha1"]
        raise InvalidRequest(f"unsupported hash algorithm: use one of {', '.join(allowed)}")
    return factory()


def digest(alg: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(alg)
    h.update(data)
    return h.finalize()


def hmac_sum(key: bytes, alg: hashes.HashAlgorithm, data: bytes) -> bytes:
    mac = hmac.HMAC(key, alg)
    mac.update(data)
    return mac.finalize()
