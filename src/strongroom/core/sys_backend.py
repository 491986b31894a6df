"""The ``sys/`` backend for an unsealed server: mounts, auth methods, policies,
capabilities, seal, key rotation.

It is core-internal (it drives the mount manager, policy store, token store and
seal manager) but takes requests like any other backend.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import TYPE_CHECKING, Any

from strongroom import __version__
from strongroom.core.alerts.sys_paths import alert_paths
from strongroom.core.leases.sys_paths import SUDO_PATHS as LEASE_SUDO_PATHS
from strongroom.core.leases.sys_paths import lease_paths
from strongroom.core.lockout.sys_paths import locked_users_paths
from strongroom.core.metrics.endpoint import metrics_paths
from strongroom.core.mounts import MountEntry
from strongroom.core.namespaces.sys_paths import namespace_paths
from strongroom.core.password_policies.sys_paths import password_policy_paths
from strongroom.core.policy.acl import ACL
from strongroom.core.quotas.sys_paths import quota_paths
from strongroom.core.sys_sealed import json_response
from strongroom.core.wrapping.paths import UNAUTHENTICATED_PATHS as WRAPPING_UNAUTHENTICATED_PATHS
from strongroom.core.wrapping.paths import wrapping_paths
from strongroom.errors import InvalidRequest, NotFound, PermissionDenied
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.framework import FrameworkBackend, Path
from strongroom.sdk.logical import BackendContext, Operation, Request, Response

if TYPE_CHECKING:
    from strongroom.core.core import Core
    from strongroom.core.namespaces.scope import NamespaceScope

R, U, D, L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST

_MOUNT_FIELDS = {
    "type": Field(T.STRING),
    "description": Field(T.STRING, ""),
    "config": Field(T.MAP, {}),
    "options": Field(T.MAP, {}),
    "local": Field(T.BOOL, False),
    "seal_wrap": Field(T.BOOL, False),
    "plugin_name": Field(T.STRING, ""),
}
_TUNE_FIELDS = {
    "default_lease_ttl": Field(T.ANY),
    "max_lease_ttl": Field(T.ANY),
    "description": Field(T.STRING),
    "options": Field(T.MAP),
    "listing_visibility": Field(T.STRING),
    "audit_non_hmac_request_keys": Field(T.ANY),
    "audit_non_hmac_response_keys": Field(T.ANY),
    "passthrough_request_headers": Field(T.ANY),
    "user_lockout_config": Field(T.MAP),
}
_PATHS_FIELDS = {"path": Field(T.ANY), "paths": Field(T.ANY), "token": Field(T.STRING, ""),
                 "accessor": Field(T.STRING, "")}


def rfc3339(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def mount_json(entry: MountEntry, core: Core) -> dict[str, Any]:
    return {
        "type": entry.type,
        "description": entry.description,
        "accessor": entry.accessor,
        "uuid": entry.uuid,
        "config": {
            "default_lease_ttl": entry.config.default_lease_ttl,
            "max_lease_ttl": entry.config.max_lease_ttl,
            "force_no_cache": False,
            **tuned_settings(entry),
        },
        "options": dict(entry.options) or None,
        "local": entry.local,
        "seal_wrap": entry.seal_wrap,
        "external_entropy_access": False,
        "plugin_version": "",
        "running_plugin_version": f"v{__version__}",
        "running_sha256": "",
        "deprecation_status": "supported",
    }


def tuned_settings(entry: MountEntry) -> dict[str, Any]:
    """The optional tunables, present only once set (as Vault reports them in mount listings and tune reads)."""
    config = entry.config
    settings: dict[str, Any] = {}
    if config.listing_visibility:
        settings["listing_visibility"] = config.listing_visibility
    for name in ("audit_non_hmac_request_keys", "audit_non_hmac_response_keys", "passthrough_request_headers"):
        if getattr(config, name):
            settings[name] = list(getattr(config, name))
    return settings


def lockout_tune_settings(entry: MountEntry, core: Core) -> dict[str, Any]:
    """An auth mount's lockout settings as Vault's tune read shows them, once the mount tunes them."""
    if entry.kind != "auth" or not entry.config.user_lockout_config:
        return {}
    effective = core.lockout.settings_for(entry)
    return {
        "user_lockout_threshold": effective.threshold,
        "user_lockout_duration": effective.duration,
        "user_lockout_counter_reset_duration": effective.counter_reset,
        "user_lockout_disable": effective.disabled,
    }


def legacy_response(data: dict[str, Any], request_id: str) -> Response:
    """Vault answers some sys reads with the data both at top level and under ``data``."""
    return json_response(
        {
            **data,
            "request_id": request_id,
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": None,
            "auth": None,
        }
    )


def decode_policy_text(text: str) -> str:
    """Vault accepts the policy body plain or base64-encoded."""
    stripped = text.strip()
    if stripped and " " not in stripped and "\n" not in stripped:
        try:
            decoded = base64.b64decode(stripped, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return text
        return decoded
    return text


class SystemBackend(FrameworkBackend):
    type_name = "system"

    def __init__(self, ctx: BackendContext, core: Core, scope: NamespaceScope | None = None) -> None:
        super().__init__(ctx)
        self.core = core
        #: The namespace this ``sys/`` belongs to: its mounts, policies, tokens and leases.
        self.scope = scope or core.root

    def sudo_paths(self) -> list[str]:
        from strongroom.core.audit.endpoints import SUDO_PATHS as AUDIT_SUDO_PATHS

        return [r"auth/.+", "seal", "rotate", "rotate/keyring", *AUDIT_SUDO_PATHS, *LEASE_SUDO_PATHS]

    def paths(self) -> list[Path]:
        return [*self._namespace_paths(), *self._root_only_paths()] if self.scope.entry.is_root \
            else self._namespace_paths()

    def _namespace_paths(self) -> list[Path]:
        """What every namespace's ``sys/`` serves, over that namespace's own tables."""
        return [
            Path("mounts/?", {R: self._list_mounts}),
            Path("mounts/(?P<path>.+)/tune", {R: self._read_tune("secret"), U: self._tune("secret")},
                 _TUNE_FIELDS),
            Path("mounts/(?P<path>.+)", {R: self._read_mount("secret"), U: self._enable("secret"),
                                          D: self._disable("secret")}, _MOUNT_FIELDS),
            Path("auth/?", {R: self._list_auth}),
            Path("auth/(?P<path>.+)/tune", {R: self._read_tune("auth"), U: self._tune("auth")}, _TUNE_FIELDS),
            Path("auth/(?P<path>.+)", {R: self._read_mount("auth"), U: self._enable("auth"),
                                        D: self._disable("auth")}, _MOUNT_FIELDS),
            Path("policy/?", {R: self._list_policies, L: self._list_policies}),
            Path("policy/(?P<name>.+)", {R: self._read_policy(legacy=True), U: self._write_policy,
                                          D: self._delete_policy},
                 {"policy": Field(T.STRING), "rules": Field(T.STRING)}),
            Path("policies/acl/?", {L: self._list_policies}),
            Path("policies/acl/(?P<name>.+)", {R: self._read_policy(legacy=False), U: self._write_policy,
                                                D: self._delete_policy},
                 {"policy": Field(T.STRING), "rules": Field(T.STRING)}),
            Path("capabilities", {U: self._capabilities("token")}, _PATHS_FIELDS),
            Path("capabilities-self", {U: self._capabilities("self")}, _PATHS_FIELDS),
            Path("capabilities-accessor", {U: self._capabilities("accessor")}, _PATHS_FIELDS),
            *lease_paths(self.scope.leases),
            *wrapping_paths(self.scope.wrapping),
            *namespace_paths(self.core.namespaces, self.scope),
            Path("internal/ui/mounts", {R: self._ui_mounts}),
            Path("internal/ui/mounts/(?P<path>.+)", {R: self._ui_mount}),
        ]

    def _root_only_paths(self) -> list[Path]:
        """The node's own endpoints (seal, keys, audit, metrics, quotas...): served in the root namespace only."""
        # Imported here: the audit endpoints use this module's answer shapes.
        from strongroom.core.audit.endpoints import audit_paths

        return [
            Path("seal", {U: self._seal}),
            Path("rotate(?:/keyring)?", {U: self._rotate}),
            Path("key-status", {R: self._key_status}),
            *alert_paths(self.core),
            *quota_paths(self.core),
            *metrics_paths(self.core),
            *audit_paths(self.core),
            *locked_users_paths(self.core),
            *password_policy_paths(self.core),
        ]

    # -- mounts ----------------------------------------------------------------------

    def _mount_table(self, kind: str) -> dict[str, Any]:
        return {e.path: mount_json(e, self.core) for e in self.scope.mounts.entries(kind)}

    async def _list_mounts(self, req: Request, _: FieldData) -> Response:
        return legacy_response(self._mount_table("secret"), req.request_id)

    async def _list_auth(self, req: Request, _: FieldData) -> Response:
        return legacy_response(self._mount_table("auth"), req.request_id)

    def _read_mount(self, kind: str) -> Any:
        async def handler(req: Request, f: FieldData) -> Response:
            entry = self.scope.mounts.find(kind, f.get("path"))
            if entry is None:
                raise InvalidRequest(f"no mount at {f.get('path')!r}")
            return Response(data=mount_json(entry, self.core))
        return handler

    def _enable(self, kind: str) -> Any:
        async def handler(req: Request, f: FieldData) -> None:
            type_name = f.get("type") or f.get("plugin_name")
            if not type_name:
                raise InvalidRequest("field 'type' is required")
            options = {str(k): str(v) for k, v in (f.get("options") or {}).items()}
            await self.scope.mounts.enable(
                kind, f.get("path"), type_name,
                description=f.get("description"), config=f.get("config"), options=options,
                local=f.get("local"), seal_wrap=f.get("seal_wrap"),
            )
        return handler

    def _disable(self, kind: str) -> Any:
        async def handler(req: Request, f: FieldData) -> None:
            await self.scope.mounts.disable(kind, f.get("path"))
        return handler

    def _read_tune(self, kind: str) -> Any:
        async def handler(req: Request, f: FieldData) -> Response:
            entry = self.scope.mounts.find(kind, f.get("path"))
            if entry is None:
                raise InvalidRequest(f"cannot fetch tuning for {f.get('path')!r}: no mount there")
            system = self.core.system
            data = {
                "default_lease_ttl": entry.config.default_lease_ttl or system.system_default_lease_ttl,
                "max_lease_ttl": entry.config.max_lease_ttl or system.system_max_lease_ttl,
                "force_no_cache": False,
                "description": entry.description,
                "options": dict(entry.options) or None,
                **tuned_settings(entry),
                **lockout_tune_settings(entry, self.core),
            }
            if kind == "auth":
                data["token_type"] = "default-service"  # the only token type we issue
            return legacy_response(data, req.request_id)
        return handler

    def _tune(self, kind: str) -> Any:
        async def handler(req: Request, f: FieldData) -> None:
            changes = {k: v for k, v in f.raw.items() if k in _TUNE_FIELDS and v is not None}
            await self.scope.mounts.tune(kind, f.get("path"), changes)
        return handler

    # -- policies ---------------------------------------------------------------------

    async def _list_policies(self, req: Request, _: FieldData) -> Response:
        names = await self.scope.policies.list()
        if req.operation is Operation.LIST:
            return Response.list_of(names)
        return legacy_response({"policies": names, "keys": names}, req.request_id)

    def _read_policy(self, *, legacy: bool) -> Any:
        async def handler(req: Request, f: FieldData) -> Response:
            name = f.get("name")
            text = await self.scope.policies.read_text(name)
            if text is None:
                raise NotFound()
            if legacy:
                return legacy_response({"name": name, "rules": text}, req.request_id)
            return Response(data={"name": name, "policy": text})
        return handler

    async def _write_policy(self, req: Request, f: FieldData) -> None:
        text = f.get("policy") if f.has("policy") else f.get("rules")
        if not text:
            raise InvalidRequest("'policy' parameter not supplied or empty")
        await self.scope.policies.put(f.get("name"), decode_policy_text(text))
        await self.core.bump_generation()

    async def _delete_policy(self, req: Request, f: FieldData) -> None:
        await self.scope.policies.delete(f.get("name"))
        await self.core.bump_generation()

    # -- capabilities -----------------------------------------------------------------

    def _capabilities(self, mode: str) -> Any:
        async def handler(req: Request, f: FieldData) -> Response:
            paths = _paths_field(f)
            found: tuple[ACL, str] | None
            if mode == "self":
                found = await self._token_acl(req.client_token)
            elif mode == "token":
                found = await self._token_acl(f.get("token") or req.client_token)
            else:
                if not f.get("accessor"):
                    raise InvalidRequest("'accessor' is required")
                # Accessors name tokens of this namespace only: another namespace's is unknown here.
                entry = await self.scope.tokens.lookup_accessor(f.get("accessor"))
                found = (await self.scope.acls.for_token(entry), "") if entry is not None else None
            if found is None:
                raise InvalidRequest("invalid token" if mode != "accessor" else "invalid accessor")
            acl, prefix = found
            from strongroom.core.policy.canonical import canonical_request_path

            result: dict[str, Any] = {}
            for path in paths:
                result[path] = sorted(acl.capabilities(prefix + canonical_request_path(path)))
            if len(paths) == 1:
                result["capabilities"] = result[paths[0]]
            return legacy_response(result, req.request_id)
        return handler

    # -- seal and keys ------------------------------------------------------------------

    async def _seal(self, req: Request, _: FieldData) -> None:
        await self.core.seal_manager.seal()

    async def _rotate(self, req: Request, _: FieldData) -> None:
        await self.core.seal_manager.rotate()

    async def _key_status(self, req: Request, _: FieldData) -> Response:
        status = self.core.barrier.key_status()
        data = {"term": status.term, "install_time": rfc3339(status.install_time),
                "encryptions": status.encryptions}
        return legacy_response(data, req.request_id)

    # -- UI helpers the vault CLI uses to detect KV versions ---------------------------------

    def unauthenticated_paths(self) -> list[str]:
        # As in Vault: reachable without the ACL, but the handler checks the token itself.
        return ["internal/ui/mounts", "internal/ui/mounts/.+", *WRAPPING_UNAUTHENTICATED_PATHS]

    async def _token_acl(self, token: str, remote_addr: str | None = None) -> tuple[ACL, str] | None:
        """The ACL of a token that may act in this namespace, and the prefix its policies give our paths."""
        found = await self.core.find_token(self.scope, token)
        if found is None:
            return None
        entry, home = found
        if remote_addr is not None and not entry.allows_address(remote_addr):
            return None
        return await home.acls.for_token(entry), self.scope.relative_to(home)

    async def _caller_acl(self, req: Request) -> tuple[ACL, str]:
        found = await self._token_acl(req.client_token, req.remote_addr)
        if found is None:
            raise PermissionDenied()
        return found

    async def _ui_mounts(self, req: Request, _: FieldData) -> Response:
        acl, prefix = await self._caller_acl(req)
        visible = {
            kind: {
                e.path: mount_json(e, self.core)
                for e in self.scope.mounts.entries(kind)
                if acl.has_access_under(prefix + e.route_prefix)
            }
            for kind in ("secret", "auth")
        }
        return Response(data=visible)

    async def _ui_mount(self, req: Request, f: FieldData) -> Response:
        acl, prefix = await self._caller_acl(req)
        # The path may lead into a child namespace (``team/app/kv/x``), as the CLI sends it.
        scope, path = self.core.namespaces.descend(self.scope, f.get("path"))
        below = scope.relative_to(self.scope)
        matched = scope.mounts.router.match(path if path.endswith("/") else path + "/")
        if matched is None:
            matched = scope.mounts.router.match(path)
        if matched is None or not acl.has_access_under(prefix + below + matched[0].entry.route_prefix):
            raise PermissionDenied(
                "preflight capability check returned 403, please ensure client's policies grant access to path"
            )
        entry = matched[0].entry
        return Response(data={**mount_json(entry, self.core), "path": below + entry.route_prefix})


def _paths_field(f: FieldData) -> list[str]:
    raw = f.raw.get("paths") if f.has("paths") else f.raw.get("path")
    if isinstance(raw, str):
        paths = [p.strip() for p in raw.split(",") if p.strip()]
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        paths = raw
    else:
        raise InvalidRequest("'paths' must be a string or a list of strings")
    if not paths:
        raise InvalidRequest("'paths' is required")
    return paths
