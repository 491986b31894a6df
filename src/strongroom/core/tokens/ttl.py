"""Token lifetimes: the TTL granted at creation and at each renewal (pure functions).

The rules follow Vault's:

* The effective maximum is the mount's (or system's) max lease TTL, lowered by
  a backend cap and by the token's explicit max TTL; it is measured from the
  token's creation, so renewals can never carry a token past it.
* A periodic token's TTL is its period (capped by the effective maximum) at
  every renewal, whatever increment is asked for; it has no overall maximum
  unless it also has an explicit max TTL, which is still a hard cap.
* Otherwise a renewal grants the requested increment, or the token's original
  TTL, or the mount's default TTL, and never more than what is left before the
  effective maximum.
* A root token created with no TTL, period or explicit max never expires.
"""

from __future__ import annotations

import math

from strongroom.errors import InvalidRequest
from strongroom.sdk.system import SystemView


def effective_max_ttl(system: SystemView, backend_max: int, explicit_max: int) -> int:
    """The lowest of the mount/system max lease TTL, a backend cap and the explicit max (0 = unset)."""
    limit = system.max_lease_ttl
    for cap in (backend_max, explicit_max):
        if cap > 0 and (limit <= 0 or cap < limit):
            limit = cap
    return limit


def next_ttl(
    system: SystemView,
    *,
    increment: int,
    base_ttl: int,
    period: int,
    backend_max: int,
    explicit_max: int,
    elapsed: float,
    warnings: list[str],
) -> int:
    """The TTL to grant now, ``elapsed`` seconds after the token was created.

    Raises InvalidRequest when the token is already at its maximum lifetime.
    Appends a warning when the grant had to be capped.
    """
    max_ttl = effective_max_ttl(system, backend_max, explicit_max)
    if period > 0:
        ttl = period
        if 0 < max_ttl < ttl:
            warnings.append(
                f"period of {period}s exceeded the effective max_ttl of {max_ttl}s; "
                "period value is capped accordingly"
            )
            ttl = max_ttl
        if explicit_max > 0:
            ttl = min(ttl, _left(explicit_max, elapsed))
        return ttl
    wanted = increment or base_ttl or system.default_lease_ttl or max_ttl
    if max_ttl <= 0:
        # No maximum configured anywhere: grant what was asked.
        return wanted
    left = _left(max_ttl, elapsed)
    if wanted > left:
        warnings.append(
            f"TTL of {wanted}s exceeded the effective max_ttl of {left}s; TTL value is capped accordingly"
        )
        return left
    return wanted


def _left(limit: int, elapsed: float) -> int:
    # Rounded down so that now + ttl never passes creation + limit.
    left = math.floor(limit - elapsed)
    if left <= 0:
        raise InvalidRequest("past the max TTL, cannot renew")
    return left


def creation_ttl(
    system: SystemView,
    *,
    requested: int,
    period: int,
    backend_max: int,
    explicit_max: int,
    root: bool,
    warnings: list[str],
) -> int:
    """The TTL of a new token; 0 only for a root token asked to live forever."""
    if root and requested == 0 and period == 0:
        # Root tokens are not bound by the mount's TTLs, but an explicit max still binds.
        return explicit_max
    ttl = next_ttl(
        system,
        increment=0,
        base_ttl=requested,
        period=period,
        backend_max=backend_max,
        explicit_max=explicit_max,
        elapsed=0.0,
        warnings=warnings,
    )
    if ttl <= 0:
        raise InvalidRequest("no lease TTL is configured; a non-root token must expire")
    return ttl
