"""Mount configuration: ``config/urls`` and the issuer's own settings at ``issuer/:issuer_ref``.

``issuer_ref`` is ``default``, the issuer's id or its name (the mount has one
issuer). A POST rewrites every setting (elided ones take their defaults), a
PATCH changes only what it names, as in Vault. ``leaf_not_after_behavior`` is
``err`` or ``truncate``; Vault's ``permit`` (leaves that outlive their CA) is
refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response
from strongroom.sdk.storage import StorageBackend, retry_on_conflict

from .codec import cert_pem
from .fields import check_issuer_name
from .issuer import ISSUER_KEY, Issuer, IssuerStore, parse_issuer
from .state import PKIState
from .urls import URL_FIELDS, check_urls, load_urls, save_urls
from .validity import LEAF_BEHAVIORS

SL, S = FieldType.STRING_LIST, FieldType.STRING
UNKNOWN_ISSUER = "unable to find PKI issuer for reference"


class ConfigPaths:
    def __init__(self, state: PKIState) -> None:
        self.state = state

    def paths(self) -> Sequence[Path]:
        return [
            Path(r"config/urls", {Operation.READ: self.read_urls, Operation.UPDATE: self.write_urls},
                 {name: Field(SL) for name in URL_FIELDS},
                 help="URLs of the CA certificate, CRL and OCSP responder written into issued certificates."),
            Path(r"issuer/(?P<issuer_ref>[A-Za-z0-9_-]+)",
                 {Operation.READ: self.read_issuer, Operation.UPDATE: self.write_issuer,
                  Operation.PATCH: self.patch_issuer},
                 {"issuer_name": Field(S), "leaf_not_after_behavior": Field(S)},
                 help="Read or configure the mount's issuer."),
        ]

    async def read_urls(self, req: Request, fd: FieldData) -> Response:
        return Response(data=(await load_urls(self.state.storage(req))).to_json())

    async def write_urls(self, req: Request, fd: FieldData) -> Response:
        storage = self.state.storage(req)
        config = await load_urls(storage)
        for name in URL_FIELDS:
            if fd.has(name):
                setattr(config, name, check_urls(fd.get(name), name))
        await save_urls(storage, config)
        return Response(data=config.to_json())

    async def read_issuer(self, req: Request, fd: FieldData) -> Response:
        issuer = await self._find(self.state.storage(req), fd.get("issuer_ref"))
        return Response(data=issuer_data(issuer))

    async def write_issuer(self, req: Request, fd: FieldData) -> Response:
        return await self._update(req, fd, replace=True)

    async def patch_issuer(self, req: Request, fd: FieldData) -> Response:
        return await self._update(req, fd, replace=False)

    async def _update(self, req: Request, fd: FieldData, *, replace: bool) -> Response:
        storage = self.state.storage(req)
        name = fd.get("issuer_name") if fd.has("issuer_name") else ("" if replace else None)
        behavior = fd.get("leaf_not_after_behavior") if fd.has("leaf_not_after_behavior") else None
        if behavior is None and replace:
            behavior = "err"
        if name is not None:
            check_issuer_name(name)
        if behavior is not None and behavior not in LEAF_BEHAVIORS:
            raise InvalidRequest("invalid leaf_not_after_behavior: must be err or truncate (permit is not supported)")

        async def attempt() -> Issuer:
            raw, version = await storage.get_with_version(ISSUER_KEY)
            if raw is None:
                raise InvalidRequest(UNKNOWN_ISSUER)
            current = parse_issuer(raw, None)
            _check_ref(current, fd.get("issuer_ref"))
            updated = dataclasses.replace(
                current,
                issuer_name=current.issuer_name if name is None else name,
                leaf_not_after_behavior=current.leaf_not_after_behavior if behavior is None else behavior,
            )
            await IssuerStore.update_record(storage, updated, version)
            return updated

        issuer = await retry_on_conflict(attempt, random_bytes=self.state.ctx.system.random_bytes)
        return Response(data=issuer_data(issuer))

    async def _find(self, storage: StorageBackend, ref: str) -> Issuer:
        issuer = await self.state.issuers.load(storage)
        if issuer is None:
            raise InvalidRequest(UNKNOWN_ISSUER)
        _check_ref(issuer, ref)
        return issuer


def _check_ref(issuer: Issuer, ref: str) -> None:
    if ref not in ("default", issuer.issuer_id) and not (issuer.issuer_name and ref == issuer.issuer_name):
        raise InvalidRequest(UNKNOWN_ISSUER)


def issuer_data(issuer: Issuer) -> dict[str, Any]:
    return {
        "ca_chain": [cert_pem(cert) for cert in issuer.chain],
        "certificate": cert_pem(issuer.certificate),
        "issuer_id": issuer.issuer_id,
        "issuer_name": issuer.issuer_name,
        "key_id": issuer.key_id,
        "leaf_not_after_behavior": issuer.leaf_not_after_behavior,
        "manual_chain": None,
    }
