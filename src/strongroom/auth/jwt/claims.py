"""The checks a verified JWT's claims must pass for a role, and what a login takes from them.

Claim names in ``bound_claims``, ``claim_mappings`` and ``groups_claim`` are
top-level keys, or JSON pointers (RFC 6901) when they start with ``/``
(``/repository/owner`` reaches a nested claim), as in Vault; ``user_claim`` is
a JSON pointer only when the role sets ``user_claim_json_pointer``.

Claim values reach bindings and metadata only as text: a string as is, an
integer as its decimal form, a boolean as ``true``/``false``. Floats, ``null``
and objects never match a binding and never become metadata. A list claim
matches a binding when one of its (scalar) elements does.
"""

from __future__ import annotations

from typing import Any

from strongroom.auth.jwt.roles import JwtRole
from strongroom.sdk.jwt import TokenRejected

#: Vault's defaults (seconds) for a role's leeway fields left at 0; -1 in a field means "no leeway".
DEFAULT_CLOCK_SKEW = 60
DEFAULT_EXPIRATION_LEEWAY = 150
DEFAULT_NOT_BEFORE_LEEWAY = 150
#: Metadata and group lists are bounded so a token cannot inflate every token record it produces.
MAX_GROUPS = 256
MAX_VALUE_CHARS = 1024
_MISSING = object()


def claim(claims: dict[str, Any], name: str) -> Any:
    """The value of claim ``name`` (a key or a JSON pointer), or a sentinel that is never a valid value."""
    if not name.startswith("/"):
        return claims.get(name, _MISSING)
    current: Any = claims
    for raw in name[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def as_text(value: Any) -> str | None:
    """A scalar claim value as text (see module docstring), or None when it has no text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return None


def glob_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern``, where only ``*`` (any run of characters) is special.

    Greedy left-to-right matching of the literal pieces: linear in the value, no backtracking.
    """
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == value
    head, *middle, tail = pieces
    if len(value) < len(head) + len(tail) or not value.startswith(head) or not value.endswith(tail):
        return False
    position, end = len(head), len(value) - len(tail)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def _leeway(configured: int, default: int) -> int:
    return 0 if configured < 0 else configured or default


def _time(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"JWT claim {name!r} is not a number")
    return float(value)


def check_times(claims: dict[str, Any], now: float, role: JwtRole) -> None:
    """``exp`` (required), ``nbf`` and ``iat`` against ``now`` with the role's leeways."""
    skew = _leeway(role.clock_skew_leeway, DEFAULT_CLOCK_SKEW)
    expires = _time(claims, "exp")
    if expires is None:
        # Vault accepts tokens without expiry; a CI token always has one, and one that never expires is
        # a credential nobody can revoke, so it is refused here (documented difference).
        raise TokenRejected("JWT has no 'exp' claim")
    if now > expires + skew + _leeway(role.expiration_leeway, DEFAULT_EXPIRATION_LEEWAY):
        raise TokenRejected("JWT has expired")
    not_before = _time(claims, "nbf")
    if not_before is not None and now < not_before - skew - _leeway(role.not_before_leeway,
                                                                    DEFAULT_NOT_BEFORE_LEEWAY):
        raise TokenRejected("JWT is not valid yet")
    issued = _time(claims, "iat")
    if issued is not None and now < issued - skew:
        raise TokenRejected("JWT was issued in the future")


def check_issuer(claims: dict[str, Any], expected: str) -> None:
    """Refuse unless ``iss`` is exactly ``expected`` (no check when ``expected`` is empty)."""
    if expected and claims.get("iss") != expected:
        raise TokenRejected("JWT issuer does not match the configured issuer")


def check_audience(claims: dict[str, Any], role: JwtRole) -> None:
    """One of the role's ``bound_audiences`` must be in ``aud``; a token with an audience needs a bound one."""
    value = claims.get("aud")
    found = [value] if isinstance(value, str) else [a for a in value if isinstance(a, str)] \
        if isinstance(value, list) else []
    if role.bound_audiences:
        if not any(a in found for a in role.bound_audiences):
            raise TokenRejected("JWT audience does not match the role's bound_audiences")
    elif value is not None:
        # Vault's rule: a token meant for someone must not be accepted by a role that names nobody.
        raise TokenRejected("JWT has an audience but the role has no bound_audiences")


def check_subject(claims: dict[str, Any], role: JwtRole) -> None:
    if role.bound_subject and claims.get("sub") != role.bound_subject:
        raise TokenRejected("JWT subject does not match the role's bound_subject")


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [t for t in (as_text(v) for v in values) if t is not None]


def check_bound_claims(claims: dict[str, Any], role: JwtRole) -> None:
    """Every bound claim must be present and one of its values must match one of the role's values."""
    for name, expected in role.bound_claims.items():
        value = claim(claims, name)
        if value is _MISSING:
            raise TokenRejected(f"JWT claim {name!r} is missing (bound_claims)")
        actual = _texts(value)
        if role.bound_claims_type == "glob":
            ok = any(glob_match(p, a) for p in expected for a in actual)
        else:
            ok = any(e == a for e in expected for a in actual)
        if not ok:
            raise TokenRejected(f"JWT claim {name!r} does not match the role's bound_claims")


def user_name(claims: dict[str, Any], role: JwtRole) -> str:
    """The value of the role's ``user_claim`` (the identity alias name); 403 when absent or not text."""
    name = role.user_claim
    value = claim(claims, name) if role.user_claim_json_pointer else claims.get(name, _MISSING)
    if value is _MISSING:
        raise TokenRejected(f"JWT claim {role.user_claim!r} (user_claim) is missing")
    text = as_text(value)
    if not text or len(text) > MAX_VALUE_CHARS:
        raise TokenRejected(f"JWT claim {role.user_claim!r} (user_claim) is not a usable string")
    return text


def groups(claims: dict[str, Any], role: JwtRole) -> list[str]:
    """The role's ``groups_claim`` as a list of names (empty when the role names no groups claim)."""
    if not role.groups_claim:
        return []
    value = claim(claims, role.groups_claim)
    if value is _MISSING:
        raise TokenRejected(f"JWT claim {role.groups_claim!r} (groups_claim) is missing")
    if not isinstance(value, list | str) or (isinstance(value, list)
                                              and not all(isinstance(g, str) for g in value)):
        raise TokenRejected(f"JWT claim {role.groups_claim!r} (groups_claim) is not a list of strings")
    names = [value] if isinstance(value, str) else value
    if len(names) > MAX_GROUPS or any(len(g) > MAX_VALUE_CHARS for g in names):
        raise TokenRejected(f"JWT claim {role.groups_claim!r} (groups_claim) is too large")
    return sorted(set(names))


def mapped_metadata(claims: dict[str, Any], role: JwtRole) -> dict[str, str]:
    """Metadata from the role's ``claim_mappings`` (claims that are absent or have no text form are skipped)."""
    result: dict[str, str] = {}
    for source, target in role.claim_mappings.items():
        text = as_text(claim(claims, source))
        if text is not None:
            result[target] = text[:MAX_VALUE_CHARS]
    return result
