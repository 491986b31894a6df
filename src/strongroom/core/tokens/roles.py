"""Token roles (``auth/token/roles/:name``): stored settings that shape tokens created through them.

A role may let its callers create tokens with policies outside their own
(``allowed_policies``), which is why writing roles is an administrator's act.
Unlike Vault, a role can never list the root policy (in any spelling) as
allowed: SECURITY.md forbids attaching the reserved name through any API.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

import orjson

from strongroom.core.policy.names import ROOT_POLICY_NAME, is_reserved, normalize_policy_name
from strongroom.core.tokens.policies import sanitize_policies
from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.system import SystemView

#: Vault's generic name pattern: word characters, with '-' and '.' inside.
ROLE_NAME = r"\w(?:[\w.-]*\w)?"
_PATH_SUFFIX = re.compile(r"\w(?:[\w.-]*\w)?")
ROLE_PREFIX = "role/"
SERVICE_TYPES = {"service": "service", "default-service": "default-service", "default": "default-service"}
BATCH_TYPES = frozenset({"batch", "default-batch"})

ROLE_FIELDS: dict[str, Field] = {
    "allowed_policies": Field(T.STRING_LIST, []),
    "disallowed_policies": Field(T.STRING_LIST, []),
    "allowed_policies_glob": Field(T.STRING_LIST, []),
    "disallowed_policies_glob": Field(T.STRING_LIST, []),
    "orphan": Field(T.BOOL, False),
    "renewable": Field(T.BOOL, True),
    "path_suffix": Field(T.STRING, ""),
    "allowed_entity_aliases": Field(T.STRING_LIST, []),
    "token_period": Field(T.DURATION, 0),
    "period": Field(T.DURATION, 0, "deprecated: use token_period"),
    "token_explicit_max_ttl": Field(T.DURATION, 0),
    "explicit_max_ttl": Field(T.DURATION, 0, "deprecated: use token_explicit_max_ttl"),
    "token_no_default_policy": Field(T.BOOL, False),
    "token_num_uses": Field(T.INT, 0),
    "token_bound_cidrs": Field(T.STRING_LIST, []),
    "bound_cidrs": Field(T.STRING_LIST, [], "deprecated: use token_bound_cidrs"),
    "token_type": Field(T.STRING, "default-service"),
}


@dataclass(frozen=True, slots=True)
class TokenRole:
    name: str
    allowed_policies: tuple[str, ...] = ()
    disallowed_policies: tuple[str, ...] = ()
    allowed_policies_glob: tuple[str, ...] = ()
    disallowed_policies_glob: tuple[str, ...] = ()
    orphan: bool = False
    renewable: bool = True
    path_suffix: str = ""
    token_period: int = 0
    token_explicit_max_ttl: int = 0
    token_no_default_policy: bool = False
    token_num_uses: int = 0
    token_bound_cidrs: tuple[str, ...] = ()
    token_type: str = "default-service"

    def to_bytes(self) -> bytes:
        return orjson.dumps({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_bytes(cls, raw: bytes) -> TokenRole:
        try:
            body = orjson.loads(raw)
            known = {f.name for f in fields(cls)}
            # Written by to_bytes behind the barrier; lists come back as JSON arrays.
            values: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in body.items() if k in known
            }
            return cls(**values)
        except (orjson.JSONDecodeError, TypeError, AttributeError) as exc:
            raise InternalError("a stored token role is malformed") from exc

    def to_data(self) -> dict[str, Any]:
        """The read answer, Vault's field names (deprecated mirrors included)."""
        data: dict[str, Any] = {
            "name": self.name,
            "allowed_policies": list(self.allowed_policies),
            "disallowed_policies": list(self.disallowed_policies),
            "allowed_policies_glob": list(self.allowed_policies_glob),
            "disallowed_policies_glob": list(self.disallowed_policies_glob),
            "orphan": self.orphan,
            "renewable": self.renewable,
            "path_suffix": self.path_suffix,
            "token_period": self.token_period,
            "period": self.token_period,
            "token_explicit_max_ttl": self.token_explicit_max_ttl,
            "explicit_max_ttl": self.token_explicit_max_ttl,
            "token_no_default_policy": self.token_no_default_policy,
            "token_num_uses": self.token_num_uses,
            "token_type": self.token_type,
        }
        if self.token_bound_cidrs:
            data["token_bound_cidrs"] = list(self.token_bound_cidrs)
            data["bound_cidrs"] = list(self.token_bound_cidrs)
        return data


