"""The JSON shapes the token endpoints answer with (Vault's field names and presence rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from strongroom.core.tokens.entry import TokenEntry
from strongroom.sdk.logical import Auth


def rfc3339(epoch: float) -> str:
    """UTC RFC 3339 with fractional seconds only when there are any, e.g. ``2027-01-15T08:00:00Z``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def lookup_data(
    entry: TokenEntry, *, token_id: str, now: float, identity_policies: list[str] | None = None
) -> dict[str, Any]:
    """The ``data`` of lookup / lookup-self / lookup-accessor.

    ``token_id`` is echoed as ``id`` only by the lookups that were given the
    token itself (empty for lookup-accessor), as Vault does. As in Vault, the
    lease fields (``issue_time``, ``expire_time``, ``renewable``) are only
    filled for tokens that expire, and ``role``, ``period``, ``bound_cidrs``
    and the last renewal only when set. ``identity_policies`` (the entity's and its groups'
    policies now) is shown when there are any, as Vault does.
    """
    data: dict[str, Any] = {
        "accessor": entry.accessor,
        "creation_time": int(entry.creation_time),
        "creation_ttl": entry.ttl,
        "display_name": entry.display_name,
        "entity_id": entry.entity_id,
        "expire_time": None,
        "explicit_max_ttl": entry.explicit_max_ttl,
        "id": token_id,
        "meta": dict(entry.meta) or None,
        "num_uses": entry.num_uses,
        "orphan": entry.orphan,
        "path": entry.path,
        "policies": list(entry.policies),
        "ttl": 0,
        "type": entry.type,
    }
    if identity_policies:
        data["identity_policies"] = list(identity_policies)
    if entry.role:
        data["role"] = entry.role
    if entry.period:
        data["period"] = entry.period
    if entry.bound_cidrs:
        data["bound_cidrs"] = list(entry.bound_cidrs)
    if entry.expire_time:
        data["expire_time"] = rfc3339(entry.expire_time)
        data["ttl"] = entry.remaining_ttl(now)
        data["issue_time"] = rfc3339(entry.creation_time)
        data["renewable"] = entry.renewable
        if entry.last_renewal_time:
            data["last_renewal_time"] = int(entry.last_renewal_time)
            data["last_renewal"] = rfc3339(entry.last_renewal_time)
    return data


def token_auth(entry: TokenEntry, *, client_token: str) -> Auth:
    """The ``auth`` block of create and renew answers; ``ttl`` becomes ``lease_duration``.

    The TTL is counted from the moment the token was issued or renewed (as Vault
    reports it), not from when the answer is rendered a few microseconds later.
    """
    issued = entry.last_renewal_time or entry.creation_time
    return Auth(
        policies=list(entry.policies),
        token_policies=list(entry.policies),
        display_name=entry.display_name,
        metadata=dict(entry.meta),
        ttl=entry.remaining_ttl(issued),
        explicit_max_ttl=entry.explicit_max_ttl,
        period=entry.period,
        num_uses=entry.num_uses,
        renewable=entry.renewable,
        token_type=entry.type,
        bound_cidrs=list(entry.bound_cidrs),
        client_token=client_token,
        accessor=entry.accessor,
        entity_id=entry.entity_id,
        orphan=entry.orphan,
    )
