"""Token ids, accessors, and the salted hashes under which they are stored.

A service token looks like Vault's: ``hvs.`` followed by random base62
characters. Accessors are random base62 strings without a prefix. Neither is
ever stored: storage keys are HMAC-SHA256 under a per-store salt, with a
different label for ids and accessors so one can never be confused with the
other.
"""

from __future__ import annotations

import hmac as std_hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from strongroom.sdk.system import RandomBytes

SERVICE_PREFIX = "hvs."
#: 32 base62 characters carry about 190 bits.
TOKEN_RANDOM_CHARS = 32
ACCESSOR_CHARS = 24
SALT_BYTES = 32
#: Longer presented tokens are refused before hashing (nothing we mint comes near).
MAX_TOKEN_CHARS = 1024

_BASE62 = 62
# The largest multiple of 62 below 256: bytes at or above it are redrawn so that
# every character is equally likely.
_ACCEPT_BELOW = 248


def _base62_char(value: int) -> str:
    # Arithmetic instead of indexing an alphabet table with a secret value:
    # 0-9 -> '0'-'9', 10-35 -> 'A'-'Z', 36-61 -> 'a'-'z'.
    return chr(48 + value + 7 * (value > 9) + 6 * (value > 35))


def random_base62(length: int, random_bytes: RandomBytes) -> str:
    """``length`` uniformly random base62 characters (rejection sampling, no modulo bias)."""
    chars: list[str] = []
    while len(chars) < length:
        for byte in random_bytes(length - len(chars) + 8):
            if byte < _ACCEPT_BELOW:
                chars.append(_base62_char(byte % _BASE62))
                if len(chars) == length:
                    break
    return "".join(chars)


def new_token_id(random_bytes: RandomBytes) -> str:
    return SERVICE_PREFIX + random_base62(TOKEN_RANDOM_CHARS, random_bytes)


def new_accessor(random_bytes: RandomBytes) -> str:
    return random_base62(ACCESSOR_CHARS, random_bytes)


class Hasher:
    """Keyed hashes of token ids and accessors. The salt never leaves this object."""

    __slots__ = ("_keyed",)

    def __init__(self, salt: bytes) -> None:
        if len(salt) < 16:
            raise ValueError("token store salt is too short")
        # Keyed once; each hash starts from a copy (about 1 µs less per request than keying again).
        self._keyed = crypto_hmac.HMAC(salt, hashes.SHA256())

    def __repr__(self) -> str:
        return "Hasher(<salt hidden>)"

    def _mac(self, label: bytes, value: str) -> str | None:
        if not value or len(value) > MAX_TOKEN_CHARS:
            return None
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        mac = self._keyed.copy()
        mac.update(label + b"\x00" + encoded)
        return mac.finalize().hex()

    def token(self, token_id: str) -> str | None:
        """Storage hash of a token id, or None for a value that cannot be a token."""
        return self._mac(b"token-id", token_id)

    def accessor(self, accessor: str) -> str | None:
        """Storage hash of an accessor, or None for a value that cannot be an accessor."""
        return self._mac(b"token-accessor", accessor)


def same_hash(a: str, b: str) -> bool:
    """Constant-time equality of two hex hashes."""
    return std_hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
