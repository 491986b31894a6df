"""JWT roles: which tokens a role accepts and the tokens its logins get.

A role binds audiences, a subject and claims (exact or ``*`` globs). Vault's
rules on write, each failure a 400: ``user_claim`` is required; ``role_type``
is ``jwt`` (``oidc``, the browser flow, is refused as not supported yet); a
role must bind at least one of ``bound_audiences``, ``bound_subject``,
``bound_claims`` or ``token_bound_cidrs``, so no role accepts every token its
issuer signs; ``bound_claims`` values are strings, numbers or booleans (or
lists of them: any-of) and are stored as text; ``claim_mappings`` targets are
unique and cannot overwrite the ``role`` metadata key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.storage import StorageBackend
from strongroom.sdk.token_params import MAX_LIST_ITEMS, MAX_NUMBER, TokenParams, token_fields

ROLE_PREFIX = "role/"
CLAIMS_TYPES = ("string", "glob")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_TEXT = 1024
_LEEWAYS = ("clock_skew_leeway", "expiration_leeway", "not_before_leeway")

ROLE_FIELDS: dict[str, Field] = {
    "role_type": Field(FieldType.STRING, description="jwt (oidc, the browser flow, is not supported yet)."),
    "bound_audiences": Field(FieldType.STRING_LIST, description="Audiences; one must be in the JWT's aud."),
    "bound_subject": Field(FieldType.STRING, description="The sub claim the JWT must carry."),
    "bound_claims": Field(FieldType.MAP, description="Claim name -> value or list of values (any-of)."),
    "bound_claims_type": Field(FieldType.STRING, description="string (exact) or glob (* wildcards)."),
    "claim_mappings": Field(FieldType.STRING_MAP, description="Claim name -> token metadata key."),
    "user_claim": Field(FieldType.STRING, description="Claim naming the user (the identity alias)."),
    "user_claim_json_pointer": Field(FieldType.BOOL, description="user_claim is a JSON pointer (/a/b)."),
    "groups_claim": Field(FieldType.STRING, description="Claim listing the user's groups."),
    "clock_skew_leeway": Field(FieldType.INT, description="Seconds of clock skew tolerated (-1: none)."),
    "expiration_leeway": Field(FieldType.INT, description="Seconds tolerated after exp (-1: none)."),
    "not_before_leeway": Field(FieldType.INT, description="Seconds tolerated before nbf (-1: none)."),
    **token_fields("policies", "ttl", "max_ttl", "period", "bound_cidrs"),
}


@dataclass(frozen=True, slots=True)
class JwtRole:
    role_type: str = "jwt"
    bound_audiences: tuple[str, ...] = ()
    bound_subject: str = ""
    bound_claims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bound_claims_type: str = "string"
    claim_mappings: dict[str, str] = field(default_factory=dict)
    user_claim: str = ""
    user_claim_json_pointer: bool = False
    groups_claim: str = ""
    clock_skew_leeway: int = 0
    expiration_leeway: int = 0
    not_before_leeway: int = 0
    token: TokenParams = field(default_factory=TokenParams)

    def response_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "role_type": self.role_type,
            "bound_audiences": list(self.bound_audiences),
            "bound_subject": self.bound_subject,
            "bound_claims": {k: list(v) for k, v in self.bound_claims.items()} or None,
            "bound_claims_type": self.bound_claims_type,
            "claim_mappings": dict(self.claim_mappings) or None,
            "user_claim": self.user_claim,
            "user_claim_json_pointer": self.user_claim_json_pointer,
            "groups_claim": self.groups_claim,
            "clock_skew_leeway": self.clock_skew_leeway,
            "expiration_leeway": self.expiration_leeway,
            "not_before_leeway": self.not_before_leeway,
            **self.token.response_data(),
        }
        if self.token.policies:
            data["policies"] = list(self.token.policies)
        return data

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {k: v for k, v in self.response_data().items() if not k.startswith("token_")}
        body.pop("policies", None)
        body["bound_claims"] = {k: list(v) for k, v in self.bound_claims.items()}
        body["claim_mappings"] = dict(self.claim_mappings)
        body["token"] = self.token.to_json()
        return json.dumps(body).encode()

    @staticmethod
    def from_bytes(raw: bytes) -> JwtRole:
        body = json.loads(raw)
        return JwtRole(
            role_type=body["role_type"], bound_audiences=tuple(body["bound_audiences"]),
            bound_subject=body["bound_subject"],
            bound_claims={k: tuple(v) for k, v in body["bound_claims"].items()},
            bound_claims_type=body["bound_claims_type"], claim_mappings=dict(body["claim_mappings"]),
            user_claim=body["user_claim"], user_claim_json_pointer=body["user_claim_json_pointer"],
            groups_claim=body["groups_claim"],
            clock_skew_leeway=body["clock_skew_leeway"], expiration_leeway=body["expiration_leeway"],
            not_before_leeway=body["not_before_leeway"], token=TokenParams.from_json(body["token"]))


def checked_role_name(name: str) -> str:
    """``name`` if it can name a role (letters, digits, ``._-``, at most 128 characters); 400 otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequest("invalid role name")
    return name


