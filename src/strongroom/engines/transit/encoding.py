"""Base64 at the API edge: strict decoding of caller fields, and the encodings of our output.

Vault's fields (``plaintext``, ``context``, ``input``, ...) are standard base64
with padding, as Go's ``base64.StdEncoding`` reads them. A field that does not
decode is a 400 naming the field, never its value.
"""

from __future__ import annotations

import base64
import binascii

from strongroom.errors import InvalidRequest


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url_raw(data: bytes) -> str:
    """URL-safe base64 without padding (JWS)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_std(text: str) -> bytes | None:
    """Strict standard base64, or None: only the alphabet, correct padding."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_url(text: str) -> bytes | None:
    """URL-safe base64 with or without padding, or None."""
    if not text.isascii() or any(c not in _URL_ALPHABET for c in text.rstrip("=")):
        return None
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1 or len(text) - len(stripped) > 2:
        return None
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        return None


_URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def field_bytes(value: str, name: str) -> bytes:
    """Decode the base64 field ``name``; 400 ``failed to base64-decode <name>`` when it does not decode."""
    decoded = decode_std(value)
    if decoded is None:
        raise InvalidRequest(f"failed to base64-decode {name}")
    return decoded
