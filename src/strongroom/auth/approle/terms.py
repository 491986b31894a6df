"""Parsing what a caller asks for: role settings and the terms of a new secret ID (Vault's rules).

Every failure is a 400 whose message names the field, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import orjson

from strongroom.auth.approle.ids import MAX_ID_CHARS, usable_id
from strongroom.auth.approle.roles import RoleEntry
from strongroom.auth.approle.secret_ids import NewSecretId
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.token_params import bounded, cidr_list, cidrs_within, token_fields

T = FieldType

ROLE_FIELDS: Mapping[str, Field] = {
    "bind_secret_id": Field(T.BOOL, description="Require a secret ID at login (default true)."),
    "secret_id_bound_cidrs": Field(T.STRING_LIST, description="CIDRs logins with a secret ID may come from."),
    "bound_cidr_list": Field(T.STRING_LIST, description="Older name of secret_id_bound_cidrs."),
    "secret_id_num_uses": Field(T.INT, description="Default uses of a new secret ID (0: unlimited)."),
    "secret_id_ttl": Field(T.DURATION, description="Default lifetime of a new secret ID (0: forever)."),
    "local_secret_ids": Field(T.BOOL, description="Not supported (no replication); only false is accepted."),
    "role_id": Field(T.STRING, description="A custom role ID (default: a random UUID)."),
    **token_fields("policies", "period"),
}

SECRET_ID_FIELDS: Mapping[str, Field] = {
    "metadata": Field(T.ANY, description="A JSON object of strings (or its JSON text) tied to the secret ID."),
    "cidr_list": Field(T.STRING_LIST, description="CIDRs logins with this secret ID may come from."),
    "token_bound_cidrs": Field(T.STRING_LIST, description="CIDRs the issued tokens may be used from."),
    "ttl": Field(T.DURATION, description="Lifetime of this secret ID (at most the role's secret_id_ttl)."),
    "num_uses": Field(T.INT, description="Uses of this secret ID (at most the role's secret_id_num_uses)."),
}

MAX_METADATA_ENTRIES = 64
MAX_METADATA_KEY = 128
MAX_METADATA_VALUE = 512


def role_changes(base: RoleEntry, f: FieldData) -> RoleEntry:
    """``base`` with the role fields present in ``f`` applied (token settings included)."""
    changes: dict[str, Any] = {}
    if f.has("bind_secret_id"):
        changes["bind_secret_id"] = f.get("bind_secret_id")
    if f.has("secret_id_bound_cidrs") and f.has("bound_cidr_list"):
        raise InvalidRequest("cannot specify both 'secret_id_bound_cidrs' and 'bound_cidr_list'")
    for name in ("secret_id_bound_cidrs", "bound_cidr_list"):
        if f.has(name):
            changes["secret_id_bound_cidrs"] = cidr_list(f.get(name), name)
    if f.has("secret_id_num_uses"):
        changes["secret_id_num_uses"] = bounded(f.get("secret_id_num_uses"), "secret_id_num_uses")
    if f.has("secret_id_ttl"):
        changes["secret_id_ttl"] = bounded(f.get("secret_id_ttl"), "secret_id_ttl")
    if f.has("local_secret_ids") and f.get("local_secret_ids"):
        raise InvalidRequest("'local_secret_ids' is not supported: this server has no replication")
    if f.has("role_id"):
        changes["role_id"] = checked_role_id(f.get("role_id"))
    changes["token"] = base.token.updated(f)
    return replace(base, **changes)


def checked_role_id(value: object) -> str:
    role_id = usable_id(value)
    if role_id is None or role_id.strip() != role_id:
        raise InvalidRequest(f"invalid role_id: use 1 to {MAX_ID_CHARS} characters without surrounding whitespace")
    return role_id


def parse_metadata(raw: object) -> dict[str, str]:
    """Vault's ``metadata``: a JSON object of strings, or the JSON text of one (hvac sends text)."""
    if raw is None or raw == "":
        return {}
    value = raw
    if isinstance(raw, str):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise InvalidRequest("'metadata' must be a JSON object of strings") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidRequest("'metadata' must be a JSON object of strings")
    if len(value) > MAX_METADATA_ENTRIES:
        raise InvalidRequest(f"'metadata' has more than {MAX_METADATA_ENTRIES} entries")
    if any(not k or len(k) > MAX_METADATA_KEY or len(v) > MAX_METADATA_VALUE for k, v in value.items()):
        raise InvalidRequest(
            f"'metadata' keys must have 1 to {MAX_METADATA_KEY} characters and values at most {MAX_METADATA_VALUE}"
        )
    return dict(value)


def secret_id_terms(f: FieldData, role: RoleEntry) -> NewSecretId:
    """The terms of a new secret ID: the caller's, within the role's limits, else the role's defaults."""
    cidrs = cidr_list(f.get("cidr_list"), "cidr_list") if f.has("cidr_list") else ()
    if not cidrs_within(cidrs, role.secret_id_bound_cidrs):
        raise InvalidRequest("'cidr_list' must lie within the role's secret_id_bound_cidrs")
    token_cidrs = cidr_list(f.get("token_bound_cidrs"), "token_bound_cidrs") if f.has("token_bound_cidrs") else ()
    if not cidrs_within(token_cidrs, role.token.bound_cidrs):
        raise InvalidRequest("'token_bound_cidrs' must lie within the role's token_bound_cidrs")
    num_uses = role.secret_id_num_uses
    if f.has("num_uses"):
        num_uses = bounded(f.get("num_uses"), "num_uses")
        if role.secret_id_num_uses > 0 and (num_uses == 0 or num_uses > role.secret_id_num_uses):
            raise InvalidRequest("num_uses cannot be higher than the role's secret_id_num_uses")
    ttl = role.secret_id_ttl
    if f.has("ttl"):
        ttl = bounded(f.get("ttl"), "ttl")
        if role.secret_id_ttl > 0 and (ttl == 0 or ttl > role.secret_id_ttl):
            raise InvalidRequest("ttl cannot be longer than the role's secret_id_ttl")
    return NewSecretId(parse_metadata(f.raw.get("metadata")), cidrs, token_cidrs, num_uses, ttl)
