"""``sys/leases/*`` (and the legacy ``sys/renew``, ``sys/revoke*``) as paths of the system backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from strongroom.core.leases.manager import ExpirationManager
from strongroom.core.leases.records import LeaseEntry
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import LeaseOptions, Operation, Request, Response

#: Patterns (relative to ``sys/``) that need sudo, as in Vault.
SUDO_PATHS = ("leases/lookup/.*", "leases/revoke-prefix/.+", "leases/revoke-force/.+",
              "revoke-prefix/.+", "revoke-force/.+")

_ID_FIELDS = {"lease_id": Field(T.STRING, ""), "url_lease_id": Field(T.STRING, ""),
              "increment": Field(T.DURATION, 0), "sync": Field(T.BOOL, True)}

Handler = Callable[[Request, FieldData], Awaitable[Response | None]]


def _time(ts: float) -> str | None:
    if not ts:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lookup_json(entry: LeaseEntry, now: float) -> dict[str, Any]:
    return {
        "id": entry.lease_id,
        "issue_time": _time(entry.issue_time),
        "expire_time": _time(entry.expire_time),
        "last_renewal": _time(entry.last_renewal),
        "renewable": entry.renewable and not entry.revoked and entry.expire_time > now,
        "ttl": entry.ttl_at(now),
        "irrevocable": entry.irrevocable,
        "revocation_attempts": entry.attempts,
    }


def _lease_id(f: FieldData) -> str:
    lease_id: str = f.get("url_lease_id") or f.get("lease_id")
    if not lease_id:
        raise InvalidRequest("lease_id must be specified")
    return lease_id


def lease_paths(leases: ExpirationManager) -> list[Path]:
    U, L = Operation.UPDATE, Operation.LIST

    async def lookup(req: Request, f: FieldData) -> Response:
        entry = await leases.lookup(_lease_id(f))
        if entry is None:
            raise InvalidRequest("invalid lease")
        return Response(data=lookup_json(entry, leases.clock()))

    async def list_prefix(req: Request, f: FieldData) -> Response:
        return Response.list_of(await leases.list_ids(f.get("prefix")))

    async def renew(req: Request, f: FieldData) -> Response:
        entry = await leases.renew(_lease_id(f), int(f.get("increment")))
        now = leases.clock()
        return Response(secret=LeaseOptions(ttl=entry.ttl_at(now), renewable=True, lease_id=entry.lease_id))

    async def revoke(req: Request, f: FieldData) -> None:
        result = await leases.revoke(_lease_id(f))
        if result.error and f.get("sync"):
            # The lease stays and the expiry loop retries it; the caller learns that it is not gone yet.
            raise InternalError(f"failed to revoke lease: {result.error}; it will be retried")

    async def revoke_prefix(req: Request, f: FieldData) -> None:
        results = await leases.revoke_prefix(f.get("prefix"))
        failed = [r for r in results if r.error]
        if failed and f.get("sync"):
            raise InternalError(f"failed to revoke {len(failed)} of {len(results)} leases; they will be retried")

    async def revoke_force(req: Request, f: FieldData) -> None:
        await leases.revoke_force(f.get("prefix"))

    async def tidy(req: Request, f: FieldData) -> Response:
        return Response(data=await leases.tidy())

    prefix_fields = {"prefix": Field(T.STRING, ""), "sync": Field(T.BOOL, True)}
    return [
        Path("leases/lookup", {U: lookup}, _ID_FIELDS),
        Path("leases/lookup/(?P<prefix>.*)", {L: list_prefix}),
        Path("leases/renew(?:/(?P<url_lease_id>.+))?", {U: renew}, _ID_FIELDS),
        Path("renew(?:/(?P<url_lease_id>.+))?", {U: renew}, _ID_FIELDS),
        Path("leases/revoke(?:/(?P<url_lease_id>.+))?", {U: revoke}, _ID_FIELDS),
        Path("revoke(?:/(?P<url_lease_id>.+))?", {U: revoke}, _ID_FIELDS),
        Path("leases/revoke-prefix/(?P<prefix>.+)", {U: revoke_prefix}, prefix_fields),
        Path("revoke-prefix/(?P<prefix>.+)", {U: revoke_prefix}, prefix_fields),
        Path("leases/revoke-force/(?P<prefix>.+)", {U: revoke_force}, prefix_fields),
        Path("revoke-force/(?P<prefix>.+)", {U: revoke_force}, prefix_fields),
        Path("leases/tidy", {U: tidy}),
    ]


__all__ = ["SUDO_PATHS", "lease_paths", "lookup_json"]
