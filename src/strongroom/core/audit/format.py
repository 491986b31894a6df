"""Audit entries in Vault's schema, built from an :class:`AuditEvent` (field list: docs/audit.md).

Secret parts are wrapped in the markers of :mod:`strongroom.core.audit.hashing`;
each device's renderer turns them into HMACs. Everything left unwrapped here is
one of the documented clear fields.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from strongroom.core.audit.hashing import Accessor, Fields, Hashed
from strongroom.core.hooks import AuditEvent
from strongroom.core.tokens.entry import TokenEntry
from strongroom.sdk.logical import Auth, Operation, Response

ROOT_NAMESPACE = {"id": "root"}


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token_auth(token: TokenEntry, client_token: str) -> dict[str, Any]:
    """``auth`` for a request made with a known token."""
    auth: dict[str, Any] = {}
    if client_token:
        auth["client_token"] = Hashed(client_token)
    auth["accessor"] = Accessor(token.accessor)
    auth["display_name"] = Hashed(token.display_name)
    auth["policies"] = list(token.policies)
    auth["token_policies"] = list(token.policies)
    if token.meta:
        auth["metadata"] = Fields(dict(token.meta))
    auth["entity_id"] = token.entity_id
    auth["token_type"] = token.type
    auth["token_ttl"] = token.ttl
    auth["token_issue_time"] = rfc3339(token.creation_time)
    return auth


def granted_auth(auth: Auth) -> dict[str, Any]:
    """``response.auth`` for an answer that grants a token (login, token create)."""
    out: dict[str, Any] = {}
    if auth.client_token:
        out["client_token"] = Hashed(auth.client_token)
    if auth.accessor:
        out["accessor"] = Accessor(auth.accessor)
    out["display_name"] = Hashed(auth.display_name)
    out["policies"] = list(auth.policies)
    out["token_policies"] = list(auth.token_policies or auth.policies)
    if auth.metadata:
        out["metadata"] = Fields(dict(auth.metadata))
    out["entity_id"] = auth.entity_id
    out["token_type"] = auth.token_type
    out["token_ttl"] = auth.ttl
    out["orphan"] = auth.orphan
    out["renewable"] = auth.renewable
    out["num_uses"] = auth.num_uses
    return out


def request_object(event: AuditEvent) -> dict[str, Any]:
    req = event.request
    mount = event.mount
    out: dict[str, Any] = {
        "id": req.request_id,
        "operation": req.operation.value,
        "mount_point": mount.route_prefix,
        "mount_type": mount.type,
        "mount_accessor": mount.accessor,
    }
    if event.client_token:
        out["client_token"] = Hashed(event.client_token)
        if event.token is not None:
            out["client_token_accessor"] = Accessor(event.token.accessor)
    out["namespace"] = ROOT_NAMESPACE
    out["path"] = mount.route_prefix + req.path
    if req.data:
        out["data"] = Fields(req.data, frozenset(mount.config.audit_non_hmac_request_keys))
    out["remote_address"] = req.remote_addr
    return out


def auth_object(event: AuditEvent) -> dict[str, Any]:
    if event.token is not None:
        return token_auth(event.token, event.client_token)
    if event.client_token:
        return {"client_token": Hashed(event.client_token)}
    return {}


def request_entry(event: AuditEvent, time: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "request",
        "time": rfc3339(time),
        "auth": auth_object(event),
        "request": request_object(event),
    }
    if event.error is not None:
        entry["error"] = event.error.message
    return entry


def response_entry(event: AuditEvent, time: float, status: int, *, elide_lists: bool) -> dict[str, Any]:
    mount = event.mount
    response: dict[str, Any] = {
        "mount_point": mount.route_prefix,
        "mount_type": mount.type,
        "mount_accessor": mount.accessor,
        "status_code": status,
    }
    resp = event.response
    if resp is not None and event.error is None:
        _describe_answer(response, resp, event, elide_lists)
    entry: dict[str, Any] = {
        "type": "response",
        "time": rfc3339(time),
        "auth": auth_object(event),
        "request": request_object(event),
        "response": response,
    }
    if event.error is not None:
        entry["error"] = event.error.message
    return entry


def _describe_answer(out: dict[str, Any], resp: Response, event: AuditEvent, elide_lists: bool) -> None:
    if resp.auth is not None:
        out["auth"] = granted_auth(resp.auth)
    if resp.secret is not None:
        out["secret"] = {"ttl": resp.secret.ttl, "renewable": resp.secret.renewable}
    clear = frozenset(event.mount.config.audit_non_hmac_response_keys)
    if resp.raw is not None:
        out["data"] = Fields({
            "http_status_code": resp.raw.status,
            "http_content_type": resp.raw.content_type,
            "http_raw_body": base64.b64encode(resp.raw.body).decode(),
        }, frozenset({"http_status_code", "http_content_type"}) | clear)
    elif resp.data is not None:
        data = resp.data
        if elide_lists and event.request.operation is Operation.LIST:
            data = elide_list(data)
        out["data"] = Fields(data, clear)
    if resp.warnings:
        out["warnings"] = list(resp.warnings)


def elide_list(data: dict[str, Any]) -> dict[str, Any]:
    """A list answer with ``keys`` (and ``key_info``) replaced by how many there were."""
    elided = dict(data)
    for name in ("keys", "key_info"):
        value = elided.get(name)
        if isinstance(value, list | dict):
            elided[name] = len(value)
    return elided
