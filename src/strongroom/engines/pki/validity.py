"""How long a certificate is valid: TTL defaults, hard maximums, and the issuer's own end.

The rules (Vault's, with one deliberate difference):

* The lifetime is the request's ``ttl``, else the role's ``ttl``, else the
  mount's default lease TTL; or the request's absolute ``not_after`` (not both).
* The maximum is the role's ``max_ttl`` (else the mount's max lease TTL), never
  more than the mount's max lease TTL.
* A lifetime *asked for* beyond the maximum (``ttl`` or ``not_after``) is a 400
  and nothing is issued. Vault silently shortens it with a warning; we refuse,
  because a caller who asked for a year and got a month learns it only when the
  certificate expires. A *default* lifetime beyond the maximum is shortened to
  it, with Vault's warning.
* A certificate never outlives its issuer: past the issuer's ``notAfter`` the
  issuer's ``leaf_not_after_behavior`` decides: ``err`` (a 400) or
  ``truncate`` (end with the issuer).
* ``notBefore`` is backdated by ``not_before_duration`` (30 s by default) for
  clock skew.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from strongroom.errors import InvalidRequest

from .limits import MAX_DURATION, check_duration

LEAF_BEHAVIORS = ("err", "truncate")
_MAX_NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


@dataclass(frozen=True, slots=True)
class TTLRequest:
    """What the caller and the role ask for, in seconds (0: not given)."""

    ttl: int = 0
    not_after: str = ""
    role_ttl: int = 0
    role_max_ttl: int = 0
    not_before_duration: int = 30


@dataclass(frozen=True, slots=True)
class Limits:
    """What the mount and the issuer allow."""

    default_ttl: int
    max_ttl: int
    issuer_not_after: datetime.datetime | None = None
    behavior: str = "err"


@dataclass
class Validity:
    not_before: datetime.datetime
    not_after: datetime.datetime
    warnings: list[str] = field(default_factory=list)

    def seconds_left(self, now: datetime.datetime) -> int:
        return max(0, int((self.not_after - now).total_seconds()))


def to_datetime(seconds: float) -> datetime.datetime:
    """The injected clock's reading as an aware UTC datetime, whole seconds (X.509 has no fractions)."""
    return datetime.datetime.fromtimestamp(int(seconds), tz=datetime.UTC)


def parse_not_after(text: str) -> datetime.datetime:
    """An RFC 3339 UTC time such as ``2030-01-01T00:00:00Z``; anything else is a 400."""
    try:
        parsed = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidRequest("invalid not_after: expected an RFC 3339 UTC time such as 2030-01-01T00:00:00Z")
    return parsed.astimezone(datetime.UTC).replace(microsecond=0)


def compute(now: datetime.datetime, req: TTLRequest, limits: Limits) -> Validity:
    """The validity window for a certificate signed at ``now``; raises a 400 per the rules above."""
    check_duration(req.ttl, "ttl")
    check_duration(req.not_before_duration, "not_before_duration")
    if req.ttl and req.not_after:
        raise InvalidRequest("either ttl or not_after should be provided, not both")
    # The mount's maximum comes from tuning and is not bounded there; bound it before date arithmetic.
    maximum = min(req.role_max_ttl or limits.max_ttl, limits.max_ttl, MAX_DURATION)
    latest = now + datetime.timedelta(seconds=maximum)
    warnings: list[str] = []
    if req.not_after:
        not_after = parse_not_after(req.not_after)
        if not_after <= now:
            raise InvalidRequest("not_after is in the past")
        if not_after > latest:
            raise InvalidRequest(f"not_after is beyond the maximum TTL allowed here ({maximum}s)")
    elif req.ttl:
        if req.ttl > maximum:
            raise InvalidRequest(f"the requested ttl is beyond the maximum TTL allowed here ({maximum}s)")
        not_after = now + datetime.timedelta(seconds=req.ttl)
    else:
        ttl = min(req.role_ttl or limits.default_ttl, MAX_DURATION)
        if ttl > maximum:
            warnings.append(f"TTL of {ttl}s is longer than the permitted maximum of {maximum}s, so the maximum is used")
            ttl = maximum
        not_after = now + datetime.timedelta(seconds=ttl)
    not_after = min(not_after, _MAX_NOT_AFTER)
    issuer_end = limits.issuer_not_after
    if issuer_end is not None and not_after > issuer_end:
        if limits.behavior == "truncate":
            not_after = issuer_end
        else:
            raise InvalidRequest(
                f"cannot satisfy request, as TTL would result in notAfter of {_stamp(not_after)} "
                f"that is beyond the expiration of the CA certificate at {_stamp(issuer_end)}"
            )
    not_before = now - datetime.timedelta(seconds=req.not_before_duration)
    return Validity(not_before=not_before, not_after=not_after, warnings=warnings)


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
