"""A response turned into JSON for storage while wrapped, and back.

Only what a client receives is kept: ``data``, ``auth`` (without the
backend's ``internal_data``), the lease id and terms (without their ``internal``
state) and ``warnings``. Raw (non-JSON) answers are never wrapped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.sdk.logical import Auth, LeaseOptions, Response

_AUTH_FIELDS = frozenset(f.name for f in dataclasses.fields(Auth)) - {"internal_data"}


def is_wrappable(response: Response | None) -> bool:
    """True for an answer that has something to hand over: data, auth or a lease, and no raw body."""
    if response is None or response.raw is not None:
        return False
    if response.status is not None and response.status != 200:
        return False  # an error-shaped answer (e.g. KV's 404 with a body) goes out as is
    return response.data is not None or response.auth is not None or response.secret is not None


def dump_response(response: Response) -> dict[str, Any]:
    """The client-visible parts of ``response`` as JSON-safe values."""
    out: dict[str, Any] = {"data": response.data, "warnings": list(response.warnings)}
    if response.auth is not None:
        out["auth"] = {name: getattr(response.auth, name) for name in sorted(_AUTH_FIELDS)}
    if response.secret is not None:
        out["secret"] = {
            "ttl": response.secret.ttl,
            "max_ttl": response.secret.max_ttl,
            "renewable": response.secret.renewable,
            "lease_id": response.secret.lease_id,
        }
    return out


def load_response(stored: dict[str, Any]) -> Response:
    """The inverse of :func:`dump_response` (on a record this module wrote; unknown keys are ignored)."""
    response = Response(data=stored.get("data"), warnings=list(stored.get("warnings") or []))
    auth = stored.get("auth")
    if isinstance(auth, dict):
        response.auth = Auth(**{k: v for k, v in auth.items() if k in _AUTH_FIELDS})
    secret = stored.get("secret")
    if isinstance(secret, dict):
        response.secret = LeaseOptions(
            ttl=int(secret.get("ttl", 0)),
            max_ttl=int(secret.get("max_ttl", 0)),
            renewable=bool(secret.get("renewable", False)),
            lease_id=str(secret.get("lease_id", "")),
        )
    return response
