"""The namespaces of a node: the table, one scope per namespace, and which one a request is for.

Every process keeps a scope per namespace, rebuilt from the table whenever the
storage generation moves (a namespace created through one worker is served by
every other on its next request, as mounts are). Changes to the table are
conditional writes on the version read, retried on conflict, so two workers
creating namespaces at once both land.

Deleting a namespace takes everything in it along, in an order that keeps the
outside world consistent: first each of its mounts is disabled (which revokes the
mount's leases through its backend, so a database user is dropped, not
orphaned, and purges the mount's storage), then every token is revoked, then the
namespace leaves the table, and last its whole storage prefix is erased. A lease
that fails to revoke stops the deletion with the namespace still in place, as a
failing unmount does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from strongroom.core.mount_manager import erase
from strongroom.core.namespaces.model import (
    ROOT_ID,
    TABLE_KEY,
    NamespaceEntry,
    decode_table,
    encode_table,
    new_namespace_id,
    normalize_namespace_path,
)
from strongroom.core.namespaces.scope import NamespaceScope
from strongroom.crypto.view import StorageView
from strongroom.errors import InvalidRequest, PermissionDenied
from strongroom.sdk.storage import Precondition, TxnOp, retry_on_conflict

if TYPE_CHECKING:
    from strongroom.core.core import Core
    from strongroom.core.leases import ExpirationManager
    from strongroom.core.router import Route
    from strongroom.core.tokens.store import TokenStore

log = logging.getLogger("strongroom.namespaces")


class NamespaceManager:
    def __init__(self, core: Core) -> None:
        self.core = core
        self._by_path: dict[str, NamespaceScope] = {"": core.root}
        self._by_id: dict[str, NamespaceScope] = {ROOT_ID: core.root}

    # -- lookups ---------------------------------------------------------------------

    def scopes(self) -> list[NamespaceScope]:
        """Every namespace, the root first, parents before children."""
        return [self._by_path[p] for p in sorted(self._by_path, key=lambda p: (p.count("/"), p))]

    def by_path(self, path: str) -> NamespaceScope | None:
        return self._by_path.get(path)

    def children(self, scope: NamespaceScope) -> list[NamespaceScope]:
        """The namespaces directly below ``scope``."""
        base = scope.path
        return [
            s for p, s in sorted(self._by_path.items())
            if p.startswith(base) and p != base and p[len(base):].count("/") == 1
        ]

    def of_store(self, tokens: TokenStore) -> NamespaceScope:
        """The namespace whose token store this is."""
        return next((s for s in self._by_path.values() if s.tokens is tokens), self.core.root)

    async def outer_alive(self, link: str) -> bool:
        """Whether the token a cross-namespace link (``<namespace id>:<hash>``) names is alive in its store."""
        namespace_id, _, id_hash = link.partition(":")
        scope = self._by_id.get(namespace_id)
        return scope is not None and await scope.tokens.alive_hash(id_hash)

    def lease_managers(self) -> list[ExpirationManager]:
        return [scope.leases for scope in self.scopes()]

    async def expire_due(self) -> bool:
        """One tick of the expiry loop over every namespace's leases; True when some batch was full."""
        full = False
        for leases in self.lease_managers():
            if await leases.expire_due() >= leases.config.batch:
                full = True
        return full

    def route_by_uuid(self, mount_uuid: str) -> Route | None:
        """The mount with this uuid in whichever namespace holds it (mount uuids are unique on the node)."""
        for scope in self.scopes():
            for route in scope.mounts.router.routes():
                if route.entry.uuid == mount_uuid:
                    return route
        return None

    def resolve(self, header: str, path: str) -> tuple[NamespaceScope, str]:
        """The namespace a request is for and its path inside it, as Vault combines them.

        The ``X-Vault-Namespace`` header names a namespace (relative to the root); leading
        segments of the path that name a namespace below it lead further down
        (``/v1/team/app/secret/x`` with header ``team`` and namespace ``team/app/``). A header
        naming no namespace is refused as a permission error: a caller learns nothing about
        which namespaces exist.
        """
        base = normalize_namespace_path(header) if header else ""
        scope = self._by_path.get(base)
        if scope is None:
            raise PermissionDenied()
        return self.descend(scope, path)

    def descend(self, scope: NamespaceScope, path: str) -> tuple[NamespaceScope, str]:
        """Follow leading segments of ``path`` that name namespaces below ``scope``."""
        if len(self._by_path) == 1:
            return scope, path  # only the root: nothing in the path can be a namespace
        while True:
            segment, slash, rest = path.partition("/")
            if not slash:
                break
            below = self._by_path.get(scope.path + segment + "/")
            if below is None:
                break
            scope, path = below, rest
        return scope, path

    def token_scope(self, token: str) -> NamespaceScope | None:
        """The namespace whose store minted ``token``: named by its ``.<id>`` suffix, none for the root."""
        head, dot, tail = token.rpartition(".")
        if not dot or "." not in head:
            return self.core.root
        return self._by_id.get(tail)

    # -- keeping in step with storage --------------------------------------------------------

    async def load(self) -> None:
        """Make the scopes match the stored table, and every scope's router its mount tables."""
        entries = decode_table(await self.core.barrier.get(TABLE_KEY))
        wanted = {e.path: e for e in entries}
        for path, scope in list(self._by_path.items()):
            if path == "":
                continue
            current = wanted.get(path)
            if current is None or current.id != scope.entry.id:
                del self._by_path[path]
                self._by_id.pop(scope.entry.id, None)
                await scope.unload()
        for path in sorted(wanted, key=lambda p: p.count("/")):
            entry = wanted[path]
            known = self._by_path.get(path)
            if known is None:
                scope = NamespaceScope(self.core, entry, StorageView(self.core.barrier, entry.storage_prefix))
                scope.tokens.outer_alive = self.outer_alive
                self._by_path[path] = scope
                self._by_id[entry.id] = scope
            else:
                scope = known
            scope.entry = entry
            await scope.load()

    async def unload(self) -> None:
        for path, scope in list(self._by_path.items()):
            if path:
                del self._by_path[path]
                self._by_id.pop(scope.entry.id, None)
                await scope.unload()

    def invalidate(self) -> None:
        """Drop every namespace's cached ACLs and token entries (policies or mounts changed)."""
        for scope in self._by_path.values():
            scope.invalidate()

    def invalidate_tokens(self) -> None:
        """Drop every namespace's cached token entries (something was written somewhere)."""
        for scope in self._by_path.values():
            scope.token_cache.invalidate()

    # -- sys/namespaces -----------------------------------------------------------------

    async def create(self, parent: NamespaceScope, name: str, metadata: dict[str, str]) -> NamespaceEntry:
        """Create ``name`` below ``parent`` (its own parent must exist); on an existing one, set its metadata."""
        relative = normalize_namespace_path(name)
        if not relative:
            raise InvalidRequest("a namespace path is required")
        path = parent.path + relative
        holder = path[:-1].rpartition("/")[0] + "/" if path.count("/") > 1 else ""
        if holder not in self._by_path:
            raise InvalidRequest(f'parent namespace "{holder}" does not exist')
        if parent.mounts.router.match(relative) is not None and self._by_path.get(path) is None:
            raise InvalidRequest(f'"{relative}" is a mount path in this namespace')

        async def attempt() -> NamespaceEntry:
            raw, version = await self.core.barrier.get_with_version(TABLE_KEY)
            table = decode_table(raw)
            existing = next((e for e in table if e.path == path), None)
            if existing is not None:
                existing.custom_metadata = metadata or existing.custom_metadata
                result = existing
            elif holder and not any(e.path == holder for e in table):
                raise InvalidRequest(f'parent namespace "{holder}" does not exist')
            else:
                taken = {e.id for e in table}
                result = NamespaceEntry(id=new_namespace_id(self.core.random_bytes, taken), path=path,
                                        custom_metadata=metadata)
                table.append(result)
            await self._commit(table, version)
            return result

        entry = await retry_on_conflict(attempt, random_bytes=self.core.random_bytes)
        await self.core.bump_generation()
        return entry

    async def patch(self, parent: NamespaceScope, name: str, metadata: dict[str, str]) -> NamespaceEntry:
        path = parent.path + normalize_namespace_path(name)

        async def attempt() -> NamespaceEntry:
            raw, version = await self.core.barrier.get_with_version(TABLE_KEY)
            table = decode_table(raw)
            existing = next((e for e in table if e.path == path), None)
            if existing is None:
                raise InvalidRequest(f'namespace "{path}" does not exist')
            existing.custom_metadata = {**existing.custom_metadata, **metadata}
            await self._commit(table, version)
            return existing

        entry = await retry_on_conflict(attempt, random_bytes=self.core.random_bytes)
        await self.core.bump_generation()
        return entry

    async def delete(self, parent: NamespaceScope, name: str) -> bool:
        """Delete the namespace and everything in it (module docstring). False: there was none."""
        path = parent.path + normalize_namespace_path(name)
        scope = self._by_path.get(path)
        if scope is None or not path:
            return False
        if self.children(scope):
            raise InvalidRequest(f'cannot delete namespace "{path}" containing child namespaces')
        for kind in ("secret", "auth"):
            for entry in scope.mounts.entries(kind):
                if not entry.builtin:
                    await scope.mounts.disable(kind, entry.path)
        await scope.tokens.revoke_all()

        async def attempt() -> None:
            raw, version = await self.core.barrier.get_with_version(TABLE_KEY)
            table = decode_table(raw)
            if any(e.path.startswith(path) and e.path != path for e in table):
                # A child created through another process since the check above.
                raise InvalidRequest(f'cannot delete namespace "{path}" containing child namespaces')
            await self._commit([e for e in table if e.id != scope.entry.id], version)

        await retry_on_conflict(attempt, random_bytes=self.core.random_bytes)
        await self.core.bump_generation()
        await erase(StorageView(self.core.barrier, scope.entry.storage_prefix))
        log.info("namespace %s (%s) deleted", path, scope.entry.id)
        return True

    async def _commit(self, table: list[NamespaceEntry], version: bytes | None) -> None:
        await self.core.barrier.transaction(
            [TxnOp(TABLE_KEY, encode_table(table))], [Precondition(TABLE_KEY, version)]
        )

