"""What every path of one PKI mount shares: its context, its issuer cache, its clock."""

from __future__ import annotations

import datetime

from strongroom.sdk.logical import BackendContext, Request
from strongroom.sdk.storage import StorageBackend

from .issuer import IssuerStore
from .validity import Limits, to_datetime


class PKIState:
    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.issuers = IssuerStore()

    def storage(self, req: Request) -> StorageBackend:
        """The mount's storage view: the request's when routed, else the one given at setup."""
        return req.storage if req.storage is not None else self.ctx.storage

    def now(self) -> datetime.datetime:
        return to_datetime(self.ctx.system.clock())

    def mount_limits(self, issuer_not_after: datetime.datetime | None = None, behavior: str = "err") -> Limits:
        system = self.ctx.system
        return Limits(
            default_ttl=system.default_lease_ttl, max_ttl=system.max_lease_ttl,
            issuer_not_after=issuer_not_after, behavior=behavior,
        )
