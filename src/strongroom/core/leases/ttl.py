"""Lease TTLs clamped as in Vault: the backend's ask, then the mount's tune, then the system's max."""

from __future__ import annotations

from strongroom.errors import InvalidRequest
from strongroom.sdk.system import SystemView


def issue_terms(ttl: int, max_ttl: int, system: SystemView, now: float) -> tuple[float, float]:
    """``(expire_time, max_expire_time)`` of a new lease.

    ``ttl`` 0 takes the mount default; ``max_ttl`` 0 or above the mount's max
    (mount tune, else the system max) takes the mount's max, and the TTL never
    passes the max.
    """
    if ttl < 0 or max_ttl < 0:
        raise InvalidRequest("lease TTLs cannot be negative")
    ceiling = system.max_lease_ttl
    effective_max = min(max_ttl, ceiling) if max_ttl else ceiling
    effective_ttl = min(ttl or system.default_lease_ttl, effective_max)
    return now + effective_ttl, now + effective_max


def renewal_expiry(requested: int, default_ttl: int, max_expire_time: float, now: float) -> float:
    """The new expiry of a renewal asking for ``requested`` seconds (0: ``default_ttl``), never past the cap."""
    if requested < 0:
        raise InvalidRequest("increment cannot be negative")
    return min(now + (requested or default_ttl), max_expire_time)
