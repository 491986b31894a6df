"""Failure counters in the barrier, shared by every worker and kept across restarts.

Layout (a barrier view at ``sys/lockout/``):

* ``salt``: 32 random bytes, the key of :class:`~.keys.CounterKeys`. Created
  once with a precondition that it is absent; a worker that loses that race
  reads the winner's.
* ``counter/<mount accessor>/<hmac>``: one principal's counter: its folded
  name (for ``sys/locked-users``), the number of consecutive failures and the
  time of the last one.

A failure is a read-modify-write that several workers may run on one counter
at once, so it commits with a precondition on the version it read and runs
again on a conflict: no failure is lost. A success deletes the counter only
when one exists, so a clean login writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from strongroom.core.lockout.keys import CounterKeys
from strongroom.core.lockout.settings import LockoutSettings
from strongroom.errors import InternalError, StorageConflict
from strongroom.sdk.storage import Precondition, StorageBackend, TxnOp, retry_on_conflict
from strongroom.sdk.system import RandomBytes

SALT_KEY = "salt"
COUNTER_PREFIX = "counter/"
SALT_BYTES = 32
#: What a mount accessor looks like; anything else is never a counter folder.
ACCESSOR_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@dataclass(frozen=True, slots=True)
class Counter:
    """Consecutive failed logins of one principal on one mount."""

    principal: str
    failures: int
    last_failure: float

    def locked(self, settings: LockoutSettings, now: float) -> bool:
        """Locked from the failure that reached the threshold until ``duration`` after it.

        Failures are not counted while locked, so ``last_failure`` is that failure.
        """
        return self.failures >= settings.threshold and now < self.last_failure + settings.duration

    def counting(self, settings: LockoutSettings, now: float) -> bool:
        """Whether the next failure adds to this counter (rather than starting over at one)."""
        return self.failures < settings.threshold and now < self.last_failure + settings.counter_reset

    def stale(self, settings: LockoutSettings, now: float) -> bool:
        """Neither locked nor counting: the counter can go."""
        return not self.locked(settings, now) and not self.counting(settings, now)

    def encode(self) -> bytes:
        return orjson.dumps({"principal": self.principal, "failures": self.failures,
                             "last_failure": self.last_failure})

    @staticmethod
    def decode(raw: bytes) -> Counter:
        try:
            body = orjson.loads(raw)
            return Counter(str(body["principal"]), int(body["failures"]), float(body["last_failure"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise InternalError("a lockout counter in storage is malformed") from None


@dataclass(frozen=True, slots=True)
class StoredCounter:
    accessor: str
    key: str
    counter: Counter
    version: bytes | None


class CounterStore:
    """Failure counters over ``storage`` (a barrier view)."""

    def __init__(self, storage: StorageBackend, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self._random_bytes = random_bytes
        self._keys: CounterKeys | None = None

    def __repr__(self) -> str:
        return f"CounterStore({self.storage!r})"

    async def keys(self) -> CounterKeys:
        """The counter-naming keys, creating the salt the first time any process needs it."""
        if self._keys is None:
            self._keys = CounterKeys(await retry_on_conflict(self._salt_once, random_bytes=self._random_bytes))
        return self._keys

    async def _salt_once(self) -> bytes:
        salt = await self.storage.get(SALT_KEY)
        if salt is not None:
            return salt
        fresh = self._random_bytes(SALT_BYTES)
        await self.storage.transaction([TxnOp(SALT_KEY, fresh)], [Precondition(SALT_KEY, None)])
        return fresh

    @staticmethod
    def path(accessor: str, name: str) -> str:
        return f"{COUNTER_PREFIX}{accessor}/{name}"

    async def read(self, path: str) -> Counter | None:
        raw = await self.storage.get(path)
        return Counter.decode(raw) if raw is not None else None

    async def record_failure(self, path: str, principal: str, settings: LockoutSettings, now: float) -> Counter:
        """Count one failed login (conditional write, retried); nothing changes while the principal is locked."""

        async def attempt() -> Counter:
            raw, version = await self.storage.get_with_version(path)
            current = Counter.decode(raw) if raw is not None else None
            if current is not None and current.locked(settings, now):
                return current
            failures = current.failures + 1 if current is not None and current.counting(settings, now) else 1
            updated = Counter(principal, failures, now)
            await self.storage.transaction([TxnOp(path, updated.encode())], [Precondition(path, version)])
            return updated

        return await retry_on_conflict(attempt, random_bytes=self._random_bytes)

    async def clear(self, path: str) -> None:
        """Forget a principal's failures (a successful login, an unlock)."""
        await self.storage.delete(path)

    async def accessors(self) -> list[str]:
        return [name.rstrip("/") for name in await self.storage.list(COUNTER_PREFIX) if name.endswith("/")]

    async def counters(self, accessor: str) -> list[StoredCounter]:
        """Every counter kept for one mount."""
        if not ACCESSOR_PATTERN.fullmatch(accessor):
            return []
        found: list[StoredCounter] = []
        folder = f"{COUNTER_PREFIX}{accessor}/"
        for name in await self.storage.list(folder):
            if name.endswith("/"):
                continue
            raw, version = await self.storage.get_with_version(folder + name)
            if raw is not None:
                found.append(StoredCounter(accessor, folder + name, Counter.decode(raw), version))
        return found

    async def discard(self, stored: StoredCounter) -> None:
        """Delete a counter if it is still exactly as read (a failure recorded meanwhile keeps it)."""
        try:
            await self.storage.transaction([TxnOp(stored.key, None)], [Precondition(stored.key, stored.version)])
        except StorageConflict:
            return
