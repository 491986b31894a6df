"""Everything one namespace owns, built over its own corner of the barrier.

The root namespace's scope sits on the barrier itself (its layout is the one
Strongroom always had); every other namespace's sits on ``namespaces/<id>/``.
Inside, the layout is the same: ``core/mounts``, ``core/auth``, ``sys/token/``,
``sys/expire/``, ``sys/policy/``, ``sys/wrapping/``, ``logical/<uuid>/``,
``auth/<uuid>/``. A namespace's services cannot name a key outside its view,
so isolation does not depend on every handler remembering to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from strongroom.core.acl_cache import AclCache
from strongroom.core.identity import IdentityStore
from strongroom.core.leases import ExpirationManager
from strongroom.core.mount_manager import MountManager
from strongroom.core.namespaces.model import NamespaceEntry
from strongroom.core.policy.store import PolicyStore
from strongroom.core.read_cache import RevisionCache
from strongroom.core.tokens.leases import TokenLeases
from strongroom.core.tokens.store import TokenStore
from strongroom.core.wrapping import WrappingStore
from strongroom.crypto.view import StorageView
from strongroom.sdk.logical import LogicalBackend
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import SystemView

if TYPE_CHECKING:
    from strongroom.core.core import Core


class NamespaceScope:
    """One namespace's mounts, policies, tokens, leases and wrapped answers."""

    def __init__(self, core: Core, entry: NamespaceEntry, barrier: StorageBackend) -> None:
        self.entry = entry
        #: The namespace's storage: the barrier (root) or a view of ``namespaces/<id>/``.
        self.barrier = barrier
        suffix = "" if entry.is_root else "." + entry.id
        # Token entries are read on every request and hold no secret value (ids are
        # salted hashes), so they are cached per process while storage is unchanged.
        self.token_cache = RevisionCache(StorageView(barrier, "sys/token/"))
        self.tokens = TokenStore(self.token_cache, clock=core.clock, random_bytes=core.random_bytes, suffix=suffix)
        #: Leases of dynamic secrets; a revoked token takes its leases along.
        self.leases = ExpirationManager(
            StorageView(barrier, "sys/expire/"),
            self._lease_backend,
            clock=core.clock,
            random_bytes=core.random_bytes,
            id_suffix=suffix,
        )
        self.tokens.on_revoke.append(lambda token: self.leases.revoke_token(token.id_hash))
        #: Tokens that expire are leases too: listed, revoked and expired on time by the expiry loop.
        self.leases.token_leases = TokenLeases(self.tokens)
        #: Response wrapping; a revoked wrapping token (used, expired) takes its wrapped answer along.
        self.wrapping = WrappingStore(StorageView(barrier, "sys/wrapping/"), self.tokens, core.system)
        self.tokens.on_revoke.append(self.wrapping.forget)
        self.policies = PolicyStore(StorageView(barrier, "sys/policy/"))
        self.acls = AclCache(self.policies)
        #: Entities, aliases and groups of this namespace (served at its ``identity/``); tokens' ACLs
        #: resolve their entity here, in the namespace that minted them.
        self.identity = IdentityStore(StorageView(barrier, "sys/identity/"), clock=core.clock,
                                      random_bytes=core.random_bytes)
        self.identity.on_change = core.bump_generation
        self.identity.namespace_id = entry.id
        self.acls.identity = self.identity
        self.mounts = MountManager(core, self)

    def __repr__(self) -> str:
        return f"NamespaceScope({self.entry.path or 'root'!r}, id={self.entry.id!r})"

    @property
    def path(self) -> str:
        """The full path from the root ('' for the root namespace)."""
        return self.entry.path

    def relative_to(self, ancestor: NamespaceScope) -> str:
        """This namespace's path seen from ``ancestor`` (an ancestor or itself): how its policies name it."""
        return self.entry.path[len(ancestor.entry.path):]

    def is_within(self, other: NamespaceScope) -> bool:
        """Is this namespace ``other`` or one of its descendants?"""
        return self.entry.path.startswith(other.entry.path)

    async def load(self) -> None:
        """Set up a namespace other than the root (the core loads the root's services itself)."""
        await self.policies.ensure_default()
        await self.mounts.load()
        await self.identity.load()

    async def unload(self) -> None:
        await self.mounts.unload()
        await self.identity.unload()
        self.invalidate()
        self.leases.index.forget()

    def invalidate(self) -> None:
        self.acls.invalidate()
        self.token_cache.invalidate()

    def _lease_backend(self, mount: str) -> tuple[LogicalBackend, SystemView] | None:
        """The backend mounted exactly at ``mount`` and its system view, for the expiration manager."""
        matched = self.mounts.router.match(mount)
        if matched is None or matched[0].entry.route_prefix != mount:
            return None
        return matched[0].backend, matched[0].system
