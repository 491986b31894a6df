"""``revoke`` (by ``serial_number`` or by ``certificate``) and ``crl/rotate``.

A revocation is recorded first (``revoked/<serial>``, first writer wins) and
the CRL is then rebuilt from every record. Revoking again answers the first
revocation's time and rebuilds the CRL too, so a revocation whose rebuild was
cut short (a crash between the two writes) is healed by repeating it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from strongroom.errors import InvalidRequest, StorageConflict
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from .certstore import REVOKED, Revocation, load_certificate, load_revocation, rfc3339
from .codec import cert_der, encode, issued_by
from .crl import rebuild
from .issuer import Issuer
from .serials import format_serial, parse_serial, storage_name
from .state import PKIState


def revocation_data(revocation: Revocation) -> dict[str, object]:
    return {
        "revocation_time": int(revocation.revoked_at.timestamp()),
        "revocation_time_rfc3339": rfc3339(revocation.revoked_at),
    }


class RevokePaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"revoke", {Operation.UPDATE: self.revoke},
                 {"serial_number": Field(FieldType.STRING, default=""),
                  "certificate": Field(FieldType.STRING, default="")},
                 help="Revoke a certificate by serial number or by the certificate itself."),
            Path(r"crl/rotate", {Operation.READ: self.rotate}, help="Rebuild and re-sign the CRL now."),
        ]

    async def revoke(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        serial_text, pem = fd.get("serial_number"), fd.get("certificate")
        if bool(serial_text) == bool(pem):
            raise InvalidRequest("either serial_number or certificate (but not both) must be given")
        issuer = await self.state.issuers.load_signing(storage)
        cert = await self._target(storage, issuer, serial_text, pem)
        serial = cert.serial_number
        if cert_der(cert) == cert_der(issuer.certificate):
            raise InvalidRequest("revoking the mount's own CA certificate is not allowed: DELETE root instead")
        existing, _ = await load_revocation(storage, serial)
        if existing is None:
            now = self.state.now()
            if cert.not_valid_after_utc < now:
                raise InvalidRequest(f"certificate with serial {format_serial(serial)} already expired; "
                                     "refusing to add to CRL")
            existing = Revocation(serial, cert, now)
            key = REVOKED + storage_name(serial)
            try:
                await storage.transaction([TxnOp(key, encode(existing.to_json()))], [Precondition(key, None)])
            except StorageConflict:
                existing, _ = await load_revocation(storage, serial)  # revoked by another worker meanwhile
                if existing is None:
                    raise
        await rebuild(storage, issuer, self.state.now, self.state.ctx.system.random_bytes)
        return Response(data=revocation_data(existing))

    async def _target(self, storage: StorageBackend, issuer: Issuer, serial_text: str, pem: str) -> x509.Certificate:
        if serial_text:
            serial = parse_serial(serial_text)
            if serial is None:
                raise InvalidRequest("invalid serial_number: expected colon- or hyphen-separated hex")
            cert = await load_certificate(storage, serial)
            if cert is None:
                revocation, _ = await load_revocation(storage, serial)
                if revocation is None:
                    raise InvalidRequest(f"certificate with serial {format_serial(serial)} not found")
                cert = revocation.certificate
            return cert
        try:
            cert = x509.load_pem_x509_certificate(pem.strip().encode("utf-8"))
        except ValueError:
            raise InvalidRequest("the certificate could not be parsed as one PEM-encoded certificate") from None
        if not issued_by(cert, issuer.certificate):
            raise InvalidRequest("the certificate was not issued by this mount's CA")
        return cert

    async def rotate(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        issuer = await self.state.issuers.load_signing(storage)
        await rebuild(storage, issuer, self.state.now, self.state.ctx.system.random_bytes)
        return Response(data={"success": True})
