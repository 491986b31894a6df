"""Encryption and decryption with one version of a key (AEAD keys and RSA-OAEP).

AEAD keys (AES-GCM, ChaCha20-Poly1305) produce ``nonce (12) || ciphertext || tag (16)``.
The nonce is 12 bytes from the injected randomness for every encryption, except
for convergent keys, whose nonce is derived (see :mod:`.kdf`); callers never
choose it. Derived keys encrypt with ``kdf.derive(version key, context)``.
Decryption of a convergent ciphertext recomputes the nonce from the plaintext
and refuses one whose nonce does not match, so only our own construction
decrypts. RSA keys encrypt with RSA-OAEP (MGF1 and label hash SHA-256, no label).

Every decryption failure raises :class:`InvalidCiphertext`, whatever the cause.
"""

from __future__ import annotations

import hmac as std_hmac
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from strongroom.errors import InvalidRequest

from .errors import InvalidCiphertext
from .kdf import NONCE_BYTES, convergent_nonce, derive
from .keytypes import Family, KeyType
from .policy import KeyPolicy
from .private_keys import private_key

TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class CipherInput:
    """What one encryption or decryption works on (already base64-decoded). ``repr`` shows no data."""

    data: bytes
    context: bytes = b""
    associated_data: bytes = b""

    def __repr__(self) -> str:
        return f"CipherInput(<{len(self.data)} bytes>)"


def _aead(key_type: KeyType, key: bytes) -> AESGCM | ChaCha20Poly1305:
    return ChaCha20Poly1305(key) if key_type is KeyType.CHACHA20_POLY1305 else AESGCM(key)


def _aead_key(policy: KeyPolicy, version_key: bytes, context: bytes) -> bytes:
    return derive(version_key, context, len(version_key)) if policy.derived else version_key


_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def encrypt(policy: KeyPolicy, version: int, item: CipherInput, random_bytes: Callable[[int], bytes]) -> bytes:
    """The envelope body for ``item`` under ``version`` (which the caller has checked may encrypt)."""
    entry = policy.versions[version]
    if policy.spec.family is Family.RSA:
        if item.associated_data:
            raise InvalidRequest("associated_data is not supported by RSA keys")
        public = _rsa(policy, version).public_key()
        try:
            return public.encrypt(item.data, _OAEP)
        except ValueError:
            raise InvalidRequest("plaintext is too long for the RSA key") from None
    if policy.spec.family is not Family.AEAD:
        raise InvalidRequest(f"key type {policy.key_type} does not support encryption")
    key = _aead_key(policy, entry.material, item.context)
    if policy.convergent:
        nonce = convergent_nonce(entry.material, item.context, item.associated_data, item.data)
    else:
        nonce = random_bytes(NONCE_BYTES)
        if len(nonce) != NONCE_BYTES:
            raise RuntimeError("the random source returned a short nonce")
    return nonce + _aead(policy.key_type, key).encrypt(nonce, item.data, item.associated_data or None)


def decrypt(policy: KeyPolicy, version: int, body: bytes, item: CipherInput) -> bytes:
    """The plaintext of an envelope body, or :class:`InvalidCiphertext` (any cause).

    ``item.data`` is unused; ``item.context`` and ``item.associated_data`` must match the encryption.
    A derived key without a context is the usual 400 about the missing context (a request-shape error,
    independent of the ciphertext).
    """
    if not policy.readable(version):
        raise InvalidCiphertext()
    entry = policy.versions[version]
    if policy.spec.family is Family.RSA:
        if item.associated_data:
            raise InvalidRequest("associated_data is not supported by RSA keys")
        try:
            return _rsa(policy, version).decrypt(body, _OAEP)
        except ValueError:
            raise InvalidCiphertext() from None
    if policy.spec.family is not Family.AEAD:
        raise InvalidRequest(f"key type {policy.key_type} does not support decryption")
    key = _aead_key(policy, entry.material, item.context)
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise InvalidCiphertext()
    nonce = body[:NONCE_BYTES]
    try:
        plaintext = _aead(policy.key_type, key).decrypt(nonce, body[NONCE_BYTES:], item.associated_data or None)
    except InvalidTag:
        raise InvalidCiphertext() from None
    if policy.convergent:
        expected = convergent_nonce(entry.material, item.context, item.associated_data, plaintext)
        if not std_hmac.compare_digest(expected, nonce):
            raise InvalidCiphertext()
    return plaintext


def _rsa(policy: KeyPolicy, version: int) -> rsa.RSAPrivateKey:
    key = private_key(policy, version)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
