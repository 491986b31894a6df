"""Compact JWS parsing, JWK decoding and asymmetric signature checks, shared by the JWT-based auth methods.

Trust: everything here is attacker input until :func:`verify_signature` accepts it.
Only asymmetric algorithms exist here (RS256/384/512, ES256/384, EdDSA with
Ed25519): ``alg: none`` and every HMAC algorithm are refused before any key is
touched, so a token "signed" with a public key used as an HMAC secret can never
verify. Each caller narrows the accepted set further with ``algorithms``. A
key only verifies the algorithms of its own family and curve. Every failure
raises :class:`TokenRejected` (403) with a short reason that never contains the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from strongroom.errors import InvalidRequest, PermissionDenied

#: Longer tokens are refused unparsed (service-account and CI OIDC tokens are 1-4 KiB).
MAX_TOKEN_BYTES = 16 * 1024

_RSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512(),
}
_EC_ALGS: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256(), 32),
    "ES384": (ec.SECP384R1, hashes.SHA384(), 48),
}
#: RSA and ECDSA: what Kubernetes service-account tokens may use.
RSA_EC_ALGORITHMS = frozenset(_RSA_HASHES) | frozenset(_EC_ALGS)
#: Every algorithm this module can verify.
ASYMMETRIC_ALGORITHMS = RSA_EC_ALGORITHMS | {"EdDSA"}
#: Kept for callers that predate the EdDSA addition (the Kubernetes method).
SUPPORTED_ALGORITHMS = RSA_EC_ALGORITHMS

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_EC_CURVES: dict[str, tuple[ec.EllipticCurve, int]] = {"P-256": (ec.SECP256R1(), 32), "P-384": (ec.SECP384R1(), 48)}

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class TokenRejected(PermissionDenied):
    """A JWT that is malformed, unsigned, wrongly signed or carries unacceptable claims (403)."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A syntactically valid JWS whose signature has *not* been checked yet."""

    algorithm: str
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    key_id: str = ""

    def __repr__(self) -> str:
        return f"ParsedToken(algorithm={self.algorithm!r})"


def _b64(part: str) -> bytes:
    # Strict base64url without padding (RFC 7515): the lenient decoder skips stray characters, which
    # would let many spellings of one token exist.
    if not _BASE64URL.fullmatch(part):
        raise TokenRejected("malformed JWT")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise TokenRejected("malformed JWT") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TokenRejected("malformed JWT") from None
    if not isinstance(value, dict):
        raise TokenRejected("malformed JWT")
    return value


def _algorithm_names(algorithms: Collection[str]) -> str:
    return ", ".join(sorted(algorithms))


def parse(token: str, algorithms: Collection[str] = RSA_EC_ALGORITHMS) -> ParsedToken:
    """Split and decode a compact JWS; refuses oversized, malformed tokens and any ``alg`` not in ``algorithms``.

    ``algorithms`` is intersected with :data:`ASYMMETRIC_ALGORITHMS`, so no caller can enable
    ``none`` or HMAC by configuration.
    """
    if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        raise TokenRejected("JWT is too large")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise TokenRejected("malformed JWT")
    header = _json_object(_b64(parts[0]))
    alg = header.get("alg")
    accepted = ASYMMETRIC_ALGORITHMS & frozenset(algorithms)
    if not isinstance(alg, str) or alg not in accepted:
        raise TokenRejected(f"JWT signing algorithm is not accepted ({_algorithm_names(accepted)} only)")
    if "crit" in header:
        # RFC 7515 4.1.11: a recipient that does not understand a critical extension must refuse.
        raise TokenRejected("JWT carries critical header extensions, which are not supported")
    kid = header.get("kid")
    claims = _json_object(_b64(parts[1]))
    signature = _b64(parts[2])
    if not signature:
        raise TokenRejected("JWT has no signature")
    return ParsedToken(alg, claims, f"{parts[0]}.{parts[1]}".encode("ascii", "replace"), signature,
                       kid if isinstance(kid, str) else "")


def _verifies(token: ParsedToken, key: PublicKey) -> bool:
    try:
        if token.algorithm in _RSA_HASHES and isinstance(key, rsa.RSAPublicKey):
            key.verify(token.signature, token.signing_input, padding.PKCS1v15(), _RSA_HASHES[token.algorithm])
            return True
        if token.algorithm in _EC_ALGS and isinstance(key, ec.EllipticCurvePublicKey):
            curve, digest, size = _EC_ALGS[token.algorithm]
            if not isinstance(key.curve, curve) or len(token.signature) != 2 * size:
                return False
            r = int.from_bytes(token.signature[:size], "big")
            s = int.from_bytes(token.signature[size:], "big")
            key.verify(encode_dss_signature(r, s), token.signing_input, ec.ECDSA(digest))
            return True
        if token.algorithm == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(token.signature, token.signing_input)
            return True
    except InvalidSignature:
        return False
    return False


def verify_signature(token: ParsedToken, keys: Sequence[PublicKey]) -> None:
    """Accept ``token`` if one of ``keys`` (of the algorithm's family) verifies its signature."""
    if not any(_verifies(token, key) for key in keys):
        raise TokenRejected("JWT signature could not be verified with the configured keys")


# -- JWK (RFC 7517/7518/8037) ------------------------------------------------------------------


def _jwk_int(jwk: Mapping[str, Any], name: str) -> int:
    return int.from_bytes(_jwk_bytes(jwk, name), "big")


def _jwk_bytes(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value or not _BASE64URL.fullmatch(value):
        raise InvalidRequest(f"JWK member {name!r} is missing or not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"JWK member {name!r} is not base64url") from None


def key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """The public key of one JWK (``RSA``, ``EC`` P-256/P-384, ``OKP`` Ed25519); 400 for anything else.

    Private members are ignored (never needed, never stored); symmetric (``oct``) keys are refused.
    """
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            exponent, modulus = _jwk_int(jwk, "e"), _jwk_int(jwk, "n")
            if modulus.bit_length() < 2048:
                raise InvalidRequest("JWK RSA keys must be at least 2048 bits")
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        if kty == "EC":
            crv = jwk.get("crv")
            if not isinstance(crv, str) or crv not in _EC_CURVES:
                raise InvalidRequest("JWK EC curve must be P-256 or P-384")
            curve, size = _EC_CURVES[crv]
            x, y = _jwk_bytes(jwk, "x"), _jwk_bytes(jwk, "y")
            if len(x) != size or len(y) != size:
                raise InvalidRequest("JWK EC coordinates have the wrong length")
            return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                 curve).public_key()
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(_jwk_bytes(jwk, "x"))
    except ValueError:
        raise InvalidRequest("JWK does not hold a valid public key") from None
    raise InvalidRequest("JWK key type must be RSA, EC or OKP (Ed25519)")
