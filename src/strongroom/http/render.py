"""Vault's JSON response shapes, rendered from a core :class:`Outcome`."""

from __future__ import annotations

from typing import Any

import orjson

from strongroom.core.core import Outcome
from strongroom.sdk.logical import Auth, Operation

Headers = list[tuple[bytes, bytes]]
JSON_HEADERS: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def auth_json(auth: Auth) -> dict[str, Any]:
    return {
        "client_token": auth.client_token,
        "accessor": auth.accessor,
        "policies": auth.policies,
        "token_policies": auth.token_policies or auth.policies,
        "identity_policies": None,
        "metadata": auth.metadata or None,
        "lease_duration": auth.ttl,
        "renewable": auth.renewable,
        "entity_id": auth.entity_id,
        "token_type": auth.token_type,
        "orphan": auth.orphan,
        "mfa_requirement": None,
        "num_uses": auth.num_uses,
    }


def render_outcome(outcome: Outcome) -> tuple[int, Headers, bytes]:
    status = outcome.status
    resp = outcome.response
    if resp is None or status == 204:
        return 204, [], b""
    if resp.raw is not None:
        headers = [(b"content-type", resp.raw.content_type.encode()), (b"cache-control", b"no-store")]
        return status, headers, resp.raw.body
    if resp.data is None and resp.auth is None and resp.secret is None and not resp.warnings:
        return status, JSON_HEADERS, b'{"errors":[]}'
    if status == 404 and outcome.operation in (Operation.LIST, Operation.SCAN) and resp.status is None:
        return status, JSON_HEADERS, b'{"errors":[]}'
    lease = resp.secret
    body = {
        "request_id": outcome.request_id,
        "lease_id": lease.lease_id if lease else "",
        "renewable": bool(lease and lease.renewable),
        "lease_duration": lease.ttl if lease else 0,
        "data": resp.data,
        "wrap_info": None,
        "warnings": resp.warnings or None,
        "auth": auth_json(resp.auth) if resp.auth else None,
        "mount_type": outcome.mount_type,
    }
    return status, JSON_HEADERS, orjson.dumps(body)
