"""The expiry index: leases bucketed by the minute they fall due, so the loop never scans them all.

Keys are ``due/<hour>/<minute>/<hex lease id>`` with hour and minute counted
since the epoch (zero-padded, so they sort by time). One tick lists only the
hours from the oldest one it knows may hold entries up to now, and in them only
the minute buckets already begun: with 100,000 leases spread over a month an
idle tick lists one hour folder and one minute bucket. Every lease has exactly
one index entry while it is pending; moving it (renewal, a retry) replaces the
old entry in the same transaction that rewrites the lease.
"""

from __future__ import annotations

from strongroom.core.leases.records import from_hex, hex_id
from strongroom.sdk.storage import StorageBackend

DUE = "due/"
#: How often (seconds) the loop re-reads the list of hours, in case another process's clock ran behind ours.
RESCAN_INTERVAL = 300.0


def due_key(due_time: float, lease_id: str) -> str:
    second = int(due_time)
    return f"{DUE}{second // 3600:08d}/{second // 60:010d}/{hex_id(lease_id)}"


class DueIndex:
    """Finds leases due by a given time, oldest bucket first. One per expiry loop (keeps a cursor)."""

    def __init__(self, storage: StorageBackend) -> None:
        self._storage = storage
        self._floor_hour: int | None = None
        self._scanned_at = float("-inf")

    def forget(self) -> None:
        """Re-read the hour list on the next call (after a restart, a seal)."""
        self._floor_hour = None

    async def due(self, now: float, limit: int) -> list[str]:
        """Lease ids whose bucket has begun by ``now``, at most ``limit``, oldest first.

        Entries of the current minute may be due a few seconds later than ``now``:
        the caller reads each lease and checks its own due time.
        """
        return [from_hex(key.rsplit("/", 1)[1]) for key in await self.due_keys(now, limit)]

    async def due_keys(self, now: float, limit: int) -> list[str]:
        """As :meth:`due`, but the index keys themselves (a caller can drop a stale one)."""
        if self._floor_hour is None or now - self._scanned_at >= RESCAN_INTERVAL:
            hours = [int(h.rstrip("/")) for h in await self._storage.list(DUE) if h.endswith("/")]
            # Never above the current hour: a lease issued from now on may fall due within it.
            self._floor_hour = min([*hours, int(now) // 3600])
            self._scanned_at = now
        now_hour, now_minute = int(now) // 3600, int(now) // 60
        found: list[str] = []
        hour = self._floor_hour
        while hour <= now_hour and len(found) < limit:
            minutes = [m for m in await self._storage.list(f"{DUE}{hour:08d}/") if m.endswith("/")]
            if not minutes and hour < now_hour and hour == self._floor_hour:
                self._floor_hour = hour + 1  # an empty past hour stays empty: new entries are never due earlier
            for minute in minutes:
                if int(minute.rstrip("/")) > now_minute or len(found) >= limit:
                    break
                names = await self._storage.list(f"{DUE}{hour:08d}/{minute}")
                found.extend(f"{DUE}{hour:08d}/{minute}{n}" for n in names[: limit - len(found)])
            hour += 1
        return found
