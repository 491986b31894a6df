"""Kubernetes roles: which service accounts may log in, and the tokens they get.

A role binds service-account names and namespaces (``*`` globs, see
:mod:`strongroom.auth.kubernetes.globs`); a login must match the names and
either the namespace list or ``bound_service_account_namespace_selector`` (a
label selector over namespaces, :mod:`strongroom.auth.kubernetes.selector`,
evaluated against the namespace's labels read from the API server).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from strongroom.auth.kubernetes.selector import parse_selector
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.token_params import MAX_LIST_ITEMS, TokenParams, token_fields

ROLE_PREFIX = "role/"
ALIAS_SOURCES = ("serviceaccount_uid", "serviceaccount_name")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_SELECTOR = 4096

ROLE_FIELDS: dict[str, Field] = {
    "bound_service_account_names": Field(FieldType.STRING_LIST, description="Service-account names (globs)."),
    "bound_service_account_namespaces": Field(FieldType.STRING_LIST, description="Namespaces (globs)."),
    "bound_service_account_namespace_selector": Field(FieldType.STRING, description="Namespace label selector."),
    "audience": Field(FieldType.STRING, description="Audience the JWT must carry."),
    "alias_name_source": Field(FieldType.STRING, description="serviceaccount_uid or serviceaccount_name."),
    **token_fields("policies", "ttl", "max_ttl", "period", "bound_cidrs"),
}


@dataclass(frozen=True, slots=True)
class KubeRole:
    names: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    namespace_selector: str = ""
    audience: str = ""
    alias_name_source: str = "serviceaccount_uid"
    token: TokenParams = field(default_factory=TokenParams)

    def response_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "bound_service_account_names": list(self.names),
            "bound_service_account_namespaces": list(self.namespaces),
            "bound_service_account_namespace_selector": self.namespace_selector,
            "audience": self.audience,
            "alias_name_source": self.alias_name_source,
            **self.token.response_data(),
        }
        if self.token.policies:
            data["policies"] = list(self.token.policies)
        return data

    def to_bytes(self) -> bytes:
        return json.dumps({
            "names": list(self.names), "namespaces": list(self.namespaces),
            "namespace_selector": self.namespace_selector, "audience": self.audience,
            "alias_name_source": self.alias_name_source, "token": self.token.to_json(),
        }).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> KubeRole:
        body = json.loads(raw)
        return KubeRole(tuple(body["names"]), tuple(body["namespaces"]), body["namespace_selector"],
                        body["audience"], body["alias_name_source"], TokenParams.from_json(body["token"]))


def checked_role_name(name: str) -> str:
    """``name`` if it can name a role (letters, digits, ``._-``, at most 128 characters); 400 otherwise."""
    if not _NAME.fullmatch(name):
        raise InvalidRequest("invalid role name")
    return name


def _patterns(values: list[str], field: str) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(cleaned) > MAX_LIST_ITEMS:
        raise InvalidRequest(f"too many entries in {field!r} (at most {MAX_LIST_ITEMS})")
    if any(len(v) > 253 for v in cleaned):
        raise InvalidRequest(f"an entry of {field!r} is too long")
    if "*" in cleaned and len(cleaned) > 1:
        # Vault's rule: a lone "*" means "any", and mixing it with names is almost always a mistake.
        raise InvalidRequest(f"{field!r}: '*' cannot be combined with other entries")
    return cleaned


def role_changes(current: KubeRole | None, f: FieldData) -> KubeRole:
    """The role after a write: given fields replace stored ones; the result must bind something."""
    role = current or KubeRole()
    changes: dict[str, Any] = {}
    if f.has("bound_service_account_names"):
        changes["names"] = _patterns(f.get("bound_service_account_names"), "bound_service_account_names")
    if f.has("bound_service_account_namespaces"):
        changes["namespaces"] = _patterns(f.get("bound_service_account_namespaces"),
                                          "bound_service_account_namespaces")
    if f.has("bound_service_account_namespace_selector"):
        selector = f.get("bound_service_account_namespace_selector").strip()
        if len(selector) > _MAX_SELECTOR:
            raise InvalidRequest("bound_service_account_namespace_selector is too long")
        if selector:
            parse_selector(selector)  # refuse a selector that cannot be evaluated now, not at login
        changes["namespace_selector"] = selector
    if f.has("audience"):
        changes["audience"] = f.get("audience").strip()
    if f.has("alias_name_source"):
        source = f.get("alias_name_source").strip() or "serviceaccount_uid"
        if source not in ALIAS_SOURCES:
            raise InvalidRequest(f"alias_name_source must be one of {', '.join(ALIAS_SOURCES)}")
        if current is not None and source != current.alias_name_source:
            # Vault's rule: changing it would silently give every workload a new identity.
            raise InvalidRequest("alias_name_source cannot be changed on an existing role")
        changes["alias_name_source"] = source
    result = replace(role, token=role.token.updated(f), **changes)
    if not result.names:
        raise InvalidRequest("bound_service_account_names must be set")
    if not result.namespaces and not result.namespace_selector:
        raise InvalidRequest("bound_service_account_namespaces or bound_service_account_namespace_selector "
                             "must be set")
    return result


class Roles:
    """Roles stored one per key under ``role/``."""

    def __init__(self, storage: StorageBackend) -> None:
        self.storage = storage

    async def get(self, name: str) -> KubeRole | None:
        raw = await self.storage.get(ROLE_PREFIX + name)
        return None if raw is None else KubeRole.from_bytes(raw)

    async def put(self, name: str, role: KubeRole) -> None:
        await self.storage.put(ROLE_PREFIX + name, role.to_bytes())

    async def delete(self, name: str) -> None:
        await self.storage.delete(ROLE_PREFIX + name)

    async def names(self) -> list[str]:
        return sorted(k for k in await self.storage.list(ROLE_PREFIX) if not k.endswith("/"))