class RoleStore:
    """Roles under ``role/`` in the token backend's own storage view."""

    def __init__(self, storage: StorageBackend) -> None:
        self._storage = storage

    async def get(self, name: str) -> TokenRole | None:
        raw = await self._storage.get(ROLE_PREFIX + name)
        return None if raw is None else TokenRole.from_bytes(raw)

    async def put(self, role: TokenRole) -> None:
        await self._storage.put(ROLE_PREFIX + role.name, role.to_bytes())

    async def delete(self, name: str) -> None:
        await self._storage.delete(ROLE_PREFIX + name)

    async def names(self) -> list[str]:
        return [key for key in await self._storage.list(ROLE_PREFIX) if not key.endswith("/")]


def canonical_names(names: Iterable[str]) -> tuple[str, ...]:
    """Normalised, unique, sorted policy names; any spelling of root becomes ``root`` (no collapsing)."""
    result = {ROOT_POLICY_NAME if is_reserved(n) else normalize_policy_name(n) for n in names if n.strip()}
    return tuple(sorted(result))


def canonical_globs(patterns: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({p.strip().lower() for p in patterns if p.strip()}))


def apply_role_fields(
    role: TokenRole, data: FieldData, *, creating: bool, system: SystemView
) -> tuple[TokenRole, list[str]]:
    """``role`` updated from the request: on create every field takes its value or default,
    on update only the fields sent change (Vault's semantics). Returns the role and warnings.
    """
    warnings: list[str] = []

    def given(*names: str) -> str | None:
        for name in names:
            if data.has(name):
                return name
        return names[0] if creating else None

    changes: dict[str, Any] = {}
    if name := given("allowed_policies"):
        allowed = tuple(sanitize_policies(data.get(name), add_default=False))
        if ROOT_POLICY_NAME in allowed:
            raise InvalidRequest("a token role cannot allow the root policy")
        changes["allowed_policies"] = allowed
    if name := given("disallowed_policies"):
        changes["disallowed_policies"] = canonical_names(data.get(name))
    for key in ("allowed_policies_glob", "disallowed_policies_glob"):
        if name := given(key):
            changes[key] = canonical_globs(data.get(name))
    for key in ("orphan", "renewable", "token_no_default_policy"):
        if name := given(key):
            changes[key] = data.get(name)
    if name := given("path_suffix"):
        suffix = data.get(name)
        if suffix and (not _PATH_SUFFIX.fullmatch(suffix) or ".." in suffix):
            raise InvalidRequest(
                "given role path suffix contains invalid characters; must match " + _PATH_SUFFIX.pattern
            )
        changes["path_suffix"] = suffix
    if (name := given("allowed_entity_aliases")) and data.get(name):
        raise InvalidRequest("entity aliases are not supported yet")
    if name := given("token_period", "period"):
        changes["token_period"] = data.get(name)
    if name := given("token_explicit_max_ttl", "explicit_max_ttl"):
        changes["token_explicit_max_ttl"] = data.get(name)
    if name := given("token_num_uses"):
        uses = data.get(name)
        if uses < 0:
            raise InvalidRequest("token_num_uses cannot be negative")
        changes["token_num_uses"] = uses
    if name := given("token_bound_cidrs", "bound_cidrs"):
        changes["token_bound_cidrs"] = parse_cidrs(data.get(name))
    if name := given("token_type"):
        changes["token_type"] = _role_token_type(data.get(name))
    updated = replace(role, **changes)
    max_ttl = system.max_lease_ttl
    if updated.token_explicit_max_ttl and max_ttl and updated.token_explicit_max_ttl > max_ttl:
        warnings.append(
            f"Given explicit max TTL of {updated.token_explicit_max_ttl} is greater than system/mount "
            f"allowed value of {max_ttl} seconds; the system/mount value still caps every TTL granted "
            "to tokens created against this role"
        )
    return updated, warnings


def _role_token_type(value: str) -> str:
    text = value.strip().lower()
    if text in BATCH_TYPES:
        raise InvalidRequest("batch tokens are not supported yet")
    if text not in SERVICE_TYPES:
        raise InvalidRequest("invalid 'token_type' value")
    return SERVICE_TYPES[text]


def parse_cidrs(values: Iterable[str]) -> tuple[str, ...]:
    """Canonical CIDR strings; a bare address becomes a /32 or /128."""
    result: list[str] = []
    for value in values:
        try:
            result.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise InvalidRequest("invalid value when parsing bound cidrs") from exc
    return tuple(result)
