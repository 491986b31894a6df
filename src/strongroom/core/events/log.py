"""The node's event log: append-only batches in barrier storage, bucketed by second.

Key ``log/<unix second>/<nanoseconds, 20 digits>-<8 hex>`` holds one batch (a JSON list
of ``{"t": publish time, "e": envelope}``). Keys need no counter shared between
processes (which would make every publisher contend on one entry): a reader lists the
few most recent second buckets and remembers which batch keys it has seen. A batch
that becomes visible late (a slow commit, another node's clock a little behind) is
still found as long as it shows up within ``window`` seconds of its key's time.

Retention is short (``retention`` seconds): subscribers get events from the moment
they subscribe, nothing older, so the log only has to outlive the read window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from strongroom.sdk.storage import StorageBackend, TxnOp
from strongroom.sdk.system import Clock, RandomBytes

log = logging.getLogger("strongroom.events")

#: A batch key stays listable for this long before it is pruned.
RETENTION_SECONDS = 120
#: How far back a reader looks for batches that became visible late.
READ_WINDOW_SECONDS = 3


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event read back from the log: when it was published, and its envelope."""

    published: float
    envelope: dict[str, Any]


class EventLog:
    """Appends batches and reads new ones. ``storage`` is a barrier view of ``sys/events/``."""

    def __init__(self, storage: StorageBackend, *, clock: Clock, random_bytes: RandomBytes) -> None:
        self.storage = storage
        self.clock = clock
        self.random_bytes = random_bytes
        self._last_nanos = 0

    async def append(self, batch: list[tuple[float, dict[str, Any]]]) -> None:
        """Write one batch as one entry (one encryption, one commit)."""
        now = self.clock()
        # Strictly increasing within the process, so its batches keep their order even when the
        # clock stands still (a test's clock) or steps back.
        nanos = max(int(now * 1e9), self._last_nanos + 1)
        self._last_nanos = nanos
        key = f"log/{nanos // 10**9}/{nanos:020d}-{self.random_bytes(4).hex()}"
        value = orjson.dumps([{"t": published, "e": event} for published, event in batch])
        await self.storage.put(key, value)

    async def prune(self) -> int:
        """Delete buckets older than the retention. Idempotent, so several processes may run it."""
        cutoff = int(self.clock()) - RETENTION_SECONDS
        removed = 0
        for bucket in await self.storage.list("log/"):
            second = bucket.rstrip("/")
            if not second.isdigit() or int(second) >= cutoff:
                continue
            keys = await self.storage.list(f"log/{bucket}")
            if keys:
                await self.storage.transaction([TxnOp(f"log/{bucket}{key}", None) for key in keys])
                removed += len(keys)
        return removed


@dataclass
class LogReader:
    """One process's cursor over the log: new events since it started, each once."""

    log: EventLog
    since: float
    window: int = READ_WINDOW_SECONDS
    _seen: dict[str, int] = field(default_factory=dict)

    async def read_new(self) -> list[LoggedEvent]:
        """Events in batches not read before, published at or after ``since``, in key order."""
        now = int(self.log.clock())
        first = max(now - self.window, int(self.since) - 1)
        fresh: list[str] = []
        for second in range(first, now + 2):  # +1: another node's clock may run slightly ahead
            for name in await self.log.storage.list(f"log/{second}/"):
                key = f"log/{second}/{name}"
                if key not in self._seen:
                    self._seen[key] = second
                    fresh.append(key)
        # Forget keys that fell out of the window: they are never listed again.
        for key, second in list(self._seen.items()):
            if second < first:
                del self._seen[key]
        events: list[LoggedEvent] = []
        for key in sorted(fresh):
            raw = await self.log.storage.get(key)
            if raw is None:
                continue  # pruned meanwhile
            try:
                batch = orjson.loads(raw)
            except orjson.JSONDecodeError:
                log.warning("unreadable event batch skipped")
                continue
            events.extend(LoggedEvent(float(item["t"]), item["e"]) for item in batch if item["t"] >= self.since)
        return events
