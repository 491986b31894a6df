"""What every KV v2 handler needs: the mount context, the per-secret locks, "now", storage, retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from strongroom.sdk.logical import BackendContext, Request
from strongroom.sdk.storage import Precondition, TxnOp, retry_on_conflict

from ..common import KeyLocks, lookup_path, now_ns, request_storage
from .meta_cache import MetaCache
from .model import SecretMeta
from .store import V2Store

T = TypeVar("T")

#: Early reads waiting for their write; more means writes that never came (e.g. refused by the ACL).
MAX_EARLY_READS = 1024


@dataclass(frozen=True, slots=True)
class EarlyRead:
    """A secret's metadata as the existence check of a write read it, with its precondition.

    ``releases`` is the count of the secret's lock stripe at the time (``KeyLocks.releases``).
    """

    path: str
    meta: SecretMeta | None
    guard: Precondition
    releases: int


class Engine:
    """Shared state of one KV v2 mount. Holds no secret data: version data is always read from storage."""

    def __init__(self, ctx: BackendContext) -> None:
        self.ctx = ctx
        self.locks = KeyLocks()
        self._early_reads: dict[str, EarlyRead] = {}
        self.meta_cache = MetaCache()

    def store(self, req: Request) -> V2Store:
        return V2Store(request_storage(req, self.ctx.storage), self.meta_cache)

    def keep_early_read(self, req: Request, path: str, meta: SecretMeta | None, guard: Precondition) -> None:
        """Offer what a write's existence check read to that write (see :meth:`take_early_read`)."""
        if not req.request_id:
            return
        if len(self._early_reads) >= MAX_EARLY_READS:
            self._early_reads.clear()
        self._early_reads[req.request_id] = EarlyRead(path, meta, guard, self.locks.releases(path))

    def take_early_read(self, req: Request, path: str) -> EarlyRead | None:
        """The early read of this request for ``path``, if one is kept. Call it holding the path's lock.

        None unless it was read for ``path`` and no writer of this process has released
        the path's lock stripe since: the write then reads afresh. An early read made
        stale by another process fails its precondition at commit.
        """
        early = self._early_reads.pop(req.request_id, None) if req.request_id else None
        if early is None or early.path != path or early.releases != self.locks.releases(path):
            return None
        return early

    def now(self) -> int:
        """Nanoseconds from the injected clock (never the wall clock directly: tests move time)."""
        return now_ns(self.ctx.system.clock)

    def new_meta(self, now: int) -> SecretMeta:
        return SecretMeta(id=self.ctx.system.random_bytes(16).hex(), created_ns=now, updated_ns=now)

    async def retry_on_conflict(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` (one read-modify-write of a secret) again while another worker process beat it.

        Each attempt reads the entries it changes with a precondition and
        re-checks the rules on what it read (a check-and-set that no longer
        matches is the usual 400). The per-secret lock orders writers in this
        process, so conflicts only come from other processes.
        """
        return await retry_on_conflict(attempt, random_bytes=self.ctx.system.random_bytes)

    def publish(self, req: Request, operation: str, secret: str, meta: SecretMeta | None = None) -> None:
        """Vault's ``kv-v2/<operation>`` event for a committed change of ``secret`` (no value in it)."""
        mount = req.mount_point
        metadata: dict[str, str | int | bool] = {
            "path": mount + req.path,
            "data_path": f"{mount}data/{secret}",
            "operation": operation,
            "modified": True,
        }
        if meta is not None:
            metadata["current_version"] = meta.current_version
            metadata["oldest_version"] = meta.oldest_version
        self.ctx.system.publish_event(f"kv-v2/{operation}", mount + req.path, metadata)

    async def change_existing(
        self,
        req: Request,
        raw_path: str,
        change: Callable[[str, SecretMeta, V2Store], Awaitable[list[TxnOp]]],
        *,
        event: str = "",
    ) -> None:
        """Read-modify-write of an existing secret's metadata (and versions), retried on conflict.

        ``change`` edits the metadata it is given and returns the ops to commit
        (none: nothing to do). A missing secret or an unusable path is a no-op,
        as Vault answers 204 for deleting what is not there. With ``event``, a
        committed change publishes ``kv-v2/<event>``.
        """
        path = lookup_path(raw_path)
        if path is None:
            return
        store = self.store(req)

        async def attempt() -> SecretMeta | None:
            meta, guard = await store.meta_for_update(path)
            if meta is None:
                return None
            ops = await change(path, meta, store)
            if not ops:
                return None
            await store.commit(ops, guard)
            return meta

        async with self.locks.for_key(path):
            changed = await self.retry_on_conflict(attempt)
        if event and changed is not None:
            self.publish(req, event, path, changed)
