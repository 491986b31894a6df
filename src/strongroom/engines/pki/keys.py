"""Key types the engine issues for: generation, checks on callers' keys, and output encodings.

Three families, as in Vault: ``rsa`` (2048 by default; 3072, 4096, 8192),
``ec`` (NIST P-256 by default; P-224, P-384, P-521) and ``ed25519``. A role
may also say ``any`` (sign CSRs of any of them, never generate).

Private keys leave this module only as :class:`PrivateKeyPEM` (whose ``repr``
hides the value) or as the one-time output of an ``exported`` request.
Errors name the field and the allowed values, never the caller's input.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PrivateKeyTypes

from strongroom.errors import InternalError, InvalidRequest

IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

KEY_TYPES = ("rsa", "ec", "ed25519")
RSA_BITS = (2048, 3072, 4096, 8192)
EC_CURVES: dict[int, type[ec.EllipticCurve]] = {
    224: ec.SECP224R1, 256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1,
}
DEFAULT_BITS = {"rsa": 2048, "ec": 256, "ed25519": 0, "any": 0}
#: The smallest key of a caller's CSR a role with ``key_type=any`` accepts (Vault's floor).
MIN_ANY_BITS = {"rsa": 2048, "ec": 224, "ed25519": 0}
SignatureHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512
#: RSA signatures: the hash follows ``signature_bits`` (256 unless asked otherwise).
SIGNATURE_HASHES: dict[int, type[SignatureHash]] = {256: hashes.SHA256, 384: hashes.SHA384, 512: hashes.SHA512}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A validated key type and size (``bits`` is 0 for ed25519 and ``any``)."""

    key_type: str
    bits: int


def key_spec(key_type: str, key_bits: int, *, allow_any: bool = False) -> KeySpec:
    """Validate ``key_type``/``key_bits`` (0 bits: the type's default) or raise a 400 naming the rule."""
    allowed = (*KEY_TYPES, "any") if allow_any else KEY_TYPES
    if key_type not in allowed:
        raise InvalidRequest(f"invalid key_type: must be one of {', '.join(allowed)}")
    bits = key_bits or DEFAULT_BITS[key_type]
    if key_type == "rsa" and bits not in RSA_BITS:
        raise InvalidRequest("invalid key_bits for key_type rsa: must be 2048, 3072, 4096 or 8192")
    if key_type == "ec" and bits not in EC_CURVES:
        raise InvalidRequest("invalid key_bits for key_type ec: must be 224, 256, 384 or 521")
    if key_type in ("ed25519", "any"):
        bits = 0
    return KeySpec(key_type, bits)


def generate(spec: KeySpec) -> IssuerKey:
    """A fresh private key of ``spec`` (CPU-heavy for RSA: run it off the event loop)."""
    if spec.key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.bits)
    if spec.key_type == "ec":
        return ec.generate_private_key(EC_CURVES[spec.bits]())
    if spec.key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise InvalidRequest("a role with key_type any cannot generate keys; use the sign endpoint with a CSR")


async def generate_async(spec: KeySpec) -> IssuerKey:
    """:func:`generate` without stalling the event loop.

    RSA generation takes tens of milliseconds (seconds for 8192 bits) and runs
    in a thread; EC and Ed25519 take microseconds, less than the hop to a
    thread would cost, and run inline.
    """
    if spec.key_type == "rsa":
        return await asyncio.to_thread(generate, spec)
    return generate(spec)


def key_type_of(key: PublicKey | IssuerKey) -> str:
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "rsa"
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "ec"
    return "ed25519"


def key_bits_of(key: PublicKey | IssuerKey) -> int:
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey, ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return key.key_size
    return 0


def supported_public_key(key: CertificatePublicKeyTypes) -> PublicKey:
    """``key`` when it is one of the three families, else a 400 (DSA, Ed448, X25519 and the like)."""
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.key_size not in EC_CURVES or not isinstance(key.curve, EC_CURVES[key.key_size]):
            raise InvalidRequest("unsupported elliptic curve: use P-224, P-256, P-384 or P-521")
        return key
    raise InvalidRequest("unsupported public key type: use rsa, ec or ed25519")


