"""AES-256-GCM with a fresh random 96-bit nonce: the one AEAD recipe the crypto package uses.

Private plumbing for ``strongroom.crypto`` (barrier, keyring storage, root-key
wrapping). Code outside this package uses the barrier or a seal, never this.

Wire form of a sealed blob: ``nonce (12 bytes) || ciphertext || tag (16 bytes)``.

Contract:

* The nonce always comes from the injected ``random_bytes`` callable; callers
  cannot choose one, so nonce reuse needs a broken random source.
* :meth:`AeadKey.open` raises :class:`strongroom.errors.DecryptionFailed` for
  every failure (short blob, wrong key, wrong associated data, flipped bit),
  with no detail and no chained cause, so a caller cannot be turned into an
  oracle.
* Random nonces keep the collision risk acceptable for about 2**32 seals per
  key; the barrier counts seals per keyring term so the operator can rotate.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.errors import DecryptionFailed, InternalError
from strongroom.sdk.system import RandomBytes

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = NONCE_SIZE + TAG_SIZE


def random_key(random_bytes: RandomBytes) -> bytes:
    """A fresh 32-byte key; InternalError if the random source hands back anything else."""
    key = random_bytes(KEY_SIZE)
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise InternalError("random source returned a malformed key")
    return key


class AeadKey:
    """One AES-256 key ready to seal and open. Its ``repr`` never shows the key."""

    __slots__ = ("_aesgcm",)

    def __init__(self, key: bytes) -> None:
        """``key`` must be exactly 32 bytes; anything else is a programming error (ValueError)."""
        if len(key) != KEY_SIZE:
            raise ValueError("AES-256-GCM needs a 32-byte key")
        self._aesgcm = AESGCM(bytes(key))

    def __repr__(self) -> str:
        return "AeadKey(<hidden>)"

    def seal(self, plaintext: bytes, *, aad: bytes, random_bytes: RandomBytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``aad``; returns ``nonce || ciphertext || tag``."""
        nonce = random_bytes(NONCE_SIZE)
        if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
            # A broken random source must stop the write, never produce a short nonce.
            raise InternalError("random source returned a malformed nonce")
        return nonce + self._aesgcm.encrypt(nonce, plaintext, aad)

    def open(self, blob: bytes, *, aad: bytes) -> bytes:
        """Decrypt a blob made by :meth:`seal` with the same ``aad``, or raise DecryptionFailed."""
        if len(blob) < OVERHEAD:
            raise DecryptionFailed()
        try:
            return self._aesgcm.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
        except InvalidTag:
            raise DecryptionFailed() from None
