"""Where keys live: one entry per key at ``policy/<name>`` in the mount's storage view (behind the barrier).

Every read goes to storage, so a change made by any worker process is seen by
the next request everywhere. Parsed records are cached by a digest of the exact
stored bytes, so the cache can never serve a stale key: a changed entry has a
different digest. Changes are read-modify-write cycles that commit with a
precondition on the entry as read and retry on a conflict (``sdk.storage``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from strongroom.errors import InternalError
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict

from .codec import MalformedKey, decode_policy, encode_policy
from .policy import KeyPolicy

PREFIX = "policy/"
T = TypeVar("T")


class PolicyCache:
    """Parsed key records by the digest of their stored bytes (bounded, least recently used goes first)."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, KeyPolicy] = OrderedDict()

    def parse(self, raw: bytes) -> KeyPolicy:
        digest = hashlib.blake2b(raw, digest_size=32).digest()
        found = self._entries.get(digest)
        if found is not None:
            self._entries.move_to_end(digest)
            return found
        try:
            policy = decode_policy(raw)
        except MalformedKey:
            # Behind the barrier only this engine writes entries: a bad one is an internal fault.
            raise InternalError("a transit key entry is malformed") from None
        self._entries[digest] = policy
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return policy

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True, slots=True)
class Read:
    """A key as read, with the version token a conditional write needs."""

    policy: KeyPolicy | None
    token: bytes | None


#: A change to a key: the new record, or None for "nothing to write".
Change = Callable[[KeyPolicy], KeyPolicy | None]


class KeyStore:
    def __init__(self, storage: StorageBackend, cache: PolicyCache, random_bytes: Callable[[int], bytes]) -> None:
        self.storage = storage
        self.cache = cache
        self.random_bytes = random_bytes

    async def get(self, name: str) -> KeyPolicy | None:
        raw = await self.storage.get(PREFIX + name)
        return None if raw is None else self.cache.parse(raw)

    async def read(self, name: str) -> Read:
        raw, token = await self.storage.get_with_version(PREFIX + name)
        return Read(None if raw is None else self.cache.parse(raw), token)

    async def names(self) -> list[str]:
        return [key for key in await self.storage.list(PREFIX) if not key.endswith("/")]

    async def create(self, policy: KeyPolicy) -> tuple[KeyPolicy, bool]:
        """Store ``policy`` unless a key of that name exists; ``(the key now stored, created?)``."""

        async def attempt() -> tuple[KeyPolicy, bool]:
            current = await self.read(policy.name)
            if current.policy is not None:
                return current.policy, False
            await self._commit(policy, None)
            return policy, True

        return await self._retry(attempt)

    async def put_over(self, name: str, decide: Callable[[KeyPolicy | None], KeyPolicy]) -> KeyPolicy:
        """Write ``decide(current key or None)`` at ``name``, conditional on what was read (``restore``).

        ``decide`` may raise (a 400) to refuse; it runs again on fresh data after a conflict.
        """

        async def attempt() -> KeyPolicy:
            current = await self.read(name)
            policy = decide(current.policy)
            await self._commit(policy, current.token)
            return policy

        return await self._retry(attempt)

    async def update(self, name: str, change: Change) -> KeyPolicy | None:
        """Apply ``change`` to the current key and commit it; None when there is no such key.

        ``change`` runs again on fresh data after a conflict, so its rules are re-checked
        each time (it may raise a 400 to refuse).
        """

        async def attempt() -> KeyPolicy | None:
            current = await self.read(name)
            if current.policy is None:
                return None
            updated = change(current.policy)
            if updated is None:
                return current.policy
            await self._commit(updated, current.token)
            return updated

        return await self._retry(attempt)

    async def delete(self, name: str, check: Callable[[KeyPolicy], None]) -> bool:
        """Delete the key if ``check`` (which may raise) passes on its current record; False if absent."""

        async def attempt() -> bool:
            current = await self.read(name)
            if current.policy is None:
                return False
            check(current.policy)
            await self.storage.transaction(
                [TxnOp(PREFIX + name, None)], [Precondition(PREFIX + name, current.token)]
            )
            return True

        return await self._retry(attempt)

    async def _commit(self, policy: KeyPolicy, token: bytes | None) -> None:
        key = PREFIX + policy.name
        await self.storage.transaction([TxnOp(key, encode_policy(policy))], [Precondition(key, token)])

    async def _retry(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await retry_on_conflict(attempt, random_bytes=self.random_bytes)
