"""Parsed ACLs by policy set, dropped whole whenever policies change (generation bump)."""

from __future__ import annotations

from collections.abc import Iterable

from strongroom.core.policy.acl import ACL
from strongroom.core.policy.store import PolicyStore


class AclCache:
    def __init__(self, store: PolicyStore) -> None:
        self._store = store
        self._acls: dict[frozenset[str], ACL] = {}

    def invalidate(self) -> None:
        self._acls.clear()
        self._store.invalidate()

    async def for_policies(self, names: Iterable[str]) -> ACL:
        key = frozenset(names)
        acl = self._acls.get(key)
        if acl is None:
            policies = []
            for name in sorted(key):
                policy = await self._store.get(name)
                if policy is not None:  # a deleted policy simply grants nothing
                    policies.append(policy)
            acl = ACL.from_policies(policies)
            self._acls[key] = acl
        return acl
