"""What ``auth/token/create*`` may mint: Vault's rules, as one pure function.

:func:`plan_token` turns the request fields, the calling token, the role (if
any) and the caller's sudo right into a :class:`TokenSpec` plus an orphan
flag, or refuses with Vault's wording (400). The store then applies the
lifetime rules and, once more, the root-only-from-root rule.

Policy rules, as in Vault:

* Through a role with allowed/disallowed policies (or globs), the requested
  policies must fit the role; the caller's own policies do not matter. With
  no policies requested, the role's allowed policies (or the caller's, when
  the role only disallows) are used.
* Otherwise, with no policies requested, the caller's are inherited.
* Otherwise a caller without sudo may only ask for a subset of its own.
* ``root``, in any spelling, is only ever granted to a root caller, and the
  internal ``response-wrapping`` / ``control-group`` policies never.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from strongroom.core.tokens.entry import TokenEntry, TokenSpec
from strongroom.core.tokens.policies import (
    DEFAULT_POLICY,
    NON_ASSIGNABLE,
    ROOT_POLICY,
    is_subset,
    matches_any,
    sanitize_policies,
)
from strongroom.core.tokens.roles import TokenRole
from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData
from strongroom.sdk.fields import FieldType as T

CREATE_FIELDS: dict[str, Field] = {
    "id": Field(T.STRING, ""),
    "policies": Field(T.STRING_LIST, []),
    "meta": Field(T.STRING_MAP, {}),
    "no_parent": Field(T.BOOL, False),
    "no_default_policy": Field(T.BOOL, False),
    "renewable": Field(T.BOOL, True),
    "ttl": Field(T.DURATION, 0),
    "lease": Field(T.DURATION, 0, "deprecated: use ttl"),
    "type": Field(T.STRING, ""),
    "explicit_max_ttl": Field(T.DURATION, 0),
    "display_name": Field(T.STRING, ""),
    "num_uses": Field(T.INT, 0),
    "period": Field(T.DURATION, 0),
    "entity_alias": Field(T.STRING, ""),
}

_DISPLAY_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9-]")


@dataclass(frozen=True, slots=True)
class Plan:
    spec: TokenSpec
    orphan: bool
    warnings: tuple[str, ...]


def display_name(requested: str) -> str:
    """``token`` or ``token-<name>`` with anything but letters, digits and '-' replaced, as Vault does."""
    if not requested:
        return "token"
    return _DISPLAY_NAME_UNSAFE.sub("-", "token-" + requested).rstrip("-")


def plan_token(
    data: FieldData,
    *,
    parent: TokenEntry,
    role: TokenRole | None,
    sudo: bool,
    orphan_endpoint: bool,
    path: str,
) -> Plan:
    """Decide what to mint for a create request. ``parent`` is the live calling token."""
    warnings: list[str] = []
    if parent.num_uses != 0:
        # A limited-use token could otherwise escape its count through children.
        raise InvalidRequest("restricted use token cannot generate child tokens")
    is_sudo = sudo or ROOT_POLICY in parent.policies
    _check_type(data.get("type"), role)
    num_uses: int = data.get("num_uses")
    if num_uses < 0:
        raise InvalidRequest("number of uses cannot be negative")
    if data.get("entity_alias"):
        raise InvalidRequest("entity aliases are not supported yet")
    token_id: str = data.get("id")
    if token_id and not is_sudo:
        raise InvalidRequest("root or sudo privileges required to specify token id")

    policies = _policies(data, parent=parent, role=role, is_sudo=is_sudo)
    for name in policies:
        if name in NON_ASSIGNABLE:
            raise InvalidRequest(f'cannot assign policy "{name}"')
    if ROOT_POLICY in policies and ROOT_POLICY not in parent.policies:
        raise InvalidRequest("root tokens may not be created without parent token being root")

    if role is not None:
        orphan = role.orphan or orphan_endpoint
    elif data.get("no_parent"):
        if not is_sudo:
            raise InvalidRequest("root or sudo privileges required to create orphan token")
        orphan = True
    else:
        # create-orphan is governed by the ACL on its own path, as in Vault.
        orphan = orphan_endpoint

    explicit_max: int = data.get("explicit_max_ttl")
    period: int = data.get("period")
    if period and not is_sudo:
        raise InvalidRequest("root or sudo privileges required to create periodic token")
    ttl: int = data.get("ttl") or data.get("lease")
    renewable: bool = data.get("renewable")
    bound_cidrs = parent.bound_cidrs if not orphan else ()
    if role is not None:
        renewable = renewable and role.renewable
        if role.path_suffix:
            path = f"{path}/{role.path_suffix}"
        explicit_max = _lesser(explicit_max, role.token_explicit_max_ttl, "Explicit max TTL", warnings)
        period = _lesser(period, role.token_period, "Period", warnings)
        num_uses = _lesser(num_uses, role.token_num_uses, "Number of uses", warnings)
        bound_cidrs = role.token_bound_cidrs or bound_cidrs
    spec = TokenSpec(
        policies=tuple(policies),
        path=path,
        display_name=display_name(data.get("display_name")),
        meta=dict(data.get("meta")),
        ttl=ttl,
        explicit_max_ttl=explicit_max,
        period=period,
        num_uses=num_uses,
        renewable=renewable,
        role=role.name if role else "",
        entity_id="" if orphan else parent.entity_id,
        bound_cidrs=bound_cidrs,
        token_id=token_id,
    )
    return Plan(spec=spec, orphan=orphan, warnings=tuple(warnings))


def _check_type(requested: str, role: TokenRole | None) -> None:
    wanted = requested.strip().lower()
    if role is not None and role.token_type == "service":
        wanted = "service"
    if wanted in ("batch", "default-batch"):
        raise InvalidRequest("batch tokens are not supported yet")
    if wanted not in ("", "service"):
        raise InvalidRequest("invalid 'token_type' value")


def _policies(data: FieldData, *, parent: TokenEntry, role: TokenRole | None, is_sudo: bool) -> list[str]:
    requested: list[str] = data.get("policies")
    no_default: bool = data.get("no_default_policy") or (role is not None and role.token_no_default_policy)
    if role is not None and (
        role.allowed_policies
        or role.disallowed_policies
        or role.allowed_policies_glob
        or role.disallowed_policies_glob
    ):
        policies = _role_policies(requested, parent=parent, role=role, no_default=no_default)
    elif not requested:
        # Inherit the caller's policies; "default" only if the caller already has it.
        policies = sanitize_policies(parent.policies, add_default=False)
    elif not is_sudo:
        if not is_subset(requested, parent.policies):
            raise InvalidRequest("child policies must be subset of parent")
        policies = sanitize_policies(requested, add_default=DEFAULT_POLICY in parent.policies)
    else:
        policies = sanitize_policies(requested, add_default=True)
    if no_default:
        policies = [p for p in policies if p != DEFAULT_POLICY]
    return policies


def _role_policies(
    requested: list[str], *, parent: TokenEntry, role: TokenRole, no_default: bool
) -> list[str]:
    add_default = (
        not no_default
        and DEFAULT_POLICY not in role.disallowed_policies
        and not matches_any(role.disallowed_policies_glob, DEFAULT_POLICY)
    )
    policies = sanitize_policies(requested, add_default=add_default) if requested else []
    if role.allowed_policies or role.allowed_policies_glob:
        allowed = sanitize_policies(role.allowed_policies, add_default=add_default)
        if not policies:
            policies = allowed
        else:
            for name in policies:
                if name not in allowed and not matches_any(role.allowed_policies_glob, name):
                    raise InvalidRequest(
                        f"token policies ({policies}) must be subset of the role's allowed policies "
                        f"({allowed}) or glob policies ({list(role.allowed_policies_glob)})"
                    )
    elif not policies:
        policies = sanitize_policies(parent.policies, add_default=add_default)
    for name in policies:
        if name in role.disallowed_policies or matches_any(role.disallowed_policies_glob, name):
            raise InvalidRequest(f'token policy "{name}" is disallowed by this role')
    return policies


def _lesser(requested: int, from_role: int, what: str, warnings: list[str]) -> int:
    """The role's value when the request has none, else the lesser of the two (with a warning)."""
    if not from_role:
        return requested
    if not requested:
        return from_role
    chosen = min(requested, from_role)
    warnings.append(
        f"{what} specified both during creation call and in role; using the lesser value of {chosen}"
    )
    return chosen
