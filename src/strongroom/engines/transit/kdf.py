"""Key derivation: Vault's HKDF-SHA256 for derived keys, and the convergent-nonce PRF.

* ``derive(ikm, context, length)``: HKDF-SHA256 with no salt and ``info = context``,
  Vault's ``hkdf_sha256``. An exported version key plus the context reproduces it.
* ``convergent_nonce``: ``HMAC-SHA256(nonce_key, u64be(len(ad)) || ad || plaintext)[:12]``
  with ``nonce_key = HKDF-SHA256(ikm = version key, salt = none,
  info = "strongroom/transit/convergent-nonce" || 0x00 || context)``. A keyed PRF,
  never a bare hash of the plaintext, and its key is separate from the encryption key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.errors import InvalidRequest

from .errors import MISSING_CONTEXT

NONCE_BYTES = 12
_NONCE_INFO = b"strongroom/transit/convergent-nonce\x00"


def hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


def require_context(derived: bool, context: bytes) -> None:
    """A derived key needs a context: its absence is a 400 about the request, checked before any input."""
    if derived and not context:
        raise InvalidRequest(MISSING_CONTEXT)


def derive(ikm: bytes, context: bytes, length: int) -> bytes:
    """The derived key for ``context`` (non-empty; see :func:`require_context`)."""
    require_context(True, context)
    return hkdf(ikm, context, length)


def convergent_nonce(version_key: bytes, context: bytes, associated_data: bytes, plaintext: bytes) -> bytes:
    nonce_key = hkdf(version_key, _NONCE_INFO + context, 32)
    mac = hmac.HMAC(nonce_key, hashes.SHA256())
    mac.update(len(associated_data).to_bytes(8, "big"))
    mac.update(associated_data)
    mac.update(plaintext)
    return mac.finalize()[:NONCE_BYTES]
