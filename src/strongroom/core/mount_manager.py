"""Enabling, disabling and tuning mounts, and keeping the router in step with storage.

The mount tables live in the barrier; every process rebuilds its router from
them whenever the storage generation changes, so a mount enabled through one
worker is served by every other worker on its next request.

Every change to a table is a read-modify-write that several workers (and
several requests in one worker) may run at once, so each commits with a
precondition on the table version it read and starts over on a conflict: two
mounts enabled at the same moment both end up in the table.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from strongroom.core.mounts import (
    AUTH_TABLE_KEY,
    RESERVED_PREFIXES,
    SECRET_TABLE_KEY,
    MountConfig,
    MountEntry,
    decode_table,
    encode_table,
    new_mount,
    normalize_mount_path,
)
from strongroom.core.router import Route, Router
from strongroom.crypto.view import StorageView
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.events import EventOrigin
from strongroom.sdk.logical import BackendContext, LogicalBackend
from strongroom.sdk.storage import Precondition, TxnOp, retry_on_conflict
from strongroom.sdk.system import SystemView

if TYPE_CHECKING:
    from strongroom.core.core import Core
    from strongroom.core.namespaces.scope import NamespaceScope
    from strongroom.core.tokens.entry import TokenEntry
    from strongroom.core.tokens.store import TokenStore

log = logging.getLogger("strongroom.mounts")

SYSTEM_MOUNT = "sys/"
TOKEN_MOUNT = "token/"
IDENTITY_MOUNT = "identity/"

T = TypeVar("T")
#: A table to write: its storage key, its new entries, and the version it was read at.
TableWrite = tuple[str, list[MountEntry], bytes | None]


class MountManager:
    """The mounts of one namespace (``scope``): its tables and storage live in the scope's barrier view."""

    def __init__(self, core: Core, scope: NamespaceScope) -> None:
        self.core = core
        self.scope = scope
        self.router = Router()
        self._views: dict[str, StorageView] = {}

    def storage_for(self, entry: MountEntry) -> StorageView:
        view = self._views.get(entry.uuid)
        if view is None:
            view = StorageView(self.scope.barrier, entry.storage_prefix)
            self._views[entry.uuid] = view
        return view

    # -- persistence --------------------------------------------------------------

    async def _read_table(self, key: str) -> list[MountEntry]:
        raw = await self.scope.barrier.get(key)
        return decode_table(raw) if raw else []

    async def _read_versioned(self, key: str) -> tuple[list[MountEntry], bytes | None]:
        raw, version = await self.scope.barrier.get_with_version(key)
        return (decode_table(raw) if raw else []), version

    async def _commit_tables(self, writes: list[TableWrite]) -> None:
        """Write tables in one transaction, if none changed since it was read (else StorageConflict)."""
        await self.scope.barrier.transaction(
            [TxnOp(key, encode_table(entries)) for key, entries, _ in writes],
            [Precondition(key, version) for key, _, version in writes],
        )

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await retry_on_conflict(attempt, random_bytes=self.core.random_bytes)

    def _random_hex(self) -> str:
        return self.core.random_bytes(20).hex()

    async def _ensure_builtins(self) -> tuple[list[MountEntry], list[MountEntry]]:
        # The first unseal reaches every worker at once and each would add the
        # built-ins with its own ids: one set is committed, the others re-read it.
        return await self._retrying(self._ensure_builtins_once)

    async def _ensure_builtins_once(self) -> tuple[list[MountEntry], list[MountEntry]]:
        secrets, secrets_version = await self._read_versioned(SECRET_TABLE_KEY)
        auths, auths_version = await self._read_versioned(AUTH_TABLE_KEY)
        changed = False
        if not any(e.path == SYSTEM_MOUNT for e in secrets):
            secrets.append(
                new_mount(SYSTEM_MOUNT, "system", "secret", self._random_hex(),
                          description="system endpoints used for control, policy and debugging",
                          builtin=True)
            )
            if self.core.config.dev and self.scope.entry.is_root:
                secrets.append(
                    new_mount("secret/", "kv", "secret", self._random_hex(),
                              description="key/value secret storage", options={"version": "2"})
                )
            changed = True
        if not any(e.path == IDENTITY_MOUNT for e in secrets):
            # Vault serves the identity store at identity/, always mounted, never disabled.
            secrets.append(
                new_mount(IDENTITY_MOUNT, "identity", "secret", self._random_hex(),
                          description="identity store", builtin=True)
            )
            changed = True
        if not any(e.path == TOKEN_MOUNT for e in auths):
            auths.append(
                new_mount(TOKEN_MOUNT, "token", "auth", self._random_hex(),
                          description="token based credentials", builtin=True)
            )
            changed = True
        if changed:
            await self._commit_tables(
                [(SECRET_TABLE_KEY, secrets, secrets_version), (AUTH_TABLE_KEY, auths, auths_version)]
            )
        return secrets, auths

    # -- router maintenance ----------------------------------------------------------

    async def load(self) -> None:
        """Make the router match the stored tables: set up new mounts, clean up removed ones."""
        secrets, auths = await self._ensure_builtins()
        wanted = {e.route_prefix: e for e in secrets + auths}
        for route in self.router.routes():
            current = wanted.get(route.entry.route_prefix)
            if current is None or current.uuid != route.entry.uuid:
                self.router.remove(route.entry.route_prefix)
                self._views.pop(route.entry.uuid, None)
                await route.backend.cleanup()
        for prefix, entry in wanted.items():
            existing = self.router.get(prefix)
            if existing is not None:
                existing.entry = entry
                existing.system.mount_default_lease_ttl = entry.config.default_lease_ttl
                existing.system.mount_max_lease_ttl = entry.config.max_lease_ttl
                continue
            self.router.add(await self._instantiate(entry))

    async def unload(self) -> None:
        for route in self.router.routes():
            self.router.remove(route.entry.route_prefix)
            await route.backend.cleanup()
        self._views.clear()

    async def _instantiate(self, entry: MountEntry) -> Route:
        system = SystemView(
            system_default_lease_ttl=self.core.system.system_default_lease_ttl,
            system_max_lease_ttl=self.core.system.system_max_lease_ttl,
            mount_default_lease_ttl=entry.config.default_lease_ttl,
            mount_max_lease_ttl=entry.config.max_lease_ttl,
            clock=self.core.clock,
            random_bytes=self.core.random_bytes,
            generate_password=self.core.password_policies.generate,
            scheduler=self.core.scheduler.for_mount(entry.uuid, entry.route_prefix),
            event_sink=self.core.event_publisher.publish,
            event_origin=EventOrigin(
                mount_path=entry.route_prefix,
                mount_accessor=entry.accessor,
                plugin=entry.type,
                mount_class=entry.kind,
                namespace=self.scope.path,
            ),
        )
        ctx = BackendContext(
            storage=self.storage_for(entry),
            system=system,
            mount_point=entry.route_prefix,
            mount_accessor=entry.accessor,
            options=dict(entry.options),
        )
        backend = self._builtin(entry, ctx) or self.core.registry.create(entry.kind, entry.type, ctx)
        await backend.setup()
        return Route(entry=entry, backend=backend, system=system)

    def _builtin(self, entry: MountEntry, ctx: BackendContext) -> LogicalBackend | None:
        from strongroom.core.identity.backend import IdentityBackend
        from strongroom.core.sys_backend import SystemBackend
        from strongroom.core.tokens.backend import TokenBackend

        if entry.builtin and entry.type == "system":
            return SystemBackend(ctx, self.core, self.scope)
        if entry.builtin and entry.type == "identity":
            return IdentityBackend(ctx, self.scope.identity, self.auth_mount)
        if entry.builtin and entry.type == "token":
            tokens = TokenBackend(ctx, self.scope.tokens, find_caller=self._find_caller)
            tokens.identity_policies = self.scope.acls.identity_policies
            return tokens
        return None

    async def _find_caller(self, token: str) -> tuple[TokenEntry, str, TokenStore] | None:
        """A caller token that may act in this namespace, the id of the namespace it lives in, and its store."""
        found = await self.core.find_token(self.scope, token)
        return (found[0], found[1].entry.id, found[1].tokens) if found is not None else None

    # -- operations from sys/mounts and sys/auth --------------------------------------------

    def auth_mount(self, accessor: str) -> tuple[str, str] | None:
        """The path and type of the auth mount with this accessor (identity aliases name mounts so)."""
        for route in self.router.routes():
            if route.entry.kind == "auth" and route.entry.accessor == accessor:
                return route.entry.route_prefix, route.entry.type
        return None

    def entries(self, kind: str) -> list[MountEntry]:
        return [r.entry for r in self.router.routes() if r.entry.kind == kind]

    async def enable(
        self,
        kind: str,
        path: str,
        type_name: str,
        *,
        description: str = "",
        config: dict[str, Any] | None = None,
        options: dict[str, str] | None = None,
        local: bool = False,
        seal_wrap: bool = False,
    ) -> MountEntry:
        path = normalize_mount_path(path)
        if kind == "secret" and path.startswith(RESERVED_PREFIXES):
            raise InvalidRequest(f"cannot mount at reserved path {path!r}")
        type_name, resolved_options = self.core.registry.resolve(kind, type_name, dict(options or {}))
        key = SECRET_TABLE_KEY if kind == "secret" else AUTH_TABLE_KEY
        other_key = AUTH_TABLE_KEY if kind == "secret" else SECRET_TABLE_KEY
        route_prefix = path if kind == "secret" else "auth/" + path
        if self.core.namespaces.by_path(self.scope.path + route_prefix.split("/", 1)[0] + "/") is not None:
            # Requests would reach the namespace, never the mount (namespaces win in routing).
            raise InvalidRequest(f"path is already in use by namespace {self.scope.path + path}")
        entry = new_mount(
            path,
            type_name,
            kind,
            self._random_hex(),
            description=description,
            config=mount_config_from(config or {}),
            options=resolved_options,
            local=local,
            seal_wrap=seal_wrap,
        )
        # Instantiate before persisting so a backend that fails setup leaves no mount behind.
        route = await self._instantiate(entry)
        await route.backend.cleanup()

        async def attempt() -> None:
            table, version = await self._read_versioned(key)
            for other in table + await self._read_table(other_key):
                other_prefix = other.route_prefix
                if route_prefix.startswith(other_prefix) or other_prefix.startswith(route_prefix):
                    raise InvalidRequest(f"path is already in use at {other_prefix}")
            await self._commit_tables([(key, [*table, entry], version)])

        await self._retrying(attempt)
        await self.core.bump_generation()
        return entry

    async def disable(self, kind: str, path: str) -> None:
        path = normalize_mount_path(path)
        key = SECRET_TABLE_KEY if kind == "secret" else AUTH_TABLE_KEY
        mounted = self.find(kind, path)
        if mounted is not None and not mounted.builtin:
            # As in Vault: the mount's leases are revoked while its backend can still do it,
            # and a failure keeps the mount (and the leases, which the expiry loop retries).
            results = await self.scope.leases.revoke_prefix(mounted.route_prefix)
            failed = sum(1 for r in results if r.error)
            if failed:
                raise InternalError(f"failed to revoke {failed} leases of the mount; it stays mounted")

        async def attempt() -> MountEntry | None:
            table, version = await self._read_versioned(key)
            target = next((e for e in table if e.path == path), None)
            if target is None:
                return None
            if target.builtin:
                raise InvalidRequest(f"cannot unmount {target.route_prefix!r}")
            await self._commit_tables([(key, [e for e in table if e.uuid != target.uuid], version)])
            return target

        target = await self._retrying(attempt)
        if target is None:
            return  # Vault answers 204 for disabling what is not mounted
        await self.core.bump_generation()
        await self.core.scheduler.drop_mount(target.uuid)
        await self._purge(target)

    async def _purge(self, entry: MountEntry) -> None:
        """Delete everything the mount stored (its view), after it is gone from the table."""
        await erase(StorageView(self.scope.barrier, entry.storage_prefix))

    async def tune(self, kind: str, path: str, changes: dict[str, Any]) -> MountEntry:
        path = normalize_mount_path(path)
        key = SECRET_TABLE_KEY if kind == "secret" else AUTH_TABLE_KEY

        async def attempt() -> MountEntry:
            table, version = await self._read_versioned(key)
            target = next((e for e in table if e.path == path), None)
            if target is None:
                raise InvalidRequest(f"no mount at {path!r}")
            apply_tune(target, changes)
            await self._commit_tables([(key, table, version)])
            return target

        target = await self._retrying(attempt)
        await self.core.bump_generation()
        return target

    def find(self, kind: str, path: str) -> MountEntry | None:
        path = normalize_mount_path(path)
        return next((e for e in self.entries(kind) if e.path == path), None)


