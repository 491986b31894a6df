"""How many entries the node sealed under the active keyring term, and the rotation before the safe limit.

AES-256-GCM with random 96-bit nonces stays inside NIST SP 800-38D's bound on
nonce collisions for at most 2^32 encryptions under one key. Each process's
barrier counts only its own seals (:meth:`Barrier.key_status`), and a worker's
count dies with it, so this tracker keeps the node-wide (and restart-proof)
count in one record in storage, :data:`USAGE_KEY`, written through the barrier:

    {"term": 7, "encryptions": 123456, "rotation_claimed_at": null}

Every process adds what its barrier sealed since its last flush with a
conditional read-modify-write (retried on conflict), so no addition is lost to
a concurrent one. A flush runs every :data:`FLUSH_INTERVAL` seconds, as soon as
``flush_every`` encryptions are pending after a request, before each metrics
scrape, and at shutdown. When the stored count for the active term reaches
``max_operations``, the flush that sees it first also records a claim in the
same conditional write, so exactly one process asks the seal manager to rotate
(the ordinary ``sys/rotate`` path: in a worker it goes to the supervisor, which
installs the new term on every worker before answering). A claim that did not
lead to a rotation (the node sealed meanwhile) expires after
:data:`CLAIM_TIMEOUT` seconds and the next flush tries again.

The count can fall short of the truth by what was not yet flushed when a
process died or the node sealed (at most ``flush_every`` encryptions or
:data:`FLUSH_INTERVAL` seconds of writes per process and event) and by the few
entries the supervisor seals during ``sys/init``. The default limit, 2^31, leaves
2^31 encryptions of headroom below the bound for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from strongroom.core import telemetry
from strongroom.core.metrics.buffer import BUFFER
from strongroom.crypto.barrier import Barrier, KeyStatus
from strongroom.errors import StrongroomError
from strongroom.sdk.storage import Precondition, TxnOp, retry_on_conflict
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.metrics")

USAGE_KEY = "core/barrier-usage"
#: Rotate at half the NIST bound unless configured lower.
DEFAULT_MAX_OPERATIONS = 2**31
#: The highest limit the configuration accepts: about 0.9 x 2^32 (Vault's default).
MAX_OPERATIONS_CEILING = 3_865_470_566
FLUSH_INTERVAL = 5.0
CLAIM_TIMEOUT = 60.0
_FLUSH_EVERY_CAP = 10_000


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """The stored node-wide count for one keyring term."""

    term: int
    encryptions: int
    rotation_claimed_at: float | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {"term": self.term, "encryptions": self.encryptions, "rotation_claimed_at": self.rotation_claimed_at}
        )

    @staticmethod
    def from_bytes(raw: bytes) -> UsageRecord:
        data: Any = orjson.loads(raw)
        claimed = data.get("rotation_claimed_at")
        return UsageRecord(
            term=int(data["term"]),
            encryptions=int(data["encryptions"]),
            rotation_claimed_at=None if claimed is None else float(claimed),
        )


class BarrierUsage:
    """One process's share of the node-wide encryption count (see the module docstring).

    ``rotate`` is the seal manager's rotation (``core.seal_manager.rotate``).
    ``max_operations`` must be between 1 and :data:`MAX_OPERATIONS_CEILING`.
    """

    def __init__(
        self,
        barrier: Barrier,
        rotate: Callable[[], Awaitable[object]],
        *,
        max_operations: int,
        clock: Clock,
        random_bytes: RandomBytes,
        flush_every: int | None = None,
    ) -> None:
        if not 1 <= max_operations <= MAX_OPERATIONS_CEILING:
            raise ValueError(f"max_operations must be between 1 and {MAX_OPERATIONS_CEILING}")
        self.max_operations = max_operations
        self._barrier = barrier
        self._rotate = rotate
        self._clock = clock
        self._random_bytes = random_bytes
        # Small limits (tests) flush after every few seals; large ones batch up to the cap.
        self.flush_every = flush_every or max(1, min(_FLUSH_EVERY_CAP, max_operations // 64))
        self._term = 0  # the term the two baselines below belong to
        self._flushed = 0  # this barrier's count already added to storage
        self._counted = 0  # this barrier's count already added to the node's counter metric
        self._stored: UsageRecord | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- cheap, synchronous: after every request --------------------------------------------------

    def after_request(self) -> None:
        """Count this process's new encryptions and start a flush once enough are pending. Never raises."""
        status = self._status()
        if status is None:
            return
        if status.encryptions > self._counted:
            # Buffered like the request metrics: a direct inc is a locked write into a shared file.
            BUFFER.inc(telemetry.BARRIER_ENCRYPTIONS, status.encryptions - self._counted)
            self._counted = status.encryptions
        if status.encryptions - self._flushed >= self.flush_every and not self._lock.locked():
            task = asyncio.get_running_loop().create_task(self._flush_in_background())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _status(self) -> KeyStatus | None:
        if self._barrier.sealed:
            self._term = 0  # an unsealed barrier counts from zero again
            return None
        status = self._barrier.key_status()
        if status.term != self._term or status.encryptions < max(self._flushed, self._counted):
            # A new term, or a barrier sealed and unsealed again between two looks (its count restarted).
            self._term, self._flushed, self._counted = status.term, 0, 0
        return status

    # -- the node-wide count ------------------------------------------------------------------------

    def estimate(self) -> tuple[int, int] | None:
        """``(term, encryptions)`` for the active term: the last stored count plus this process's pending seals."""
        status = self._status()
        if status is None:
            return None
        stored = self._stored.encryptions if self._stored is not None and self._stored.term == status.term else 0
        return status.term, stored + status.encryptions - self._flushed

    async def flush(self, *, may_rotate: bool = True) -> UsageRecord | None:
        """Add this process's pending seals to the stored count; rotate if the limit is reached.

        Returns the stored record (None while sealed). Storage errors propagate.
        ``may_rotate=False`` (at shutdown) stores the count without claiming the rotation.
        """
        async with self._lock:
            status = self._status()
            if status is None:
                return None
            taken = status.encryptions
            record, claimed, wrote = await retry_on_conflict(
                lambda: self._add(status.term, taken - self._flushed, may_rotate), random_bytes=self._random_bytes
            )
            # The record's own write is one more seal, already included in what it stored.
            self._flushed = taken + 1 if wrote else taken
            self._stored = record
        if claimed:
            await self._rotate_for(record)
        return record

    async def _add(self, term: int, delta: int, may_rotate: bool) -> tuple[UsageRecord, bool, bool]:
        """One read-modify-write of the stored record: (record, claimed the rotation, wrote)."""
        raw, version = await self._barrier.get_with_version(USAGE_KEY)
        stored = UsageRecord.from_bytes(raw) if raw is not None else None
        if stored is not None and stored.term > term:
            # Another process already rotated; seals under our stale term no longer matter.
            return stored, False, False
        base = stored if stored is not None and stored.term == term else UsageRecord(term, 0)
        now = self._clock()
        claim = (
            may_rotate
            and base.encryptions + delta + 1 >= self.max_operations
            and (base.rotation_claimed_at is None or now - base.rotation_claimed_at >= CLAIM_TIMEOUT)
        )
        if delta == 0 and not claim and stored is base:
            return base, False, False  # nothing new: an idle node writes nothing
        updated = UsageRecord(term, base.encryptions + delta + 1, now if claim else base.rotation_claimed_at)
        await self._barrier.transaction([TxnOp(USAGE_KEY, updated.to_bytes())], [Precondition(USAGE_KEY, version)])
        return updated, claim, True

    async def _rotate_for(self, record: UsageRecord) -> None:
        log.warning(
            "keyring term %d has sealed about %d entries (limit %d): rotating the keyring",
            record.term, record.encryptions, self.max_operations,
        )
        try:
            await self._rotate()
        except Exception as exc:  # a background job: report and let a later flush retry
            log.error(  # noqa: TRY400 - a traceback would quote the error text, which _describe keeps out
                "automatic keyring rotation failed (%s); retrying after %ds", _describe(exc), CLAIM_TIMEOUT
            )
            return
        telemetry.KEYRING_ROTATIONS.inc()

    # -- background ---------------------------------------------------------------------------------

    async def flush_quietly(self, *, may_rotate: bool = True) -> UsageRecord | None:
        """:meth:`flush`, logging a failure instead of raising it (None then): a later flush retries."""
        try:
            return await self.flush(may_rotate=may_rotate)
        except Exception as exc:
            # Requests and scrapes never fail because the count could not be stored this time.
            log.warning("could not store the barrier encryption count: %s", _describe(exc))
            return None

    async def _flush_in_background(self) -> None:
        await self.flush_quietly()

    async def run(self, interval: float = FLUSH_INTERVAL) -> None:
        """Flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.flush_quietly()

    async def close(self) -> None:
        """Wait for flushes in flight, then store what is pending without rotating (best effort, at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush_quietly(may_rotate=False)


def _describe(exc: Exception) -> str:
    """Our errors carry messages written to be shown; of any other, only the type (it could quote data)."""
    return exc.message if isinstance(exc, StrongroomError) else type(exc).__name__
