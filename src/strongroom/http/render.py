"""Vault's JSON response shapes, rendered from a core :class:`Outcome`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from strongroom.core.core import Outcome
from strongroom.core.wrapping import WrapInfo
from strongroom.sdk.logical import Auth, Operation

Headers = list[tuple[bytes, bytes]]
JSON_HEADERS: Headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


def auth_json(auth: Auth) -> dict[str, Any]:
    return {
        "client_token": auth.client_token,
        "accessor": auth.accessor,
        "policies": auth.policies,
        "token_policies": auth.token_policies or auth.policies,
        "identity_policies": auth.identity_policies or None,
        "metadata": auth.metadata or None,
        "lease_duration": auth.ttl,
        "renewable": auth.renewable,
        "entity_id": auth.entity_id,
        "token_type": auth.token_type,
        "orphan": auth.orphan,
        "mfa_requirement": None,
        "num_uses": auth.num_uses,
    }


def wrap_info_json(info: WrapInfo) -> dict[str, Any]:
    """Vault's ``wrap_info`` block (``creation_time`` in RFC 3339, UTC)."""
    created = dt.datetime.fromtimestamp(info.creation_time, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "token": info.token,
        "accessor": info.accessor,
        "ttl": info.ttl,
        "creation_time": created,
        "creation_path": info.creation_path,
        "wrapped_accessor": info.wrapped_accessor,
    }


def _wrapped_body(outcome: Outcome, info: WrapInfo) -> bytes:
    """A wrapped answer: only the wrap_info, never the data, auth or lease it stands for."""
    return orjson.dumps({
        "request_id": outcome.request_id,
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": None,
        "wrap_info": wrap_info_json(info),
        "warnings": None,
        "auth": None,
        "mount_type": outcome.mount_type,
    })


def render_outcome(outcome: Outcome) -> tuple[int, Headers, bytes]:
    if outcome.wrap_info is not None:
        return 200, JSON_HEADERS, _wrapped_body(outcome, outcome.wrap_info)
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
