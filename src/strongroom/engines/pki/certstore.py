"""Issued certificates and revocation records in the mount's storage.

Layout: ``certs/<serial>`` holds the DER certificate; ``revoked/<serial>`` holds
``{"certificate": base64 DER, "revocation_time": unix seconds,
"revocation_time_utc": RFC 3339}``. ``<serial>`` is the hyphenated form, as in
Vault. Listings answer the colon form.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass

from cryptography import x509

from strongroom.errors import InternalError, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from .codec import cert_der, decode, load_stored_der
from .serials import format_serial, parse_serial, storage_name

CERTS = "certs/"
REVOKED = "revoked/"


@dataclass(frozen=True, slots=True)
class Revocation:
    serial: int
    certificate: x509.Certificate
    revoked_at: datetime.datetime

    def to_json(self) -> dict[str, object]:
        return {
            "certificate": base64.b64encode(cert_der(self.certificate)).decode("ascii"),
            "revocation_time": int(self.revoked_at.timestamp()),
            "revocation_time_utc": rfc3339(self.revoked_at),
        }


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def store_certificate(storage: StorageBackend, cert: x509.Certificate) -> bool:
    """Record an issued certificate; False (and nothing written) if its serial is already taken."""
    key = CERTS + storage_name(cert.serial_number)
    try:
        await storage.transaction([TxnOp(key, cert_der(cert))], [Precondition(key, None)])
    except StorageConflict:
        return False
    return True


async def load_certificate(storage: StorageBackend, serial: int) -> x509.Certificate | None:
    raw = await storage.get(CERTS + storage_name(serial))
    return None if raw is None else load_stored_der(raw)


def decode_revocation(raw: bytes) -> Revocation:
    entry = decode(raw)
    try:
        cert = load_stored_der(base64.b64decode(entry["certificate"], validate=True))
        revoked_at = datetime.datetime.fromtimestamp(int(entry["revocation_time"]), tz=datetime.UTC)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InternalError("a stored pki revocation entry is malformed") from None
    return Revocation(cert.serial_number, cert, revoked_at)


async def load_revocation(storage: StorageBackend, serial: int) -> tuple[Revocation | None, bytes | None]:
    """The revocation of ``serial`` and its storage version (both None when it is not revoked)."""
    raw, version = await storage.get_with_version(REVOKED + storage_name(serial))
    return (None if raw is None else decode_revocation(raw)), version


async def all_revocations(storage: StorageBackend) -> list[Revocation]:
    found = []
    for name in await storage.list(REVOKED):
        raw = await storage.get(REVOKED + name)
        if raw is not None:
            found.append(decode_revocation(raw))
    return found


async def list_serials(storage: StorageBackend, prefix: str) -> list[str]:
    """Colon-form serials stored under ``prefix`` (entries that are not serials are skipped)."""
    serials = []
    for name in await storage.list(prefix):
        value = parse_serial(name)
        if value is not None:
            serials.append(format_serial(value))
    return serials
