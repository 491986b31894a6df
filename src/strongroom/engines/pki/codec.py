"""PEM/DER helpers and the JSON codec for this engine's storage entries.

Storage sits behind the barrier, so an entry that does not parse is an internal
error (storage holds something this engine did not write), never a 400.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from strongroom.errors import InternalError


def cert_pem(cert: x509.Certificate) -> str:
    """PEM text without the trailing newline, as Vault returns it."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii").strip()


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def cert_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert_der(cert)).decode("ascii")


def load_stored_cert(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InternalError("a stored pki certificate could not be parsed") from None


def load_stored_der(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise InternalError("a stored pki certificate could not be parsed") from None


def encode(value: Any) -> bytes:
    return orjson.dumps(value)


def decode(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InternalError("a pki storage entry is not valid JSON") from None


def new_id(random_bytes: Callable[[int], bytes]) -> str:
    """A random UUID-shaped identifier (Vault's issuer and key ids look like this)."""
    return str(uuid.UUID(bytes=random_bytes(16)))


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and the certificate's own key verifies its signature."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Whether ``parent``'s key signed ``child`` (and the names line up)."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
