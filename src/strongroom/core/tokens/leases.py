"""Tokens as leases: what ``sys/leases/*`` sees of the tokens that expire.

Every token with a TTL has a lease id, ``<creation path>/<salted token hash>``
(``auth/token/create/3f9a...``), as Vault forms it. The token store keeps the lease's
two index entries with the token itself (``records.lease_ops``), so this module only
answers the expiration manager's questions: look a token lease up, list lease ids
under a prefix, revoke one or a whole prefix, and expire the due ones (its tick is
part of the lease expiry tick, so expiry revokes a token, its child tokens and their
leases on time rather than at the next lookup).

Token leases are renewed through ``auth/token/renew*``, not ``sys/leases/renew``.
"""

from __future__ import annotations

import re

from strongroom.core.leases.records import LeaseEntry
from strongroom.core.tokens.records import LEASE_PREFIX, due_time, lease_id
from strongroom.core.tokens.store import TokenEntry, TokenStore

#: The salted hash at the end of a token lease id (HMAC-SHA256, hex).
_HASH = re.compile(r"[0-9a-f]{64}")


class TokenLeases:
    """The token store seen as leases by the expiration manager (``ExpirationManager.token_leases``)."""

    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    async def lookup(self, lease: str) -> LeaseEntry | None:
        entry = await self._entry(lease)
        if entry is None:
            return None
        return LeaseEntry(
            lease_id=lease,
            mount="auth/token/",
            path=entry.path,
            issue_time=entry.creation_time,
            expire_time=due_time(entry),
            max_expire_time=entry.hard_deadline() or due_time(entry),
            renewable=entry.renewable,
            last_renewal=entry.last_renewal_time,
            revoked=entry.revoking,
        )

    async def list_ids(self, prefix: str) -> list[str]:
        """Immediate children of ``prefix`` (ending in '/') among token lease ids."""
        return await self.tokens.lease_storage.list(LEASE_PREFIX + prefix)

    async def ids_under(self, prefix: str) -> list[str]:
        """Every token lease id equal to or below ``prefix``."""
        if await self._entry(prefix) is not None:
            return [prefix]
        folder = prefix if prefix.endswith("/") else prefix + "/"
        found: list[str] = []
        stack = [folder]
        storage = self.tokens.lease_storage
        while stack:
            current = stack.pop()
            for child in await storage.list(LEASE_PREFIX + current):
                (stack.append if child.endswith("/") else found.append)(current + child)
        return sorted(found)

    async def revoke(self, lease: str) -> bool:
        """Revoke the token (and its subtree, and their leases) a lease id names; False if none."""
        entry = await self._entry(lease)
        return entry is not None and await self.tokens.revoke_hash(entry.id_hash)

    async def expire_due(self, limit: int) -> int:
        return await self.tokens.expire_due(limit)

    async def _entry(self, lease: str) -> TokenEntry | None:
        path, _, id_hash = lease.rstrip("/").rpartition("/")
        if not _HASH.fullmatch(id_hash) or not path:
            return None
        entry = await self.tokens.entry_by_hash(id_hash)
        # The id must name the token exactly, path included: a hash alone never matches elsewhere.
        if entry is None or not due_time(entry) or lease_id(entry) != lease:
            return None
        return entry
