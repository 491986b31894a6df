"""The expiration manager: registers leases, renews them within their cap, revokes them exactly once.

Exactly once across processes. Every change to a lease is a conditional write
on the entry as it was read (``Precondition``), so two processes sharing
storage never both act on one version. Revocation is a claim first: a process
writes ``claim_owner``/``claim_until`` onto the entry (conditional), and only the
winner calls the backend; it then deletes the entry conditional on its own
claim. A runner that dies mid-revocation leaves a claim that lapses after
``LeaseConfig.claim_seconds``, and another runner retries it, so a crash can
make a backend's (idempotent) ``revoke_secret`` run twice but never zero times.

Failures. A backend that raises keeps its lease: ``attempts`` grows, the next
attempt is scheduled with exponential backoff (capped), and after
``irrevocable_after`` attempts the lease is marked ``irrevocable`` (visible in
lookup) while retries continue at the capped interval. ``revoke_force`` deletes
without calling the backend.

A revoked or expired lease is never renewed: renewal refuses a lease whose
expiry has passed, which is marked revoked, or which is being revoked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from strongroom.core.leases.records import LeaseEntry, decode, encode, from_hex, id_key, token_key
from strongroom.core.leases.schedule import DueIndex, due_key
from strongroom.core.leases.ttl import issue_terms, renewal_expiry
from strongroom.errors import InvalidRequest, StorageConflict, StrongroomError
from strongroom.sdk.logical import LeaseOptions, LogicalBackend
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes, SystemView

log = logging.getLogger("strongroom.leases")

#: Finds the backend and system view of a mount by its route prefix (None: not mounted here).
Resolver = Callable[[str], tuple[LogicalBackend, SystemView] | None]


class TokenLeaseSource(Protocol):
    """Tokens that expire, seen as leases (``core.tokens.leases``): the token store keeps them."""

    async def lookup(self, lease: str) -> LeaseEntry | None: ...

    async def list_ids(self, prefix: str) -> list[str]: ...

    async def ids_under(self, prefix: str) -> list[str]: ...

    async def revoke(self, lease: str) -> bool: ...

    async def expire_due(self, limit: int) -> int: ...


@dataclass(frozen=True)
class LeaseConfig:
    claim_seconds: float = 60.0
    backoff_base: float = 10.0
    backoff_cap: float = 3600.0
    irrevocable_after: int = 6
    batch: int = 100


@dataclass(frozen=True)
class RevokeResult:
    revoked: bool
    error: str = ""


class ExpirationManager:
    """Leases over ``storage`` (the barrier view of ``sys/expire/``). One per process; see the module docstring."""

    def __init__(
        self,
        storage: StorageBackend,
        resolve: Resolver,
        *,
        clock: Clock,
        random_bytes: RandomBytes,
        config: LeaseConfig | None = None,
        id_suffix: str = "",
    ) -> None:
        self.storage = storage
        #: Appended to every lease id issued here: ``.<namespace id>`` outside the root namespace (as Vault).
        self.id_suffix = id_suffix
        self.resolve = resolve
        self.clock = clock
        self.random_bytes = random_bytes
        self.config = config or LeaseConfig()
        #: This process's identity in revocation claims.
        self.owner = random_bytes(12).hex()
        self.index = DueIndex(storage)
        #: Token leases (set by the core): looked up, listed, revoked and expired alongside these.
        self.token_leases: TokenLeaseSource | None = None

    def __repr__(self) -> str:
        return f"ExpirationManager({self.storage!r})"

    # -- reading -------------------------------------------------------------------------

    async def lookup(self, lease_id: str) -> LeaseEntry | None:
        raw = await self.storage.get(id_key(lease_id))
        if raw is not None:
            return decode(raw)
        return await self.token_leases.lookup(lease_id) if self.token_leases is not None else None

    async def list_ids(self, prefix: str) -> list[str]:
        """Immediate children of ``prefix`` among lease ids (folders end in '/'), token leases included."""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        found = await self.storage.list(id_key(prefix))
        if self.token_leases is not None:
            found = sorted({*found, *await self.token_leases.list_ids(prefix)})
        return found

    async def _read(self, lease_id: str) -> tuple[LeaseEntry | None, Precondition]:
        raw, version = await self.storage.get_with_version(id_key(lease_id))
        return (decode(raw) if raw is not None else None), Precondition(id_key(lease_id), version)

    async def _rewrite(self, old: LeaseEntry, new: LeaseEntry, guard: Precondition) -> None:
        ops = [TxnOp(id_key(new.lease_id), encode(new))]
        old_due, new_due = due_key(old.due_time, old.lease_id), due_key(new.due_time, new.lease_id)
        if old_due != new_due:
            ops += [TxnOp(new_due, b""), TxnOp(old_due, None)]
        await self.storage.transaction(ops, [guard])

    # -- issuing and renewing ---------------------------------------------------------------------

    async def register(
        self, mount: str, path: str, options: LeaseOptions, system: SystemView, token_hash: str = ""
    ) -> LeaseEntry:
        """Persist a lease for a secret just issued at ``mount`` + ``path``; fills ``options`` in.

        ``options.lease_id`` and ``options.ttl`` are set to the id and the clamped TTL
        the client is told.
        """
        now = self.clock()
        expire, max_expire = issue_terms(options.ttl, options.max_ttl, system, now)
        lease_id = f"{mount}{path.rstrip('/')}/{self.random_bytes(16).hex()}{self.id_suffix}"
        entry = LeaseEntry(
            lease_id=lease_id, mount=mount, path=path, issue_time=now, expire_time=expire,
            max_expire_time=max_expire, renewable=options.renewable, internal=dict(options.internal),
            token_hash=token_hash,
        )
        ops = [TxnOp(id_key(lease_id), encode(entry)), TxnOp(due_key(entry.due_time, lease_id), b"")]
        if token_hash:
            ops.append(TxnOp(token_key(token_hash, lease_id), b""))
        await self.storage.transaction(ops, [Precondition(id_key(lease_id), None)])
        options.lease_id = lease_id
        options.ttl = entry.ttl_at(now)
        return entry

    async def renew(self, lease_id: str, increment: int) -> LeaseEntry:
        """Extend a live renewable lease by ``increment`` seconds (0: the backend's answer), never past its cap."""
        async def attempt() -> LeaseEntry:
            entry, guard = await self._read(lease_id)
            now = self.clock()
            if entry is None and self.token_leases is not None and await self.token_leases.lookup(lease_id):
                raise InvalidRequest("this lease is a token's: renew it with auth/token/renew")
            if entry is None or entry.revoked or entry.expire_time <= now or entry.claim_owner:
                raise InvalidRequest("lease not found or lease is not renewable")
            if not entry.renewable:
                raise InvalidRequest("lease is not renewable")
            resolved = self.resolve(entry.mount)
            if resolved is None:
                raise InvalidRequest("lease is not renewable")
            backend, system = resolved
            terms = await backend.renew_secret(entry.secret_lease(), increment)
            if not terms.renewable:
                raise InvalidRequest("lease is not renewable")
            expire = renewal_expiry(increment or terms.ttl, system.default_lease_ttl, entry.max_expire_time, now)
            renewed = entry.with_changes(expire_time=max(expire, now), last_renewal=now)
            await self._rewrite(entry, renewed, guard)
            return renewed

        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    # -- revoking ----------------------------------------------------------------------------

    async def revoke(self, lease_id: str) -> RevokeResult:
        """Revoke now. A missing lease is not an error (already revoked); a backend failure schedules retries.

        A token's lease id revokes that token, its child tokens and all their leases."""
        result = await self._revoke(lease_id, early=True)
        if not result.revoked and not result.error and self.token_leases is not None:
            return RevokeResult(revoked=await self.token_leases.revoke(lease_id))
        return result

    async def revoke_force(self, prefix: str) -> int:
        """Delete every lease under ``prefix`` without asking its backend (for a target that is gone for good)."""
        count = 0
        if self.token_leases is not None:
            # A token has no outside system to spare: forcing its lease is revoking it.
            for lease_id in await self.token_leases.ids_under(prefix):
                count += await self.token_leases.revoke(lease_id)
        for lease_id in await self._ids_under(prefix):

            async def attempt(lease_id: str = lease_id) -> int:
                # Conditional on the entry as read (its index key depends on it); a renewal
                # landing in between makes this run again on the fresh entry.
                entry, guard = await self._read(lease_id)
                if entry is None:
                    return 0
                await self.storage.transaction(self._delete_ops(entry), [guard])
                return 1

            count += await retry_on_conflict(attempt, random_bytes=self.random_bytes)
        return count

    async def revoke_prefix(self, prefix: str) -> list[RevokeResult]:
        results = [await self.revoke(lease_id) for lease_id in await self._ids_under(prefix)]
        if self.token_leases is not None:
            for lease_id in await self.token_leases.ids_under(prefix):
                results.append(RevokeResult(revoked=await self.token_leases.revoke(lease_id)))
        return results

    async def revoke_token(self, token_hash: str) -> None:
        """Revoke the leases a token owns (a token store ``on_revoke`` callback; never raises on backend errors)."""
        for name in await self.storage.list(f"token/{token_hash}/"):
            await self.revoke(from_hex(name))

    async def _ids_under(self, prefix: str) -> list[str]:
        if not prefix:
            raise InvalidRequest("prefix is required")
        if await self.storage.get(id_key(prefix)) is not None:
            return [prefix]
        folder = prefix if prefix.endswith("/") else prefix + "/"
        return [key[len("id/"):] for key in await self._keys_under(id_key(folder))]

    async def _revoke(self, lease_id: str, *, early: bool) -> RevokeResult:
        claimed = await self._claim(lease_id, early=early)
        if claimed is None:
            return RevokeResult(revoked=False)
        entry, guard = claimed
        resolved = self.resolve(entry.mount)
        if resolved is None:
            message = f"no mount at {entry.mount!r} to revoke the lease"
            await self._record_failure(entry, guard, message)
            return RevokeResult(revoked=False, error=message)
        try:
            await resolved[0].revoke_secret(entry.secret_lease())
        except Exception as exc:  # any failure of the target system: keep the lease, retry later
            # Only the class name of a foreign error: its text may quote credentials.
            message = exc.message if isinstance(exc, StrongroomError) else type(exc).__name__
            await self._record_failure(entry, guard, message)
            return RevokeResult(revoked=False, error=message)
        try:
            await self.storage.transaction(self._delete_ops(entry), [guard])
        except StorageConflict:
            log.warning("lease %s changed while this process held its revocation claim", entry.lease_id)
        return RevokeResult(revoked=True)

    async def _claim(self, lease_id: str, *, early: bool) -> tuple[LeaseEntry, Precondition] | None:
        """Take the revocation claim on a lease: the entry written and its version, or None (gone, not due, taken).

        A conflict (a renewal landed between our read and our write) is not a refusal:
        the claim is tried again on the fresh entry, so a racing renewal never makes a
        revocation get lost.
        """

        async def attempt() -> tuple[LeaseEntry, Precondition] | None:
            entry, guard = await self._read(lease_id)
            now = self.clock()
            if entry is None or entry.claimed_by_other(self.owner, now):
                return None
            if not early and entry.due_time > now:
                return None
            claimed = entry.with_changes(claim_owner=self.owner, claim_until=now + self.config.claim_seconds)
            if early and not entry.revoked:
                # Revoked before expiry: due at once from now on, so a failure's retries come from the loop.
                claimed = claimed.with_changes(revoked=True, next_attempt=now)
            await self._rewrite(entry, claimed, guard)
            # Nobody rewrites a lease under a live claim (renewals and other revocations
            # refuse), so the version read back is the one our claim wrote.
            _, version = await self.storage.get_with_version(id_key(lease_id))
            return claimed, Precondition(id_key(lease_id), version)

        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)

    async def _record_failure(self, entry: LeaseEntry, guard: Precondition, message: str) -> None:
        now = self.clock()
        attempts = entry.attempts + 1
        delay = min(self.config.backoff_base * 2 ** (attempts - 1), self.config.backoff_cap)
        failed = entry.with_changes(
            attempts=attempts, next_attempt=now + delay, last_error=message[:200],
            irrevocable=attempts >= self.config.irrevocable_after, claim_owner="", claim_until=0.0, revoked=True,
        )
        log.warning("revoking lease %s failed (attempt %d): %s", entry.lease_id, attempts, message[:200])
        try:
            await self._rewrite(entry, failed, guard)
        except StorageConflict:
            log.warning("lease %s changed while its revocation failed; leaving it as it is", entry.lease_id)

    def _delete_ops(self, entry: LeaseEntry) -> list[TxnOp]:
        ops = [TxnOp(id_key(entry.lease_id), None), TxnOp(due_key(entry.due_time, entry.lease_id), None)]
        if entry.token_hash:
            ops.append(TxnOp(token_key(entry.token_hash, entry.lease_id), None))
        return ops

    # -- maintenance ------------------------------------------------------------------------------

    async def tidy(self) -> dict[str, int]:
        """Rebuild what a damaged store may lack: index entries of leases, and drop index entries of no lease."""
        lease_ids = await self._all_ids()
        known = set(lease_ids)
        reindexed = dropped = 0
        for lease_id in lease_ids:
            entry = await self.lookup(lease_id)
            if entry is None:
                continue
            key = due_key(entry.due_time, lease_id)
            if await self.storage.get(key) is None:
                await self.storage.put(key, b"")
                reindexed += 1
        for key in await self._keys_under("due/") + await self._keys_under("token/"):
            if from_hex(key.rsplit("/", 1)[1]) not in known:
                await self.storage.delete(key)
                dropped += 1
        self.index.forget()
        return {"leases": len(lease_ids), "reindexed": reindexed, "index_entries_dropped": dropped}

    async def _all_ids(self) -> list[str]:
        return [key[len("id/"):] for key in await self._keys_under("id/")]

    async def _keys_under(self, folder: str) -> list[str]:
        found: list[str] = []
        stack = [folder]
        while stack:
            current = stack.pop()
            for child in await self.storage.list(current):
                (stack.append if child.endswith("/") else found.append)(current + child)
        return sorted(found)

    # -- expiring ---------------------------------------------------------------------------------

    async def expire_due(self) -> int:
        """One tick of the expiry loop: revoke up to ``batch`` due leases. Answers how many were looked at."""
        due = await self.index.due(self.clock(), self.config.batch)
        for lease_id in due:
            await self._revoke(lease_id, early=False)
        if self.token_leases is None:
            return len(due)
        # Expired tokens go in the same tick: a full batch of either keeps the catch-up pace.
        return max(len(due), await self.token_leases.expire_due(self.config.batch))
