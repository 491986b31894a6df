"""Service-account JWTs: the shared JWS layer (:mod:`strongroom.sdk.jwt`) narrowed to RSA and ECDSA.

Trust: everything here is attacker input until :func:`verify_signature` accepts it.
Only RS256/384/512 and ES256/384 are accepted: ``alg: none``, every HMAC
algorithm (and EdDSA, which Kubernetes does not issue) are refused before any
key is touched. Every failure raises :class:`TokenRejected` with a short reason
that never contains the token.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from strongroom.sdk import jwt as _jwt
from strongroom.sdk.jwt import MAX_TOKEN_BYTES, SUPPORTED_ALGORITHMS, ParsedToken, TokenRejected, verify_signature

#: The keys a service-account token can be checked with (PEM keys are RSA or EC only).
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

__all__ = ["MAX_TOKEN_BYTES", "SUPPORTED_ALGORITHMS", "ParsedToken", "PublicKey", "TokenRejected", "parse",
           "verify_signature"]


def parse(token: str) -> ParsedToken:
    """Split and decode a compact JWS; refuses oversized, malformed and non-RSA/ECDSA tokens."""
    return _jwt.parse(token, SUPPORTED_ALGORITHMS)
