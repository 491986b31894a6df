"""Audit entries in Vault's schema, built from an :class:`AuditEvent` (field list: docs/audit.md).

Secret parts are wrapped in the markers of :mod:`strongroom.core.audit.hashing`;
each device's renderer turns them into HMACs. Everything left unwrapped here is
one of the documented clear fields.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from strongroom.core.audit.hashing import Accessor, Fields, Hashed
from strongroom.core.hooks import AuditEvent
from strongroom.core.tokens.entry import TokenEntry
from strongroom.core.wrapping.info import WrapInfo
from strongroom.sdk.logical import Auth, Operation, Response

ROOT_NAMESPACE = {"id": "root"}


def rfc3339(epoch: float) -> str:
    """``2026-03-01T10:00:00.123456Z`` (UTC, microseconds)."""
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def token_auth(token: TokenEntry, client_token: Hashed | None, accessor: Accessor) -> dict[str, Any]:
    """``auth`` for a request made with a known token."""
    auth: dict[str, Any] = {}
    if client_token is not None:
        auth["client_token"] = client_token
    auth["accessor"] = accessor
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


@dataclass(slots=True)
class RequestPart:
    """``auth`` and ``request`` of an event: built once, shared by its request and response entries."""

    auth: dict[str, Any]
    request: dict[str, Any]


def request_part(event: AuditEvent) -> RequestPart:
    req = event.request
    mount = event.mount
    # One marker per secret, used wherever it appears: each device hashes it once.
    client_token = Hashed(event.client_token) if event.client_token else None
    accessor = Accessor(event.token.accessor) if event.token is not None else None
    request: dict[str, Any] = {
        "id": req.request_id,
        "operation": req.operation.value,
        "mount_point": mount.route_prefix,
        "mount_type": mount.type,
        "mount_accessor": mount.accessor,
    }
    if client_token is not None:
        request["client_token"] = client_token
        if accessor is not None:
            request["client_token_accessor"] = accessor
    request["namespace"] = (
        ROOT_NAMESPACE if event.namespace_id == "root" else {"id": event.namespace_id, "path": event.namespace_path}
    )
    request["path"] = mount.route_prefix + req.path
    if req.data:
        request["data"] = Fields(req.data, frozenset(mount.config.audit_non_hmac_request_keys))
    request["remote_address"] = req.remote_addr
    if event.token is not None and accessor is not None:
        auth = token_auth(event.token, client_token, accessor)
    elif client_token is not None:
        auth = {"client_token": client_token}
    else:
        auth = {}
    return RequestPart(auth, request)


def request_entry(event: AuditEvent, time: float, part: RequestPart | None = None) -> dict[str, Any]:
    part = part or request_part(event)
    entry: dict[str, Any] = {"type": "request", "time": rfc3339(time), "auth": part.auth, "request": part.request}
    if event.error is not None:
        entry["error"] = event.error.message
    return entry


def response_entry(event: AuditEvent, time: float, status: int, *, elide_lists: bool,
                   part: RequestPart | None = None) -> dict[str, Any]:
    part = part or request_part(event)
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
    if event.wrap_info is not None and event.error is None:
        response["wrap_info"] = wrap_info_entry(event.wrap_info)
    entry: dict[str, Any] = {
        "type": "response",
        "time": rfc3339(time),
        "auth": part.auth,
        "request": part.request,
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


def wrap_info_entry(info: WrapInfo) -> dict[str, Any]:
    """``response.wrap_info`` of a wrapped answer: the token HMAC'd, the accessors hashed like accessors."""
    out: dict[str, Any] = {
        "token": Hashed(info.token),
        "accessor": Accessor(info.accessor),
        "ttl": info.ttl,
        "creation_time": rfc3339(info.creation_time),
        "creation_path": info.creation_path,
    }
    if info.wrapped_accessor:
        out["wrapped_accessor"] = Accessor(info.wrapped_accessor)
    return out


def elide_list(data: dict[str, Any]) -> dict[str, Any]:
    """A list answer with ``keys`` (and ``key_info``) replaced by how many there were."""
    elided = dict(data)
    for name in ("keys", "key_info"):
        value = elided.get(name)
        if isinstance(value, list | dict):
            elided[name] = len(value)
    return elided
