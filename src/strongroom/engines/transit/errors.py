"""The transit engine's error wording, in one place.

Every failure to decrypt a ciphertext (a malformed envelope, an unknown or
trimmed version, a version below ``min_decryption_version``, a wrong context or
associated data, a flipped bit, an RSA padding failure) is the same
:class:`InvalidCiphertext`: one status (400) and one fixed message, so the
answer reveals nothing about why. Other messages keep Vault's wording where
clients match on it ("encryption key not found", "could not delete key; not found").
"""

from __future__ import annotations

from strongroom.errors import InvalidRequest

DECRYPT_FAILED = "invalid ciphertext: could not decrypt"

MISSING_CONTEXT = (
    "missing 'context' for key derivation; the key was created using a derived key, which means additional, "
    "per-request information must be included in order to perform operations with the key"
)
NONCE_REFUSED = (
    "a nonce may not be supplied: nonces are chosen by the server (only convergent keys accept, and ignore, one)"
)
NONCE_IGNORED = "the nonce was ignored: convergent keys derive their nonce from the context and the plaintext"


class InvalidCiphertext(InvalidRequest):
    """The one answer for every ciphertext that cannot be decrypted (400, fixed text, no cause)."""

    def __init__(self) -> None:
        super().__init__(DECRYPT_FAILED)


def key_not_found(purpose: str = "encryption") -> InvalidRequest:
    """Vault answers a missing key on an operation endpoint with 400 ``<purpose> key not found``."""
    return InvalidRequest(f"{purpose} key not found")
