"""The ``vault:v<N>:<base64>`` envelope of ciphertexts, signatures and HMACs.

``N`` is the key version (decimal, no sign, no leading zero, at most nine
digits); the body is standard base64 (or URL-safe base64 for JWS-marshalled
signatures). For ciphertexts of AEAD keys the body is ``nonce (12 bytes) ||
ciphertext || tag (16 bytes)``; for RSA keys it is the RSA-OAEP output.

:func:`parse` accepts exactly what :func:`render` produces and raises
:class:`EnvelopeError` (no message) for anything else; callers turn that into
their one opaque error.
"""

from __future__ import annotations

import re

from .encoding import b64, b64url_raw, decode_std, decode_url

PREFIX = "vault:v"
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


class EnvelopeError(ValueError):
    """Not a well-formed envelope. Deliberately says nothing more."""


def render(version: int, body: bytes, *, urlsafe: bool = False) -> str:
    return f"{PREFIX}{version}:{b64url_raw(body) if urlsafe else b64(body)}"


def parse(text: object, *, urlsafe: bool = False) -> tuple[int, bytes]:
    """``(version, body)`` of an envelope, or :class:`EnvelopeError`."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise EnvelopeError()
    version, colon, encoded = text[len(PREFIX):].partition(":")
    if not colon or _VERSION.fullmatch(version) is None:
        raise EnvelopeError()
    # The decoders are strict (alphabet, padding), so the body needs no pattern check of its own.
    body = decode_url(encoded) if urlsafe else decode_std(encoded)
    if body is None:
        raise EnvelopeError()
    return int(version), body
