"""Rate-limit counting shared by every worker of a node, in one small shared-memory table.

Why shared memory: a quota promises N requests per interval *per node*, and
clients with keep-alive stick to one worker, so a per-worker share of the rate
would refuse a steady client at rate/N. Counting in the supervisor over the
worker channel is exact but costs a round trip per request (measured about
24 µs of CPU per call with both ends in one process, before any context
switch, and it makes the supervisor a choke point), while this table costs
about 3 µs (``bench/quota_counting.py``).

The supervisor creates the table (a ``memfd``) before it spawns workers and
every worker maps the same file. A POSIX record lock (``lockf``) on it orders
the workers; a worker is single-threaded, so the lock is only ever contended
across processes, and the kernel drops it if its holder dies. The critical
section is a few struct reads and writes.

Layout: ``slots`` fixed-size records, open addressing with a short linear
probe. A record is (16-byte key digest, window start, count, blocked until,
interval). A record whose window and block have both run out is free for
reuse. When every record in a key's probe range is live (an attacker spraying
source addresses), the one with the oldest window is taken over: that key's
count starts again. The table never grows; its size bounds memory.

Counting is a fixed window per key, as Vault's limiter: the first request
starts a window of ``interval`` seconds allowing ``limit`` requests; past the
limit the key is refused until the window ends, or until ``block`` seconds
after the refusal when the quota has a ``block_interval``.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
from dataclasses import dataclass

_RECORD = struct.Struct("<16sdIxxxxdd")  # digest, window_start, count, (pad), blocked_until, interval
RECORD_SIZE = _RECORD.size
DEFAULT_SLOTS = 16_384
PROBE = 16
_EMPTY = bytes(16)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the key may send again (refused) or its window starts afresh (allowed).
    reset: float


def table_size(slots: int = DEFAULT_SLOTS) -> int:
    return slots * RECORD_SIZE


def create_table_fd(slots: int = DEFAULT_SLOTS) -> int:
    """A new zeroed table in an anonymous memory file; the fd is inheritable (pass it to workers)."""
    fd = os.memfd_create("strongroom-quotas", 0)
    os.ftruncate(fd, table_size(slots))
    os.set_inheritable(fd, True)
    return fd


def key_digest(*parts: str) -> bytes:
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).digest()
    return digest if digest != _EMPTY else b"\x01" + digest[1:]


class SharedCounter:
    """Fixed-window counters in a table shared across processes (or private to one, with ``fd=None``)."""

    def __init__(self, fd: int | None = None, slots: int = DEFAULT_SLOTS) -> None:
        size = table_size(slots)
        if fd is None:
            fd = create_table_fd(slots)
        elif os.fstat(fd).st_size != size:
            raise ValueError("the quota table has an unexpected size")
        self._fd = fd
        self._slots = slots
        self._map = mmap.mmap(fd, size)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)

    def hit(self, key: bytes, *, limit: int, interval: float, block: float, now: float) -> Decision:
        """Count one request for ``key`` at ``now`` (a clock shared by every process: monotonic)."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            offset, window_start, count, blocked_until = self._find(key, now)
            if blocked_until > now:
                decision = Decision(False, limit, 0, blocked_until - now)
            else:
                if blocked_until or count == 0 or now >= window_start + interval:
                    # A new window: the old one ran out, or a block just ended (a fresh start, not the rest
                    # of the window that was blocked).
                    window_start, count, blocked_until = now, 0, 0.0
                if count < limit:
                    count += 1
                    decision = Decision(True, limit, limit - count, window_start + interval - now)
                else:
                    if block > 0:
                        blocked_until = now + block
                        reset = block
                    else:
                        reset = window_start + interval - now
                    decision = Decision(False, limit, 0, reset)
            _RECORD.pack_into(self._map, offset, key, window_start, count, blocked_until, interval)
            return decision
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def _find(self, key: bytes, now: float) -> tuple[int, float, int, float]:
        """The record for ``key`` (offset, window start, count, blocked until); a fresh one if it has none."""
        home = int.from_bytes(key[:8], "little")
        reusable = -1
        oldest_offset, oldest_start = -1, float("inf")
        for step in range(PROBE):
            offset = ((home + step) % self._slots) * RECORD_SIZE
            digest, window_start, count, blocked_until, interval = _RECORD.unpack_from(self._map, offset)
            if digest == key:
                return offset, window_start, count, blocked_until
            if digest == _EMPTY or now >= max(window_start + interval, blocked_until):
                if reusable < 0:
                    reusable = offset
            elif window_start < oldest_start:
                oldest_offset, oldest_start = offset, window_start
        return (reusable if reusable >= 0 else oldest_offset), 0.0, 0, 0.0
