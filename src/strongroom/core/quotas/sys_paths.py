"""``sys/quotas/rate-limit/:name``, ``sys/quotas/rate-limit`` (LIST) and ``sys/quotas/config``, as in Vault.

Every write lands in the barrier and bumps the storage generation, so each
worker applies the change on its next request, before the write returns to a
client that then talks to another worker.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from strongroom.core.quotas.model import NAME, QuotaConfig, RateLimitQuota
from strongroom.core.quotas.store import QuotaStore
from strongroom.errors import InvalidRequest, NotFound
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import Path
from strongroom.sdk.logical import Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core

R, U, D, L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST

_QUOTA_FIELDS = {
    "path": Field(T.STRING),
    "rate": Field(T.ANY),
    "interval": Field(T.DURATION),
    "block_interval": Field(T.DURATION),
    "role": Field(T.STRING, ""),
    "type": Field(T.STRING, ""),
    "inheritable": Field(T.BOOL),
}
_CONFIG_FIELDS = {
    "rate_limit_exempt_paths": Field(T.STRING_LIST),
    "enable_rate_limit_audit_logging": Field(T.BOOL),
    "enable_rate_limit_response_headers": Field(T.BOOL),
}


def parse_rate(value: Any) -> float:
    """A positive, finite number (Vault's float ``rate``); strings of numbers too."""
    if isinstance(value, bool):
        raise InvalidRequest("'rate' must be a positive number")
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest("'rate' must be a positive number") from None
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidRequest("'rate' must be a positive number")
    return rate


def quota_paths(core: Core) -> list[Path]:
    def store() -> QuotaStore:
        return core.quotas.store  # looked up per call: the composition root may replace the enforcer

    def scope(raw: str) -> str:
        """Canonical quota path; its mount must exist (a quota on nothing is a typo)."""
        path = raw.strip().lstrip("/")
        if path == "":
            return ""
        if "*" in path[:-1]:
            raise InvalidRequest("'path' may only end in a glob ('*'), not contain one")
        probe = path[:-1] if path.endswith("*") else path
        # A path may lead into a namespace (``team/``, ``team/kv/``), as Vault's quota paths do.
        namespace, inside = core.namespaces.descend(core.root, probe if probe.endswith("/") else probe + "/")
        if namespace is not core.root and inside == "":
            return namespace.path  # the whole namespace
        inside = inside if probe.endswith("/") else inside[:-1]
        router = namespace.mounts.router
        matched = router.match(inside) or router.match(inside + "/")
        if matched is None:
            raise InvalidRequest(f'invalid mount path "{path}"')
        mount = namespace.path + matched[0].entry.route_prefix
        return mount if path.rstrip("/") == mount.rstrip("/") else path

    def role_mount(path: str) -> None:
        """A quota with a role must sit on a whole auth mount whose logins name roles (as in Vault)."""
        namespace, inside = core.namespaces.descend(core.root, path)
        matched = namespace.mounts.router.match(inside) if inside.startswith("auth/") else None
        if matched is None or matched[0].entry.route_prefix != inside:
            raise InvalidRequest("'role' needs 'path' to be an auth mount")
        if not matched[0].backend.login_roles:
            raise InvalidRequest(f"'role' needs an auth method with roles; {matched[0].entry.type} has none")

    async def read_quota(req: Request, f: FieldData) -> Response:
        quota = await store().get(_name(f))
        if quota is None:
            raise NotFound()
        return Response(data=quota.view())

    async def write_quota(req: Request, f: FieldData) -> None:
        name = _name(f)
        if f.get("type") not in ("", "rate-limit"):
            raise InvalidRequest("'type' must be rate-limit")
        old = await store().get(name)
        if old is None and not f.has("rate"):
            raise InvalidRequest("'rate' is required")
        rate = parse_rate(f.raw["rate"]) if f.has("rate") else (old.rate if old else 0.0)
        interval = f.get("interval") if f.has("interval") else (old.interval if old else 1)
        block = f.get("block_interval") if f.has("block_interval") else (old.block_interval if old else 0)
        if interval < 1:
            raise InvalidRequest("'interval' must be at least one second")
        path = scope(f.get("path")) if f.has("path") else (old.path if old else "")
        role = str(f.get("role")) if f.has("role") else (old.role if old else "")
        if role:
            role_mount(path)
        quota = RateLimitQuota(name=name, path=path, rate=rate, interval=interval, block_interval=block,
                               id=core.random_bytes(16).hex(), role=role)
        await store().put(quota)
        await core.bump_generation()

    async def delete_quota(req: Request, f: FieldData) -> None:
        await store().delete(_name(f))
        await core.bump_generation()

    async def list_quotas(req: Request, f: FieldData) -> Response:
        return Response.list_of(await store().names())

    async def read_config(req: Request, f: FieldData) -> Response:
        return Response(data=(await store().config()).view())

    async def write_config(req: Request, f: FieldData) -> None:
        old = await store().config()
        config = QuotaConfig(
            rate_limit_exempt_paths=tuple(f.get("rate_limit_exempt_paths"))
            if f.has("rate_limit_exempt_paths") else old.rate_limit_exempt_paths,
            enable_rate_limit_audit_logging=f.get("enable_rate_limit_audit_logging")
            if f.has("enable_rate_limit_audit_logging") else old.enable_rate_limit_audit_logging,
            enable_rate_limit_response_headers=f.get("enable_rate_limit_response_headers")
            if f.has("enable_rate_limit_response_headers") else old.enable_rate_limit_response_headers,
        )
        await store().put_config(config)
        await core.bump_generation()

    return [
        Path("quotas/config", {R: read_config, U: write_config}, _CONFIG_FIELDS,
             help="Rate-limit quota settings: exempt paths, audit logging of refusals, response headers."),
        Path("quotas/rate-limit/?", {L: list_quotas}, help="Names of the rate-limit quotas."),
        Path("quotas/rate-limit/(?P<name>.+)", {R: read_quota, U: write_quota, D: delete_quota}, _QUOTA_FIELDS,
             help="One rate-limit quota: rate requests per interval per client address, on a path scope."),
    ]


def _name(f: FieldData) -> str:
    name = str(f.get("name"))
    if not NAME.fullmatch(name):
        raise InvalidRequest("quota names are 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name
