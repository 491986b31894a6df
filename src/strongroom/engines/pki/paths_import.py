"""Installing a CA made elsewhere: ``config/ca`` (certificate and key) and ``intermediate/set-signed``
(the signed certificate for the key of this mount's last intermediate CSR).

The imported certificate must be a CA (basic constraints CA:TRUE) and match
the key; other certificates in the bundle that sign it, directly or up a
chain, become its ``ca_chain``; the rest are ignored with a warning. The
answer has Vault's import shape (``imported_issuers``, ``imported_keys``,
``mapping``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.errors import InvalidRequest, StorageConflict
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp

from .bundle import Bundle, build_chain, certificate_for, parse_bundle, require_ca
from .codec import cert_der, new_id
from .crl import next_crl_op
from .issuer import ISSUER_KEY, PENDING_KEY, Issuer, IssuerStore, load_key_entry
from .keys import IssuerKey, PrivateKeyPEM
from .state import PKIState

EXISTING_CA = "this mount already has a CA: DELETE root first, or import into another mount"


class ImportPaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"config/ca", {Operation.UPDATE: self.import_bundle},
                 {"pem_bundle": Field(FieldType.STRING, default="")},
                 help="Import a CA certificate and its private key (PEM bundle)."),
            Path(r"intermediate/set-signed", {Operation.UPDATE: self.set_signed},
                 {"certificate": Field(FieldType.STRING, default="")},
                 help="Install the signed certificate for the pending intermediate CSR's key."),
        ]

    async def import_bundle(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        bundle = parse_bundle(fd.get("pem_bundle"), "pem_bundle")
        if len(bundle.keys) != 1:
            raise InvalidRequest("pem_bundle must hold exactly one private key: the CA's")
        key = bundle.keys[0]
        key_id = new_id(self.state.ctx.system.random_bytes)
        issuer, warnings = self._issuer(bundle, key, key_id)
        await self._install(storage, issuer, key, [])
        return Response(data=import_answer(issuer, imported_key=True), warnings=warnings)

    async def set_signed(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        bundle = parse_bundle(fd.get("certificate"), "certificate")
        if bundle.keys:
            raise InvalidRequest("certificate must not hold private keys: import keys with config/ca")
        raw, version = await storage.get_with_version(PENDING_KEY)
        if raw is None:
            raise InvalidRequest("no pending intermediate key: generate a CSR with intermediate/generate first")
        key_id, pem = load_key_entry(raw)
        key = pem.load()
        issuer, warnings = self._issuer(bundle, key, key_id)
        await self._install(storage, issuer, key, [Precondition(PENDING_KEY, version)], [TxnOp(PENDING_KEY, None)])
        return Response(data=import_answer(issuer, imported_key=False), warnings=warnings)

    def _issuer(self, bundle: Bundle, key: IssuerKey, key_id: str) -> tuple[Issuer, list[str]]:
        cert = certificate_for(key, bundle.certificates)
        if cert is None:
            raise InvalidRequest("no certificate in the bundle matches the CA's private key")
        require_ca(cert)
        chain = build_chain(cert, bundle.certificates)
        ignored = len({cert_der(c) for c in bundle.certificates} - {cert_der(c) for c in chain})
        warnings = [f"{ignored} certificate(s) in the bundle are not in the CA's chain and were ignored"]
        if not ignored:
            warnings = []
        issuer = Issuer(
            issuer_id=new_id(self.state.ctx.system.random_bytes), key_id=key_id, certificate=cert, chain=chain, key=key,
        )
        return issuer, warnings

    async def _install(
        self, storage: StorageBackend, issuer: Issuer, key: IssuerKey,
        preconditions: list[Precondition], extra: list[TxnOp] | None = None,
    ) -> None:
        if await storage.get(ISSUER_KEY) is not None:
            raise InvalidRequest(EXISTING_CA)
        crl_op, crl_condition = await next_crl_op(storage, issuer, self.state.now())
        try:
            await IssuerStore.install(
                storage, issuer, PrivateKeyPEM.of(key), extra=[crl_op, *(extra or [])],
                preconditions=[crl_condition, *preconditions],
            )
        except StorageConflict:
            if await storage.get(ISSUER_KEY) is not None:
                raise InvalidRequest(EXISTING_CA) from None
            raise


def import_answer(issuer: Issuer, *, imported_key: bool) -> dict[str, Any]:
    return {
        "imported_issuers": [issuer.issuer_id],
        "imported_keys": [issuer.key_id] if imported_key else [],
        "mapping": {issuer.issuer_id: issuer.key_id},
        "existing_issuers": [],
        "existing_keys": [],
    }