def check_public_key(key: PublicKey, spec: KeySpec) -> None:
    """Enforce a role's key rules on a caller's key (a CSR's), with Vault's semantics.

    A role of a given type accepts only that type; its ``key_bits`` is a floor
    for RSA and an exact curve for EC. ``any`` accepts every family above
    Vault's minimum sizes.
    """
    kind, bits = key_type_of(key), key_bits_of(key)
    if spec.key_type == "any":
        if bits < MIN_ANY_BITS[kind]:
            raise InvalidRequest(f"the CSR's {kind} key is too small: at least {MIN_ANY_BITS[kind]} bits")
        return
    if kind != spec.key_type:
        raise InvalidRequest(f"role requires keys of type {spec.key_type}, but the CSR's key is {kind}")
    if kind == "rsa" and bits < spec.bits:
        raise InvalidRequest(f"the CSR's RSA key is too small: the role requires at least {spec.bits} bits")
    if kind == "ec" and bits != spec.bits:
        raise InvalidRequest(f"the CSR's EC key is on a {bits}-bit curve; the role requires {spec.bits} bits")


def signature_hash(key: IssuerKey, signature_bits: int) -> SignatureHash | None:
    """The hash an issuer signs with: RSA follows ``signature_bits``; EC follows its curve; Ed25519 has none."""
    if isinstance(key, rsa.RSAPrivateKey):
        if signature_bits not in (0, *SIGNATURE_HASHES):
            raise InvalidRequest("invalid signature_bits: must be 0, 256, 384 or 512")
        return SIGNATURE_HASHES[signature_bits or 256]()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return SIGNATURE_HASHES[{224: 256, 256: 256, 384: 384, 521: 512}[key.key_size]]()
    return None


class PrivateKeyPEM:
    """A private key as PKCS#8 PEM text, for storage behind the barrier. ``repr`` never shows it."""

    __slots__ = ("_pem",)

    def __init__(self, pem: bytes) -> None:
        self._pem = pem

    @classmethod
    def of(cls, key: IssuerKey) -> PrivateKeyPEM:
        return cls(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))

    def reveal(self) -> str:
        """The PEM text, for the storage codec only."""
        return self._pem.decode("ascii")

    def load(self) -> IssuerKey:
        """Parse the stored key. A failure means storage holds something this engine did not write."""
        try:
            key = serialization.load_pem_private_key(self._pem, password=None)
        except (ValueError, TypeError):
            raise InternalError("a stored pki key could not be parsed") from None
        return issuer_key(key)

    def __repr__(self) -> str:
        return "PrivateKeyPEM(<hidden>)"


def issuer_key(key: PrivateKeyTypes) -> IssuerKey:
    """``key`` narrowed to the three families, or a 400 (an imported DSA key, say)."""
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise InvalidRequest("unsupported private key type: use rsa, ec or ed25519")


def private_key_output(key: IssuerKey, fmt: str, private_key_format: str) -> str:
    """The ``private_key`` response field, encoded as Vault does.

    ``private_key_format=der`` (the default) uses each family's traditional
    encoding (PKCS#1 for RSA, SEC 1 for EC; Ed25519 has only PKCS#8), as PEM
    when ``format`` is pem or pem_bundle and as base64 DER when it is der.
    ``pkcs8`` always uses PKCS#8.
    """
    if private_key_format == "pkcs8" or isinstance(key, ed25519.Ed25519PrivateKey):
        private_format = serialization.PrivateFormat.PKCS8
    else:
        private_format = serialization.PrivateFormat.TraditionalOpenSSL
    if fmt == "der":
        raw = key.private_bytes(serialization.Encoding.DER, private_format, serialization.NoEncryption())
        return base64.b64encode(raw).decode("ascii")
    pem = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    return pem.decode("ascii").strip()
