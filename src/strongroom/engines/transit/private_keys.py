"""Loaded private-key objects of a key's asymmetric versions, cached on the (immutable) key record.

Loading an RSA key from DER checks it, which costs milliseconds; the record
caches the object per version, and records themselves are cached by the exact
stored bytes (see :mod:`.store`), so a key is loaded once per change.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519

from .kdf import derive
from .material import PrivateKey, load_private
from .policy import KeyPolicy


def private_key(policy: KeyPolicy, version: int, context: bytes = b"") -> PrivateKey:
    """The private key of ``version`` (for a derived Ed25519 key: the one derived from ``context``)."""
    entry = policy.versions[version]
    if policy.derived:
        # Derived Ed25519: HKDF-SHA256(seed, info=context) is the derived seed, as in Vault.
        return ed25519.Ed25519PrivateKey.from_private_bytes(derive(entry.material, context, 32))
    cached: PrivateKey | None = policy.objects.get(version)
    if cached is None:
        cached = load_private(policy.key_type, entry.material)
        policy.objects[version] = cached
    return cached
