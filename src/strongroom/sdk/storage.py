"""The storage seam.

A storage backend is **untrusted**: above the barrier it only ever sees
ciphertext. Keys are '/'-separated paths without a leading '/'. Values are
opaque bytes.

Semantics every implementation must honour (checked by
``strongroom.sdk.testing.StorageConformance``):

* ``get`` of a missing key returns ``None``.
* ``put`` overwrites; once it returns, the value is durable (survives
  ``kill -9`` of the process for persistent backends).
* ``delete`` of a missing key is not an error.
* ``list(prefix)`` returns the *immediate* children under ``prefix`` (which is
  empty or ends in '/'), sorted: leaf keys as their last segment, and
  sub-folders as ``name/`` (each once).
* ``transaction(ops)`` applies all puts and deletes atomically, or none.
* ``transaction(ops, preconditions=...)`` first checks, atomically with the
  writes, that each precondition's key still holds the version the caller
  read with ``get_with_version`` (``None``: the key is absent). If any does
  not, nothing is applied and :class:`strongroom.errors.StorageConflict` is
  raised. This is the one conditional write of the contract: read-modify-write
  cycles that several processes may run at once (KV check-and-set, token use
  counts) re-read and retry on a conflict.
* A write made through one process is visible to a read in any other process
  sharing the same backend once the write has returned.
"""

from __future__ import annotations

import abc
import asyncio
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from strongroom.errors import StorageConflict

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TxnOp:
    """One operation inside an atomic transaction: a put (``value`` set) or a delete (``value`` None)."""

    key: str
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Precondition:
    """A condition of a transaction: ``key`` still holds ``expected``, the version last read.

    ``expected`` is the version token :meth:`StorageBackend.get_with_version`
    returned for ``key`` on the same store, or ``None`` for "the key is absent".
    The token is opaque to the caller: for a backend that stores values
    verbatim it is the stored value itself; the barrier's is the ciphertext,
    which is fresh for every write (random nonce), so a rewrite with the same
    plaintext still changes it. Comparing whole values rather than revision
    counters keeps the contract implementable by any store that can read and
    write inside one transaction.
    """

    key: str
    expected: bytes | None

    def __repr__(self) -> str:
        # The token may be a stored value; show only whether one is expected.
        state = "absent" if self.expected is None else "unchanged"
        return f"Precondition({self.key!r}, {state})"


class StorageBackend(abc.ABC):
    """The physical storage contract. See the module docstring for the semantics."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def put(self, key: str, value: bytes) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def list(self, prefix: str) -> list[str]: ...

    @abc.abstractmethod
    async def transaction(self, ops: Sequence[TxnOp], preconditions: Sequence[Precondition] = ()) -> None:
        """Apply ``ops`` in order, all or nothing, if every precondition holds.

        The preconditions are checked inside the same atomic step as the writes
        (no other write can come between); a failed one raises
        :class:`strongroom.errors.StorageConflict` and applies nothing. With
        preconditions and no ops, the call only checks.
        """

    async def get_with_version(self, key: str) -> tuple[bytes | None, bytes | None]:
        """``(value, version)`` of ``key``: both ``None`` when it is missing.

        ``version`` is the token a :class:`Precondition` on ``key`` expects. This
        default is right for any backend that stores values verbatim (the value
        is its own version); a layer that transforms values (the barrier) or
        keys (a view) must override it.
        """
        value = await self.get(key)
        return value, value

    def revision(self) -> int | None:
        """A cheap number that changes whenever any process may have changed the store.

        Callers compare it between requests to keep per-process caches: equal
        values mean nothing was written since (by anyone); ``None`` means the
        backend cannot tell, and callers must not cache. Never blocks.
        """
        return None

    async def open(self) -> None:
        """Connect / create tables. Called once per process before first use (after fork)."""

    async def close(self) -> None:
        """Release connections; pending acknowledged writes are already durable."""


#: How many times :func:`retry_on_conflict` runs a read-modify-write before the conflict propagates.
CONFLICT_ATTEMPTS = 10
#: The pause after the n-th conflict is up to n times this many seconds, scaled by a random factor.
CONFLICT_BACKOFF = 0.002


async def retry_on_conflict(
    attempt: Callable[[], Awaitable[T]], *, random_bytes: Callable[[int], bytes], attempts: int = CONFLICT_ATTEMPTS
) -> T:
    """Run ``attempt`` (one read-modify-write) again while storage refuses its commit as stale.

    ``attempt`` must read everything it decides on afresh and commit with
    preconditions on what it read, so every run re-checks its rules on current
    data. A short random pause (``random_bytes`` is the injected randomness)
    keeps two processes from colliding in step. After ``attempts`` runs the
    :class:`strongroom.errors.StorageConflict` propagates (a 500); any other
    error propagates at once.
    """
    tries = 1
    while True:
        try:
            return await attempt()
        except StorageConflict:
            if tries >= attempts:
                raise
        jitter = random_bytes(1)[0] / 255
        await asyncio.sleep(CONFLICT_BACKOFF * tries * jitter)
        tries += 1


def holds(stored: bytes | None, expected: bytes | None) -> bool:
    """Whether a key holding ``stored`` meets a precondition expecting ``expected`` (a helper for backends).

    Constant-time in the contents, like every comparison of tokens in the server.
    """
    if stored is None or expected is None:
        return stored is None and expected is None
    return hmac.compare_digest(stored, expected)


def list_children(keys: Sequence[str], prefix: str) -> list[str]:
    """The ``list`` answer for ``prefix`` given every key under it (a helper for backends).

    Keys must all start with ``prefix``. Returns sorted unique immediate children,
    sub-folders with a trailing '/'.
    """
    children: set[str] = set()
    for key in keys:
        rest = key[len(prefix):]
        if not rest:
            continue
        head, sep, _ = rest.partition("/")
        children.add(head + "/" if sep else head)
    return sorted(children)
