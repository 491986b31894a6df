"""Reading what the authority publishes: ``ca``, ``ca/pem``, ``ca_chain``, ``crl``, ``crl/pem``,
``cert/:serial`` (JSON; ``ca``, ``ca_chain`` and ``crl`` are special serials), ``cert/:serial/raw(/pem)``,
and the authenticated listings ``LIST certs`` and ``LIST certs/revoked``.

Raw answers follow Vault: DER as ``application/pkix-cert`` or
``application/pkix-crl``, PEM without a trailing newline, and 204 with an
empty body when there is nothing to show (no CA yet).
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Sequence
from typing import Any

from strongroom.errors import NotFound
from strongroom.sdk.fields import FieldData
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, RawResponse, Request, Response
from strongroom.sdk.storage import StorageBackend

from .certstore import CERTS, REVOKED, list_serials, load_certificate, load_revocation
from .codec import cert_der, cert_pem
from .crl import current_der, rebuild
from .serials import parse_serial
from .state import PKIState

PKIX_CERT = "application/pkix-cert"
PEM_CHAIN = "application/pem-certificate-chain"
PKIX_CRL = "application/pkix-crl"
PEM_FILE = "application/x-pem-file"
R, L = Operation.READ, Operation.LIST


def raw(body: bytes, content_type: str) -> Response:
    return Response(raw=RawResponse(status=200 if body else 204, content_type=content_type, body=body))


def pem_block(label: str, der: bytes) -> bytes:
    """PEM armour around ``der`` (64-column lines), without a trailing newline as Vault sends it."""
    text = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {label}-----\n{text}\n-----END {label}-----".encode("ascii")


class FetchPaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"ca", {R: self.ca_der}, help="The CA certificate, DER."),
            Path(r"ca/pem", {R: self.ca_pem}, help="The CA certificate, PEM."),
            Path(r"ca_chain", {R: self.ca_chain}, help="The CA chain, PEM, issuing CA first."),
            Path(r"crl", {R: self.crl_der}, help="The CRL, DER."),
            Path(r"crl/pem", {R: self.crl_pem}, help="The CRL, PEM."),
            Path(r"certs/?", {L: self.list_certs}, help="Serial numbers of stored certificates."),
            Path(r"certs/revoked/?", {L: self.list_revoked}, help="Serial numbers of revoked certificates."),
            Path(r"cert/(?P<serial>[0-9A-Za-z:_-]+)/raw", {R: self.cert_raw_der}, help="A certificate, DER."),
            Path(r"cert/(?P<serial>[0-9A-Za-z:_-]+)/raw/pem", {R: self.cert_raw_pem}, help="A certificate, PEM."),
            Path(r"cert/(?P<serial>[0-9A-Za-z:_-]+)", {R: self.cert_json},
                 help="A certificate by serial (or ca, ca_chain, crl), JSON."),
        ]

    async def _chain_pem(self, storage: StorageBackend) -> bytes:
        issuer = await self.state.issuers.load(storage)
        if issuer is None:
            return b""
        return "\n".join(cert_pem(cert) for cert in issuer.chain).encode("ascii")

    async def _ca(self, storage: StorageBackend) -> bytes:
        issuer = await self.state.issuers.load(storage)
        return b"" if issuer is None else cert_der(issuer.certificate)

    async def _crl(self, storage: StorageBackend) -> bytes:
        """The published CRL, rebuilt first when none is current (expired, or never built); empty without a CA."""
        if await self.state.issuers.load(storage) is None:
            return b""
        der = await current_der(storage, self.state.now())
        if der is None:
            issuer = await self.state.issuers.load_signing(storage)
            await rebuild(storage, issuer, self.state.now, self.state.ctx.system.random_bytes)
            der = await current_der(storage, self.state.now())
        return der or b""

    async def ca_der(self, req: Request, fd: FieldData) -> Response:
        return raw(await self._ca(self.state.storage(req)), PKIX_CERT)

    async def ca_pem(self, req: Request, fd: FieldData) -> Response:
        der = await self._ca(self.state.storage(req))
        return raw(pem_block("CERTIFICATE", der) if der else b"", PEM_CHAIN)

    async def ca_chain(self, req: Request, fd: FieldData) -> Response:
        return raw(await self._chain_pem(self.state.storage(req)), PKIX_CERT)

    async def crl_der(self, req: Request, fd: FieldData) -> Response:
        return raw(await self._crl(self.state.storage(req)), PKIX_CRL)

    async def crl_pem(self, req: Request, fd: FieldData) -> Response:
        der = await self._crl(self.state.storage(req))
        return raw(pem_block("X509 CRL", der) if der else b"", PEM_FILE)

    async def list_certs(self, req: Request, fd: FieldData) -> Response:
        return _listing(await list_serials(self.state.storage(req), CERTS))

    async def list_revoked(self, req: Request, fd: FieldData) -> Response:
        return _listing(await list_serials(self.state.storage(req), REVOKED))

    async def _stored_der(self, storage: StorageBackend, text: str) -> bytes:
        serial = parse_serial(text)
        if serial is None:
            raise NotFound()
        cert = await load_certificate(storage, serial)
        if cert is None:
            revocation, _ = await load_revocation(storage, serial)
            if revocation is None:
                raise NotFound()
            cert = revocation.certificate
        return cert_der(cert)

    async def cert_raw_der(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        text = fd.get("serial")
        der = await self._ca(storage) if text == "ca" else await self._stored_der(storage, text)
        return raw(der, PKIX_CERT)

    async def cert_raw_pem(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        text = fd.get("serial")
        der = await self._ca(storage) if text == "ca" else await self._stored_der(storage, text)
        return raw(pem_block("CERTIFICATE", der) if der else b"", PEM_CHAIN)

    async def cert_json(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        text: str = fd.get("serial")
        data: dict[str, Any] = {"revocation_time": 0, "revocation_time_rfc3339": ""}
        if text == "ca":
            der = await self._ca(storage)
            data["certificate"] = pem_block("CERTIFICATE", der).decode("ascii") if der else ""
        elif text == "ca_chain":
            chain = (await self._chain_pem(storage)).decode("ascii")
            data.update(certificate=chain, ca_chain=chain)
        elif text == "crl":
            der = await self._crl(storage)
            data["certificate"] = pem_block("X509 CRL", der).decode("ascii") if der else ""
        else:
            serial = parse_serial(text)
            if serial is None:
                raise NotFound()
            revocation, _ = await load_revocation(storage, serial)
            cert = await load_certificate(storage, serial)
            if cert is None:
                if revocation is None:
                    raise NotFound()
                cert = revocation.certificate
            data["certificate"] = cert_pem(cert)
            if revocation is not None:
                data["revocation_time"] = int(revocation.revoked_at.timestamp())
                data["revocation_time_rfc3339"] = revocation.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response(data=data)


def _listing(keys: list[str]) -> Response:
    if not keys:
        raise NotFound()
    return Response.list_of(keys)

