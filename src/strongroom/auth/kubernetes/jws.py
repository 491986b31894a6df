"""Service-account JWTs: compact JWS parsing and signature checks with ``cryptography``.

Trust: everything here is attacker input until :func:`verify_signature` accepts it.
Only asymmetric algorithms are accepted (RS256/384/512, ES256/384): ``alg: none``
and every HMAC algorithm are refused before any key is touched, so a token
"signed" with a public key used as an HMAC secret can never verify. Every
failure raises :class:`TokenRejected` with a short reason that never contains
the token.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from strongroom.errors import PermissionDenied

#: Longer tokens are refused unparsed (real service-account tokens are about 1 KiB).
MAX_TOKEN_BYTES = 16 * 1024

_RSA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512(),
}
_EC_ALGS: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256(), 32),
    "ES384": (ec.SECP384R1, hashes.SHA384(), 48),
}
SUPPORTED_ALGORITHMS = frozenset(_RSA_HASHES) | frozenset(_EC_ALGS)

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class TokenRejected(PermissionDenied):
    """A JWT that is malformed, unsigned, wrongly signed or carries unacceptable claims (403)."""


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A syntactically valid JWS whose signature has *not* been checked yet."""

    algorithm: str
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

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
    except (ValueError, UnicodeDecodeError):
        raise TokenRejected("malformed JWT") from None
    if not isinstance(value, dict):
        raise TokenRejected("malformed JWT")
    return value


def parse(token: str) -> ParsedToken:
    """Split and decode a compact JWS; refuses oversized, malformed and non-asymmetric tokens."""
    if len(token.encode("utf-8", "replace")) > MAX_TOKEN_BYTES:
        raise TokenRejected("JWT is too large")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise TokenRejected("malformed JWT")
    header = _json_object(_b64(parts[0]))
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
        raise TokenRejected("JWT signing algorithm is not accepted (RS256/384/512 or ES256/384 only)")
    claims = _json_object(_b64(parts[1]))
    signature = _b64(parts[2])
    if not signature:
        raise TokenRejected("JWT has no signature")
    return ParsedToken(alg, claims, f"{parts[0]}.{parts[1]}".encode("ascii", "replace"), signature)


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
    except InvalidSignature:
        return False
    return False


def verify_signature(token: ParsedToken, keys: list[PublicKey]) -> None:
    """Accept ``token`` if one of ``keys`` (of the algorithm's family) verifies its signature."""
    if not any(_verifies(token, key) for key in keys):
        raise TokenRejected("JWT signature could not be verified with the configured keys")
