"""Parsed ACLs by policy set (and, for templated policies, by caller identity).

Dropped whole whenever policies change (generation bump). A policy set without
templates gives every caller the same ACL, so it is cached by the set of names
alone. A set with a templated policy is cached by the names *and* the caller's
:class:`TemplateIdentity` (entity, its metadata, aliases and groups): two
entities, or one entity before and after its metadata changed, never share an
ACL. That second map is bounded and cleared whole when full.
"""

from __future__ import annotations

from collections.abc import Iterable

from strongroom.core.identity.store import IdentityStore
from strongroom.core.policy.acl import ACL
from strongroom.core.policy.model import Policy
from strongroom.core.policy.store import PolicyStore
from strongroom.core.policy.templates import TemplateIdentity
from strongroom.core.tokens.entry import TokenEntry

#: Bound of the per-identity map (one entry per entity and policy set in use).
TEMPLATED_MAX = 4096
#: The ACL of a token whose entity is disabled.
_NOTHING = ACL()


class AclCache:
    def __init__(self, store: PolicyStore) -> None:
        self._store = store
        self._acls: dict[frozenset[str], ACL] = {}
        self._templated: set[frozenset[str]] = set()
        self._per_identity: dict[tuple[frozenset[str], TemplateIdentity | None], ACL] = {}
        #: The identity store tokens' entities are resolved in (set by the core); None: no identity.
        self.identity: IdentityStore | None = None

    def invalidate(self) -> None:
        self._acls.clear()
        self._templated.clear()
        self._per_identity.clear()
        self._store.invalidate()

    async def for_policies(self, names: Iterable[str], identity: TemplateIdentity | None = None) -> ACL:
        key = frozenset(names)
        acl = self._acls.get(key)
        if acl is not None:
            return acl
        if key in self._templated:
            acl = self._per_identity.get((key, identity))
            if acl is not None:
                return acl
        policies = await self._load(key)
        acl = ACL.from_policies(policies, identity)
        if not any(policy.templated for policy in policies):
            self._acls[key] = acl
            return acl
        self._templated.add(key)
        if len(self._per_identity) >= TEMPLATED_MAX:
            self._per_identity.clear()
        self._per_identity[(key, identity)] = acl
        return acl

    async def for_token(self, entry: TokenEntry) -> ACL:
        """The ACL of a token now: its policies plus its entity's and groups' (identity policies).

        Identity policies are resolved on every request, so a change to an entity or a
        group applies to tokens already issued (as in Vault). A token whose entity is
        disabled gets an ACL that grants nothing.
        """
        if not entry.entity_id or self.identity is None:
            return await self.for_policies(entry.policies)
        resolved = await self.identity.resolve(entry.entity_id)
        if resolved is None:
            return await self.for_policies(entry.policies)
        if resolved.disabled:
            return _NOTHING
        return await self.for_policies((*entry.policies, *resolved.policies), resolved.template)

    async def identity_policies(self, entry: TokenEntry) -> list[str]:
        """The identity policies a token has now (its entity's and its groups'), for token lookups."""
        if not entry.entity_id or self.identity is None:
            return []
        resolved = await self.identity.resolve(entry.entity_id)
        return [] if resolved is None else list(resolved.policies)

    async def _load(self, key: frozenset[str]) -> list[Policy]:
        policies = []
        for name in sorted(key):
            policy = await self._store.get(name)
            if policy is not None:  # a deleted policy simply grants nothing
                policies.append(policy)
        return policies
