"""The root key and its wrapping under the unseal key (key-encryption key, KEK).

Key hierarchy: unseal key (Shamir-combined, or held by an auto-unseal seal)
-> wraps the root key (stored at ``core/root-key``) -> encrypts the keyring
(``core/keyring``) -> whose terms encrypt every entry. Rekeying the unseal key
therefore rewrites one small blob, and rotating the root key rewrites only the
keyring.

Wrapped form: ``version (1 byte) || nonce (12) || ciphertext || tag (16)``,
AES-256-GCM with associated data ``b"strongroom/core/root-key" || version`` so a
wrapped root key cannot be passed off as any other blob (or vice versa).
"""

from __future__ import annotations

from strongroom.crypto.aead import KEY_SIZE, AeadKey, random_key
from strongroom.errors import DecryptionFailed
from strongroom.sdk.system import RandomBytes

ROOT_KEY_PATH = "core/root-key"
WRAP_VERSION = 1
_PURPOSE = b"strongroom/core/root-key"


def generate_root_key(random_bytes: RandomBytes) -> bytes:
    """A new 32-byte root key from ``random_bytes``."""
    return random_key(random_bytes)


def generate_unseal_key(random_bytes: RandomBytes) -> bytes:
    """A new 32-byte unseal key (the KEK that Shamir shares or a seal protect)."""
    return random_key(random_bytes)


def wrap_root_key(kek: bytes, root_key: bytes, random_bytes: RandomBytes) -> bytes:
    """Encrypt ``root_key`` under ``kek``. Both must be 32 bytes (ValueError otherwise: a bug)."""
    if len(root_key) != KEY_SIZE:
        raise ValueError("root keys are 32 bytes")
    version = bytes([WRAP_VERSION])
    return version + AeadKey(kek).seal(root_key, aad=_PURPOSE + version, random_bytes=random_bytes)


def unwrap_root_key(kek: bytes, blob: bytes) -> bytes:
    """The root key inside ``blob``; DecryptionFailed for a wrong KEK (any length) or any damaged blob."""
    if len(kek) != KEY_SIZE or not blob or blob[0] != WRAP_VERSION:
        raise DecryptionFailed()
    version = bytes(blob[:1])
    root_key = AeadKey(kek).open(blob[1:], aad=_PURPOSE + version)
    if len(root_key) != KEY_SIZE:
        # Authentic but not a root key: still one opaque failure, never a short key.
        raise DecryptionFailed()
    return root_key