def _claim_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_TEXT:
        raise InvalidRequest(f"{what}: claim names must be non-empty strings")
    return name


def _claim_texts(name: str, value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    texts: list[str] = []
    for item in values:
        if isinstance(item, bool):
            texts.append("true" if item else "false")
        elif isinstance(item, str | int) and not isinstance(item, float):
            texts.append(str(item))
        else:
            raise InvalidRequest(f"bound_claims: the value of {name!r} must be a string, integer, boolean "
                                 "or a list of them")
    if not texts or len(texts) > MAX_LIST_ITEMS or any(len(t) > _MAX_TEXT for t in texts):
        raise InvalidRequest(f"bound_claims: the value of {name!r} is empty or too large")
    return tuple(dict.fromkeys(texts))


def _bound_claims(raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    if len(raw) > MAX_LIST_ITEMS:
        raise InvalidRequest("bound_claims: too many claims")
    return {_claim_name(k, "bound_claims"): _claim_texts(k, v) for k, v in raw.items()}


def _claim_mappings(raw: dict[str, str]) -> dict[str, str]:
    if len(raw) > MAX_LIST_ITEMS:
        raise InvalidRequest("claim_mappings: too many mappings")
    targets = [_claim_name(v, "claim_mappings") for v in raw.values()]
    if len(set(targets)) != len(targets):
        raise InvalidRequest("claim_mappings: metadata key names must be unique")
    if "role" in targets:
        raise InvalidRequest("claim_mappings: 'role' is reserved metadata")
    return {_claim_name(k, "claim_mappings"): v for k, v in raw.items()}


def role_changes(current: JwtRole | None, f: FieldData) -> JwtRole:
    """The role after a write to ``role/:name`` (absent fields keep their value; see module docstring)."""
    role = current or JwtRole()
    changes: dict[str, Any] = {}
    if f.has("role_type"):
        kind = f.get("role_type").strip() or "jwt"
        if kind == "oidc":
            raise InvalidRequest("role_type 'oidc' (the browser login flow) is not supported yet; use 'jwt'")
        if kind != "jwt":
            raise InvalidRequest("role_type must be 'jwt'")
        changes["role_type"] = kind
    if f.has("bound_audiences"):
        changes["bound_audiences"] = tuple(dict.fromkeys(a.strip() for a in f.get("bound_audiences")
                                                         if a.strip()))
    for name in ("bound_subject", "user_claim", "groups_claim"):
        if f.has(name):
            value = f.get(name).strip()
            if len(value) > _MAX_TEXT:
                raise InvalidRequest(f"{name} is too long")
            changes[name] = value
    if f.has("user_claim_json_pointer"):
        changes["user_claim_json_pointer"] = bool(f.get("user_claim_json_pointer"))
    if f.has("bound_claims"):
        changes["bound_claims"] = _bound_claims(f.get("bound_claims"))
    if f.has("bound_claims_type"):
        kind = f.get("bound_claims_type").strip() or "string"
        if kind not in CLAIMS_TYPES:
            raise InvalidRequest("bound_claims_type must be 'string' or 'glob'")
        changes["bound_claims_type"] = kind
    if f.has("claim_mappings"):
        changes["claim_mappings"] = _claim_mappings(f.get("claim_mappings"))
    for name in _LEEWAYS:
        if f.has(name):
            value = f.get(name)
            if value < -1 or value > MAX_NUMBER:
                raise InvalidRequest(f"{name} must be -1 (no leeway), 0 (the default) or a number of seconds")
            changes[name] = value
    result = replace(role, token=role.token.updated(f), **changes)
    if not result.user_claim:
        raise InvalidRequest("a user_claim is required")
    if not (result.bound_audiences or result.bound_subject or result.bound_claims or result.token.bound_cidrs):
        raise InvalidRequest("must have at least one bound constraint when creating/updating a role "
                             "(bound_audiences, bound_subject, bound_claims or token_bound_cidrs)")
    return result


class Roles:
    """Roles stored one per key under ``role/``."""

    def __init__(self, storage: StorageBackend) -> None:
        self.storage = storage

    async def get(self, name: str) -> JwtRole | None:
        raw = await self.storage.get(ROLE_PREFIX + name)
        return None if raw is None else JwtRole.from_bytes(raw)

    async def put(self, name: str, role: JwtRole) -> None:
        await self.storage.put(ROLE_PREFIX + name, role.to_bytes())

    async def delete(self, name: str) -> None:
        await self.storage.delete(ROLE_PREFIX + name)

    async def names(self) -> list[str]:
        return sorted(k for k in await self.storage.list(ROLE_PREFIX) if not k.endswith("/"))