async def erase(view: StorageView) -> None:
    """Delete every key under ``view`` (a removed mount's or namespace's storage)."""
    pending = [""]
    while pending:
        prefix = pending.pop()
        for child in await view.list(prefix):
            if child.endswith("/"):
                pending.append(prefix + child)
            else:
                await view.delete(prefix + child)


def mount_config_from(raw: dict[str, Any]) -> MountConfig:
    config = MountConfig()
    apply_config(config, raw)
    return config


def apply_config(config: MountConfig, raw: dict[str, Any]) -> None:
    from strongroom.sdk.fields import parse_duration

    for name in ("default_lease_ttl", "max_lease_ttl"):
        if name in raw and raw[name] not in (None, ""):
            value = raw[name]
            setattr(config, name, 0 if value == "system" else parse_duration(value, name))
    if "listing_visibility" in raw:
        value = str(raw["listing_visibility"])
        if value not in ("", "hidden", "unauth"):
            raise InvalidRequest("listing_visibility must be 'hidden' or 'unauth'")
        config.listing_visibility = value
    for name in ("audit_non_hmac_request_keys", "audit_non_hmac_response_keys", "passthrough_request_headers"):
        if name in raw:
            value = raw[name]
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise InvalidRequest(f"{name} must be a list of strings")
            setattr(config, name, [i.strip() for i in items if i.strip()])
    if "user_lockout_config" in raw and raw["user_lockout_config"] is not None:
        from strongroom.core.lockout.settings import merge_tune

        config.user_lockout_config = merge_tune(config.user_lockout_config, raw["user_lockout_config"])
    if config.max_lease_ttl and config.default_lease_ttl > config.max_lease_ttl:
        raise InvalidRequest("default_lease_ttl cannot be greater than max_lease_ttl")


def apply_tune(entry: MountEntry, changes: dict[str, Any]) -> None:
    apply_config(entry.config, changes)
    if "description" in changes and changes["description"] is not None:
        entry.description = str(changes["description"])
    options = changes.get("options")
    if isinstance(options, dict):
        if entry.type == "kv" and "version" in options and str(options["version"]) != entry.options.get("version", "1"):
            raise InvalidRequest("changing the KV version of a mount is not supported")
        entry.options.update({str(k): str(v) for k, v in options.items()})
