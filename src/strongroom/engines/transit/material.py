"""Key material: generating it, checking it, loading it, and the text forms Vault shows.

Stored forms (the bytes a :class:`~.policy.KeyVersion` holds):

* AEAD and HMAC keys: the raw key bytes.
* Ed25519: the 32-byte private seed.
* ECDSA and RSA: the private key as unencrypted PKCS#8 DER.

Symmetric keys and Ed25519 seeds come from the injected randomness; ECDSA and
RSA keys from OpenSSL's generator (``cryptography`` takes no random source for
them). Nothing here puts key bytes into an exception message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .keytypes import HMAC_MAX_BYTES, HMAC_MIN_BYTES, Family, KeyType, spec

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: Bytes of the per-version HMAC key every non-HMAC key carries (used by ``hmac/`` and ``verify/`` with ``hmac``).
VERSION_HMAC_BYTES = 32
ED25519_SEED_BYTES = 32

_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


class MaterialError(ValueError):
    """Stored or restored key material does not fit its key type. Carries no key bytes."""


def generate(key_type: KeyType, random_bytes: Callable[[int], bytes], key_size: int = 0) -> bytes:
    """Fresh material for one version of a key of ``key_type`` (``key_size`` bytes for HMAC keys)."""
    info = spec(key_type)
    if info.family is Family.AEAD:
        return random_bytes(info.aead_bytes)
    if info.family is Family.HMAC:
        return random_bytes(key_size)
    if info.family is Family.ED25519:
        return random_bytes(ED25519_SEED_BYTES)
    private: PrivateKey
    if info.family is Family.ECDSA:
        private = ec.generate_private_key(_CURVES[info.curve]())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=info.rsa_bits)
    return private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def check(key_type: KeyType, material: bytes, key_size: int = 0) -> None:
    """Raise :class:`MaterialError` unless ``material`` is a valid stored form for ``key_type``."""
    info = spec(key_type)
    if info.family is Family.AEAD:
        if len(material) != info.aead_bytes:
            raise MaterialError("wrong key length")
    elif info.family is Family.HMAC:
        if not HMAC_MIN_BYTES <= len(material) <= HMAC_MAX_BYTES or len(material) != key_size:
            raise MaterialError("wrong key length")
    elif info.family is Family.ED25519:
        if len(material) != ED25519_SEED_BYTES:
            raise MaterialError("wrong key length")
    else:
        load_private(key_type, material)


def load_private(key_type: KeyType, material: bytes) -> PrivateKey:
    """The private key object of an asymmetric version; :class:`MaterialError` if it does not fit the type."""
    info = spec(key_type)
    if info.family is Family.ED25519:
        if len(material) != ED25519_SEED_BYTES:
            raise MaterialError("wrong key length")
        return ed25519.Ed25519PrivateKey.from_private_bytes(material)
    try:
        loaded = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError):
        raise MaterialError("not a private key") from None
    if info.family is Family.ECDSA:
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or _CURVE_NAMES.get(loaded.curve.name) != info.curve:
            raise MaterialError("wrong curve")
        return loaded
    if info.family is Family.RSA:
        if not isinstance(loaded, rsa.RSAPrivateKey) or loaded.key_size != info.rsa_bits:
            raise MaterialError("wrong RSA key size")
        return loaded
    raise MaterialError("not an asymmetric key type")


def public_key_text(public: PublicKey) -> str:
    """Vault's text form of a public key: raw base64 for Ed25519, a PKIX ``PUBLIC KEY`` PEM otherwise."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode().strip()


def private_key_text(private: PrivateKey) -> str:
    """Vault's export form of a private key.

    Ed25519: base64 of the 64-byte private key (seed then public key), as Go encodes it.
    ECDSA: a SEC 1 ``EC PRIVATE KEY`` PEM. RSA: a PKCS#1 ``RSA PRIVATE KEY`` PEM.
    """
    if isinstance(private, ed25519.Ed25519PrivateKey):
        seed = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(seed + public).decode()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return pem.decode().strip()
