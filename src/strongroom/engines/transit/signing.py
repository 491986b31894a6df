"""Signatures with one version of an Ed25519, ECDSA or RSA key, and their verification.

* Ed25519 signs the input itself (``hash_algorithm`` does not apply; ``prehashed``
  is refused). A derived key signs with the key derived from the context.
* ECDSA signs the digest of the input under ``hash_algorithm`` (or the input as
  that digest when ``prehashed``). ``asn1`` marshals the DER ``SEQUENCE{r, s}``;
  ``jws`` the fixed-width ``r || s`` of RFC 7518.
* RSA signs with PSS (default; MGF1 with the same hash; ``salt_length`` ``auto``
  signs with the longest salt and verifies any, ``hash`` uses the digest length,
  or a number of bytes) or PKCS#1 v1.5.

``jws`` also switches the envelope body to unpadded URL-safe base64, as in Vault.
Verification answers False for a signature that does not verify, whatever the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from strongroom.errors import InvalidRequest

from .keytypes import Family
from .material import public_key_text
from .policy import KeyPolicy
from .private_keys import private_key


@dataclass(frozen=True, slots=True)
class SignOptions:
    hash: hashes.HashAlgorithm
    prehashed: bool = False
    #: ``pss`` or ``pkcs1v15`` (RSA only).
    signature_algorithm: str = "pss"
    #: ``asn1`` or ``jws``.
    marshaling: str = "asn1"
    #: ``auto``, ``hash`` or a decimal number of bytes (RSA-PSS only).
    salt_length: str = "auto"

    @property
    def urlsafe(self) -> bool:
        return self.marshaling == "jws"


def options(
    policy: KeyPolicy,
    hash_algorithm: hashes.HashAlgorithm,
    *,
    prehashed: bool,
    signature_algorithm: str,
    marshaling: str,
    salt_length: str,
) -> SignOptions:
    """Validated options for signing or verifying with ``policy`` (400 on a bad value, naming no input)."""
    family = policy.spec.family
    if family not in (Family.ED25519, Family.ECDSA, Family.RSA):
        raise InvalidRequest(f"key type {policy.key_type} does not support signing")
    signature_algorithm = (signature_algorithm or "pss").lower()
    if signature_algorithm not in ("pss", "pkcs1v15"):
        raise InvalidRequest("unsupported signature_algorithm: use pss or pkcs1v15")
    marshaling = (marshaling or "asn1").lower()
    if marshaling not in ("asn1", "jws"):
        raise InvalidRequest("unsupported marshaling_algorithm: use asn1 or jws")
    salt_length = (salt_length or "auto").lower()
    if salt_length not in ("auto", "hash") and not (salt_length.isdigit() or salt_length == "-1"):
        raise InvalidRequest("invalid salt_length: use auto, hash or a number of bytes")
    if prehashed and family is Family.ED25519:
        raise InvalidRequest("prehashed input is not supported by ed25519 keys")
    return SignOptions(hash_algorithm, prehashed, signature_algorithm, marshaling, salt_length)


def _message(data: bytes, opts: SignOptions) -> tuple[bytes, hashes.HashAlgorithm | utils.Prehashed]:
    if opts.prehashed:
        if len(data) != opts.hash.digest_size:
            raise InvalidRequest("prehashed input does not have the length of the hash algorithm's digest")
        return data, utils.Prehashed(opts.hash)
    return data, opts.hash


def _pss_salt(opts: SignOptions, *, signing: bool) -> int | Any:
    if opts.salt_length in ("hash", "-1"):
        return padding.PSS.DIGEST_LENGTH
    if opts.salt_length in ("auto", "0"):
        return padding.PSS.MAX_LENGTH if signing else padding.PSS.AUTO
    return int(opts.salt_length)


def _rsa_padding(opts: SignOptions, *, signing: bool) -> padding.AsymmetricPadding:
    if opts.signature_algorithm == "pkcs1v15":
        return padding.PKCS1v15()
    return padding.PSS(mgf=padding.MGF1(opts.hash), salt_length=_pss_salt(opts, signing=signing))


def _jws_width(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> int:
    return (key.curve.key_size + 7) // 8


def sign(policy: KeyPolicy, version: int, data: bytes, context: bytes, opts: SignOptions) -> bytes:
    """The raw signature of ``data`` (the caller renders the envelope)."""
    key = private_key(policy, version, context)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    message, alg = _message(data, opts)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        der = key.sign(message, ec.ECDSA(alg))
        if opts.marshaling != "jws":
            return der
        r, s = utils.decode_dss_signature(der)
        width = _jws_width(key)
        return r.to_bytes(width, "big") + s.to_bytes(width, "big")
    try:
        return key.sign(message, _rsa_padding(opts, signing=True), alg)
    except ValueError:
        raise InvalidRequest("invalid salt_length for this key and hash algorithm") from None


def verify(
    policy: KeyPolicy, version: int, data: bytes, signature: bytes, *, context: bytes, opts: SignOptions
) -> bool:
    """Does ``signature`` sign ``data`` under ``version``? False for every kind of mismatch."""
    public = private_key(policy, version, context).public_key()
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
            return True
        message, alg = _message(data, opts)
        if isinstance(public, ec.EllipticCurvePublicKey):
            if opts.marshaling == "jws":
                width = _jws_width(public)
                if len(signature) != 2 * width:
                    return False
                r = int.from_bytes(signature[:width], "big")
                s = int.from_bytes(signature[width:], "big")
                signature = utils.encode_dss_signature(r, s)
            public.verify(signature, message, ec.ECDSA(alg))
            return True
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, message, _rsa_padding(opts, signing=False), alg)
        return True
    except InvalidSignature:
        return False
    except ValueError:
        # e.g. a salt length larger than the key allows: nothing could verify.
        return False


def public_key_for(policy: KeyPolicy, version: int, context: bytes) -> str:
    """The public key text of ``version`` (derived from ``context`` for a derived Ed25519 key)."""
    return public_key_text(private_key(policy, version, context).public_key())
