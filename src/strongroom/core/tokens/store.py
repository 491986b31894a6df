"""The token store: mints, finds, renews and revokes service tokens.

Tokens are stored only as keyed hashes (layout in :mod:`.records`); every
comparison of hashes or accessors is constant-time.

Liveness. A token is alive when its entry exists, it is not expired, not
marked for revocation, not waiting on the revocation of its last use, and the
same holds for every ancestor. Checking the ancestors on each lookup is what
makes revocation crash-safe (see :meth:`TokenStore.revoke_tree`) and what
makes an expired parent take its children with it, as Vault's expiration of a
parent does. Dead tokens that a lookup finds are revoked there and then
(lazily): an expired token's subtree and leases go the first time anyone
presents it or any descendant, or at ``tidy``.

Concurrency. Mutations are serialised by one asyncio lock per store. Across
worker processes, every rewrite of an existing entry (use, renew, orphaning,
the revocation mark) is a conditional write on the entry exactly as it was
read (see :meth:`TokenStore._update`): if another process changed or revoked
the token in between, storage refuses the write and the rewrite runs again on
the fresh entry. So a revoked token is never brought back, no spent use is
lost, and of two workers spending the last use of one token at the same
moment exactly one succeeds. Minting is conditional on the id being unused.

``on_revoke`` callbacks run, under the lock, for every token about to be
deleted (before its entry goes), so the expiration manager can revoke its
leases first. A callback that raises stops the revocation: the token stays dead
and the next lookup or ``tidy`` resumes. Callbacks must not call the store's
mutating methods (the lock is not re-entrant).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from strongroom.core.leases.records import from_hex
from strongroom.core.leases.schedule import DueIndex
from strongroom.core.tokens.entry import REVOCATION_PENDING, SERVICE, TokenEntry, TokenSpec
from strongroom.core.tokens.ids import new_accessor, new_token_id, same_hash
from strongroom.core.tokens.policies import ROOT_POLICY, sanitize_policies
from strongroom.core.tokens.records import TokenRecords, accessor_key, child_key
from strongroom.core.tokens.ttl import creation_ttl, next_ttl
from strongroom.errors import InternalError, InvalidRequest, PermissionDenied, StorageConflict
from strongroom.sdk.logical import Auth
from strongroom.sdk.storage import StorageBackend, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes, SystemView

__all__ = ["OnRevoke", "TidyReport", "TokenEntry", "TokenSpec", "TokenStore"]

ROOT_PATH = "auth/token/root"

OnRevoke = Callable[[TokenEntry], Awaitable[None]]
#: How :meth:`TokenStore._update` changes an entry: the entry to write, or None for nothing.
Change = Callable[[TokenEntry | None], Awaitable[TokenEntry | None]]


@dataclass(frozen=True, slots=True)
class TidyReport:
    """What ``tidy`` cleaned up."""

    tokens_scanned: int
    tokens_revoked: int
    accessors_deleted: int
    parent_index_entries_deleted: int


class TokenStore:
    """Service tokens over ``storage`` (a barrier view). See the module docstring for the guarantees."""

    def __init__(
        self, storage: StorageBackend, *, clock: Clock, random_bytes: RandomBytes, suffix: str = ""
    ) -> None:
        self._records = TokenRecords(storage, random_bytes)
        #: Appended to every token id and accessor minted here: ``.<namespace id>`` outside the root namespace.
        self.suffix = suffix
        #: Whether a parent in another namespace's store (``<namespace id>:<hash>``) is alive; set by the
        #: namespace manager. Without it such a link counts as dead.
        self.outer_alive: Callable[[str], Awaitable[bool]] | None = None
        self._clock = clock
        self._random_bytes = random_bytes
        self._lock = asyncio.Lock()
        self.on_revoke: list[OnRevoke] = []
        #: Expiring tokens by the minute they fall due (``due/`` in the store's view), read by ``expire_due``.
        self._due = DueIndex(storage)

    def __repr__(self) -> str:
        return f"TokenStore({self._records.storage!r})"

    def now(self) -> float:
        return self._clock()

    @property
    def lease_storage(self) -> StorageBackend:
        """The store's view, where the token lease index lives (``records.LEASE_PREFIX``)."""
        return self._records.storage

    async def setup(self) -> None:
        """Create the salt if this store has none. Run it once where only one process runs (init)."""
        await self._records.hasher()

    # -- minting -----------------------------------------------------------------------

    async def create(
        self,
        spec: TokenSpec,
        *,
        creator: TokenEntry | None,
        system: SystemView,
        orphan: bool = False,
        warnings: list[str] | None = None,
        outer_parent: str = "",
    ) -> tuple[str, TokenEntry]:
        """Mint a token; returns the token (shown once, never stored) and its entry.

        ``creator`` is the calling token (None for a login). The new token is its
        child unless ``orphan`` or there is no creator. The root policy, in any
        spelling, is only granted when the creator holds it. Raises InvalidRequest
        with Vault's wording when a rule is broken; capped TTLs add to ``warnings``.
        ``outer_parent`` (``<namespace id>:<hash>``): the creator lives in an ancestor
        namespace's store (the core found it alive); the new token keeps that link instead of
        a parent here (unless ``orphan``), and dies with that parent (``outer_alive``).
        """
        notes = warnings if warnings is not None else []
        policies = tuple(sanitize_policies(spec.policies, add_default=False))
        root = policies == (ROOT_POLICY,)
        if root and (creator is None or ROOT_POLICY not in creator.policies):
            raise InvalidRequest("root tokens may not be created without parent token being root")
        if spec.num_uses < 0:
            raise InvalidRequest("number of uses cannot be negative")
        async with self._lock:
            parent_hash = ""
            if creator is not None and not outer_parent:
                current = await self._records.read(creator.id_hash)
                if current is None or current.revocation_pending or not (await self._verdict(current))[0]:
                    raise InvalidRequest("parent token lookup failed: no parent found")
                parent_hash = "" if orphan else current.id_hash
            ttl = creation_ttl(
                system,
                requested=spec.ttl,
                period=spec.period,
                backend_max=spec.max_ttl,
                explicit_max=spec.explicit_max_ttl,
                root=root,
                warnings=notes,
            )
            if ttl == 0 and creator is not None and creator.expire_time:
                raise InvalidRequest("expiring root tokens cannot create non-expiring root tokens")
            return await self._mint(
                replace(spec, policies=policies), ttl=ttl, parent_hash=parent_hash,
                outer_parent="" if orphan else outer_parent,
            )

    async def create_root(self, token_id: str | None = None) -> tuple[str, TokenEntry]:
        """Mint a root token that never expires (server init, generate-root, dev mode)."""
        spec = TokenSpec(
            policies=(ROOT_POLICY,), path=ROOT_PATH, display_name="root", token_id=token_id or ""
        )
        async with self._lock:
            return await self._mint(spec, ttl=0, parent_hash="")

    async def create_from_auth(
        self, auth: Auth, *, path: str, system: SystemView, mount_prefix: str | None = None
    ) -> tuple[str, TokenEntry]:
        """Mint the orphan token a successful login grants (never a root token).

        The display name is prefixed with the auth mount's path as Vault does
        (``auth/userpass/`` + ``bob`` -> ``userpass-bob``); the mount prefix is
        taken from ``path``'s directory unless given.
        """
        prefix = mount_prefix if mount_prefix is not None else path.rpartition("/")[0] + "/"
        source = prefix.removeprefix("auth/").replace("/", "-")
        spec = TokenSpec(
            policies=tuple(sanitize_policies(auth.policies, add_default=not auth.no_default_policy)),
            path=path,
            display_name=(source + auth.display_name).rstrip("-"),
            meta=dict(auth.metadata),
            ttl=auth.ttl,
            max_ttl=auth.max_ttl,
            explicit_max_ttl=auth.explicit_max_ttl,
            period=auth.period,
            num_uses=auth.num_uses,
            renewable=auth.renewable,
            entity_id=auth.entity_id,
            bound_cidrs=tuple(auth.bound_cidrs),
        )
        return await self.create(spec, creator=None, system=system)

    async def _mint(
        self, spec: TokenSpec, *, ttl: int, parent_hash: str, outer_parent: str = ""
    ) -> tuple[str, TokenEntry]:
        hasher = await self._records.hasher()
        if spec.token_id and "." in spec.token_id:
            raise InvalidRequest("token IDs can not contain a '.'")
        token_id = (spec.token_id or new_token_id(self._random_bytes)) + self.suffix
        id_hash = hasher.token(token_id)
        if id_hash is None:
            raise InvalidRequest("invalid token ID")
        if await self._records.exists(id_hash):
            # Only reachable with a caller-chosen id; generated ids carry ~190 random bits.
            raise InvalidRequest("cannot create a token with a duplicate ID")
        accessor = new_accessor(self._random_bytes) + self.suffix
        accessor_hash = hasher.accessor(accessor)
        if accessor_hash is None:
            raise InternalError("accessor generation failed")
        now = self._clock()
        expiring = ttl > 0
        entry = TokenEntry(
            id_hash=id_hash,
            accessor=accessor,
            parent=parent_hash,
            outer_parent=outer_parent,
            policies=spec.policies,
            path=spec.path,
            meta=dict(spec.meta),
            display_name=spec.display_name,
            num_uses=spec.num_uses,
            creation_time=now,
            ttl=ttl,
            max_ttl=spec.max_ttl,
            explicit_max_ttl=spec.explicit_max_ttl,
            period=spec.period,
            # A token that never expires has nothing to renew (as in Vault).
            renewable=spec.renewable and expiring,
            role=spec.role,
            type=SERVICE,
            entity_id=spec.entity_id,
            bound_cidrs=spec.bound_cidrs if expiring else (),
            expire_time=now + ttl if expiring else 0.0,
        )
        try:
            await self._records.mint(entry, accessor_hash)
        except StorageConflict:
            # Another process minted the same caller-chosen id since the check above.
            raise InvalidRequest("cannot create a token with a duplicate ID") from None
        return token_id, entry

    # -- finding ------------------------------------------------------------------------

    async def lookup(self, token_id: str, *, include_pending: bool = False) -> TokenEntry | None:
        """The live entry for ``token_id``, or None (unknown, expired, revoked, or a dead ancestor).

        ``include_pending`` also returns a token whose last use is being served
        right now (for the handlers of that very request, e.g. lookup-self).
        """
        id_hash = (await self._records.hasher()).token(token_id)
        if id_hash is None:
            return None
        entry = await self._records.read(id_hash)
        if entry is None or not same_hash(entry.id_hash, id_hash):
            return None
        return await self._alive_or_none(entry, include_pending)

    async def lookup_accessor(self, accessor: str, *, include_pending: bool = False) -> TokenEntry | None:
        """The live entry whose accessor is ``accessor``, or None."""
        accessor_hash = (await self._records.hasher()).accessor(accessor)
        if accessor_hash is None:
            return None
        index = await self._records.read_accessor(accessor_hash)
        if index is None:
            return None
        stored_accessor, id_hash = index
        entry = await self._records.read(id_hash)
        if entry is None or not same_hash(entry.id_hash, id_hash):
            return None
        if not same_hash(entry.accessor, accessor) or not same_hash(stored_accessor, accessor):
            return None
        return await self._alive_or_none(entry, include_pending)

    async def alive_hash(self, id_hash: str) -> bool:
        """Whether the token stored under ``id_hash`` is alive (no revocation here: a read-only check)."""
        entry = await self._records.read(id_hash)
        return entry is not None and not entry.revocation_pending and (await self._verdict(entry))[0]

    async def stored_count(self) -> int:
        """How many token entries storage holds (expired ones count until a lookup or ``tidy`` removes them)."""
        return len(await self._records.id_hashes())

    async def list_accessors(self) -> list[str]:
        """Every accessor in the store (including tokens not yet found to be expired), sorted."""
        accessors: list[str] = []
        for accessor_hash in await self._records.accessor_hashes():
            index = await self._records.read_accessor(accessor_hash)
            if index is not None:
                accessors.append(index[0])
        return sorted(accessors)

    async def _alive_or_none(self, entry: TokenEntry, include_pending: bool) -> TokenEntry | None:
        if entry.revocation_pending and not include_pending:
            return None
        alive, doomed = await self._verdict(entry)
        if alive:
            return entry
        async with self._lock:
            await self._revoke_tree_locked(doomed)
        return None

    async def _verdict(self, entry: TokenEntry) -> tuple[bool, str]:
        """(alive, hash of the subtree root to revoke when not).

        Walks the ancestors: a token is dead when any ancestor is expired, marked
        for revocation, or missing (its revocation was interrupted), or when one
        of them hangs from a parent in an ancestor namespace that is no longer alive.
        """
        now = self._clock()
        if entry.revoking or entry.is_expired(now):
            return False, entry.id_hash
        child = entry
        seen = {entry.id_hash}
        while True:
            if child.outer_parent and (self.outer_alive is None or not await self.outer_alive(child.outer_parent)):
                return False, child.id_hash
            if not child.parent:
                break
            if child.parent in seen:
                return False, entry.id_hash  # a parent cycle can only come from corrupt storage
            seen.add(child.parent)
            parent = await self._records.read(child.parent)
            if parent is None:
                return False, child.id_hash
            if parent.revoking or parent.is_expired(now):
                return False, parent.id_hash
            child = parent
        return True, ""

    # -- using and renewing ---------------------------------------------------------------

    async def use(self, entry: TokenEntry) -> bool:
        """Count one use of a limited-use token; call it before serving the request.

        Returns True when this was its last use: the caller serves the request
        and then calls :meth:`revoke_tree`. From this call on, lookups of the
        token fail for every other request. Raises PermissionDenied when the
        token has no use left.
        """
        if entry.num_uses == 0:
            return False

        async def spend(current: TokenEntry | None) -> TokenEntry | None:
            if current is None or current.num_uses < 0 or current.revoking:
                raise PermissionDenied()
            if current.num_uses == 0:
                return None
            remaining = REVOCATION_PENDING if current.num_uses == 1 else current.num_uses - 1
            return replace(current, num_uses=remaining)

        async with self._lock:
            after = await self._update(entry.id_hash, spend)
        # Only the call that took the count from 1 wrote REVOCATION_PENDING; any later one was refused.
        return after is not None and after.num_uses == REVOCATION_PENDING

    async def renew(
        self,
        entry: TokenEntry,
        increment: int = 0,
        *,
        system: SystemView,
        warnings: list[str] | None = None,
    ) -> TokenEntry:
        """Extend a token's life by ``increment`` seconds (0: its original TTL), within every cap.

        Raises InvalidRequest when the token is gone ("token not found"), not
        renewable, or already at its maximum lifetime.
        """
        notes: list[str] = []  # from the attempt that succeeded: a retry computes the TTL again

        async def extend(current: TokenEntry | None) -> TokenEntry:
            if current is None or current.revocation_pending or not (await self._verdict(current))[0]:
                raise InvalidRequest("token not found")
            if not current.renewable:
                raise InvalidRequest("lease is not renewable")
            notes.clear()
            now = self._clock()
            ttl = next_ttl(
                system,
                increment=max(0, increment),
                base_ttl=current.ttl,
                period=current.period,
                backend_max=current.max_ttl,
                explicit_max=current.explicit_max_ttl,
                elapsed=now - current.creation_time,
                warnings=notes,
            )
            return replace(current, expire_time=now + ttl, last_renewal_time=now)

        async with self._lock:
            renewed = await self._update(entry.id_hash, extend)
        if renewed is None:  # extend writes or raises, so this is only for the type checker
            raise InvalidRequest("token not found")
        if warnings is not None:
            warnings.extend(notes)
        return renewed

    # -- revoking --------------------------------------------------------------------------

    async def revoke_tree(self, entry: TokenEntry) -> None:
        """Revoke a token and every token below it.

        Crash-safe ordering: the token is first marked ``revoking`` (one write),
        which kills it and, through the ancestor check, its whole subtree at
        once. Then the subtree is deleted leaves first, iteratively (no
        recursion, so any depth works), each token in one transaction with its
        accessor and its parent-index entry, and the marked token last. A crash
        at any point leaves only dead tokens behind (every survivor still has the
        marked token as an ancestor), and the next lookup of any of them, or
        ``tidy``, finishes the job.
        """
        async with self._lock:
            await self._revoke_tree_locked(entry.id_hash)

    async def revoke_orphan(self, entry: TokenEntry) -> None:
        """Revoke only this token; its children become orphans and live on.

        Each child is re-parented before its index entry is dropped, and the
        token is deleted last, so no child ever points at a missing parent
        (which would make it dead); a crash in between leaves a live token with
        some children already orphaned, and a retry finishes. A token that is already dead,
        or whose ancestor is, is revoked with its whole tree instead: orphaning
        must never bring a dead subtree back to life.
        """
        async with self._lock:
            current = await self._records.read(entry.id_hash)
            if current is None:
                return
            alive, doomed = await self._verdict(current)
            if not alive:
                await self._revoke_tree_locked(doomed)
                return
            parent_hash = current.id_hash

            async def orphan(child: TokenEntry | None) -> TokenEntry | None:
                if child is None or not same_hash(child.parent, parent_hash):
                    return None
                return replace(child, parent="")

            for child_hash in await self._records.children(current.id_hash):
                await self._update(child_hash, orphan)
                await self._records.storage.delete(child_key(current.id_hash, child_hash))
            await self._destroy(current.id_hash, current.parent)

    async def _revoke_tree_locked(self, root_hash: str) -> None:
        async def mark(root: TokenEntry | None) -> TokenEntry | None:
            if root is None or root.revoking:
                return None
            return replace(root, revoking=True)

        root = await self._update(root_hash, mark)
        # Post-order walk with an explicit stack: a node is destroyed only after its children.
        stack: list[tuple[str, str, bool]] = [(root_hash, root.parent if root else "", False)]
        seen = {root_hash}
        while stack:
            node, parent, expanded = stack.pop()
            if not expanded:
                stack.append((node, parent, True))
                for child in await self._records.children(node):
                    if child in seen:
                        # Only corrupt storage lists a token twice; drop the stray index entry.
                        await self._records.storage.delete(child_key(node, child))
                        continue
                    seen.add(child)
                    stack.append((child, node, False))
                continue
            await self._destroy(node, parent)

    async def _update(self, id_hash: str, change: Change) -> TokenEntry | None:
        """Rewrite the entry of ``id_hash`` as ``change`` says, conditional on it being unchanged since read.

        ``change`` gets the entry as stored (None: gone) and returns the entry to
        write, or None to write nothing; it may raise to refuse. If another
        process changed or revoked the token between the read and the write,
        storage refuses the write and ``change`` runs again on the fresh entry
        (bounded; StorageConflict after that). Returns the entry as it now
        stands: the one written, or the one read when nothing was written.
        Call it with the store's lock held.
        """

        async def attempt() -> TokenEntry | None:
            current, guard = await self._records.read_for_update(id_hash)
            updated = await change(current)
            if updated is None:
                return current
            await self._records.replace(updated, guard, current)
            return updated

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def _destroy(self, id_hash: str, parent_hash: str) -> None:
        entry = await self._records.read(id_hash)
        if entry is not None:
            for callback in self.on_revoke:
                await callback(entry)
        await self._records.storage.transaction(await self._records.destroy_ops(id_hash, entry, parent_hash))

    async def entry_by_hash(self, id_hash: str) -> TokenEntry | None:
        """The stored entry of a token hash (alive or not), for the token's lease (``core.tokens.leases``)."""
        return await self._records.read(id_hash)

    async def revoke_hash(self, id_hash: str) -> bool:
        """Revoke the token stored under ``id_hash`` with its subtree; False when there is none."""
        async with self._lock:
            if not await self._records.exists(id_hash):
                return False
            await self._revoke_tree_locked(id_hash)
        return True

    async def expire_due(self, limit: int) -> int:
        """One tick of expiry for tokens: revoke (with their subtrees and leases) up to ``limit`` tokens
        whose expiry index entry has come due. Answers how many index entries it looked at.

        An entry found not yet expired (a renewal moved it meanwhile) or gone is left alone, and a
        stale index entry whose token is gone is dropped.
        """
        now = self._clock()
        keys = await self._due.due_keys(now, limit)
        for key in keys:
            id_hash = from_hex(key.rsplit("/", 1)[1])
            entry = await self._records.read(id_hash)
            if entry is None:
                await self._records.storage.delete(key)
                continue
            if entry.is_expired(now) or entry.revoking:
                async with self._lock:
                    await self._revoke_tree_locked(id_hash)
        return len(keys)

    async def revoke_all(self) -> int:
        """Revoke every token in the store with its subtree (a namespace being deleted); answers how many."""
        count = 0
        async with self._lock:
            for id_hash in await self._records.id_hashes():
                if await self._records.exists(id_hash):
                    await self._revoke_tree_locked(id_hash)
                    count += 1
        return count

    # -- maintenance -----------------------------------------------------------------------

    async def tidy(self) -> TidyReport:
        """Finish interrupted revocations, revoke dead tokens, drop dangling index entries.

        Unlike Vault, the children of a vanished parent are revoked, not orphaned:
        a parent only vanishes through an interrupted tree revocation. Tokens
        whose last use is pending are revoked too (their request has ended or
        will find the revocation already done). Holds the store's lock throughout.
        """
        scanned = revoked = accessors_deleted = index_deleted = 0
        records = self._records
        async with self._lock:
            for id_hash in await records.id_hashes():
                entry = await records.read(id_hash)
                if entry is None:
                    continue  # removed by an earlier revocation in this pass
                scanned += 1
                alive, doomed = await self._verdict(entry)
                if entry.revocation_pending:
                    alive, doomed = False, entry.id_hash
                if not alive:
                    await self._revoke_tree_locked(doomed)
                    revoked += 1
            for accessor_hash in await records.accessor_hashes():
                index = await records.read_accessor(accessor_hash)
                if index is None or not await records.exists(index[1]):
                    await records.storage.delete(accessor_key(accessor_hash))
                    accessors_deleted += 1
            for parent_hash in await records.parents_with_children():
                for child_hash in await records.children(parent_hash):
                    if not await records.exists(child_hash):
                        await records.storage.delete(child_key(parent_hash, child_hash))
                        index_deleted += 1
        return TidyReport(scanned, revoked, accessors_deleted, index_deleted)
