"""The ``token_*`` settings every token-minting auth method shares (Vault's tokenutil).

A userpass user, an AppRole role or a Kubernetes role each carry the same
settings for the tokens their logins get: ``token_policies``, ``token_ttl``,
``token_max_ttl``, ``token_explicit_max_ttl``, ``token_period``,
``token_num_uses``, ``token_bound_cidrs``, ``token_no_default_policy`` and
``token_type``. :class:`TokenParams` parses them from a write (with Vault's
legacy spellings such as ``policies``), validates them once, stores them, reads
them back in Vault's shape and turns them into the :class:`Auth` of a login.

Validation rules (each failure is a 400 that never echoes the value):

* policy names are normalised by :mod:`strongroom.sdk.policy_names`; any
  spelling or look-alike of ``root`` is refused, so a login can never be
  configured to carry it;
* CIDRs must parse (``10.0.0.0/8``, a bare address means one host) and are
  stored in canonical form;
* durations and ``token_num_uses`` are non-negative and at most
  :data:`MAX_NUMBER`, and ``token_ttl`` may not exceed a set ``token_max_ttl``;
* ``token_type`` is ``default``, ``service`` or ``default-service``: the
  server issues service tokens only, so ``batch`` is refused rather than
  silently served as something else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType
from strongroom.sdk.logical import Auth
from strongroom.sdk.policy_names import is_reserved, normalize_policy_name

#: The token_* fields of a write, as a path's field schema.
TOKEN_FIELDS: Mapping[str, Field] = {
    "token_policies": Field(FieldType.STRING_LIST, description="Policies attached to tokens from this login."),
    "token_ttl": Field(FieldType.DURATION, description="Initial TTL of the tokens."),
    "token_max_ttl": Field(FieldType.DURATION, description="Maximum lifetime of the tokens (renewals included)."),
    "token_explicit_max_ttl": Field(FieldType.DURATION, description="Hard cap on the tokens' lifetime."),
    "token_period": Field(FieldType.DURATION, description="Makes the tokens periodic with this period."),
    "token_num_uses": Field(FieldType.INT, description="Uses per token (0: unlimited)."),
    "token_bound_cidrs": Field(FieldType.STRING_LIST, description="CIDRs the tokens may be used from."),
    "token_no_default_policy": Field(FieldType.BOOL, description="Do not add the default policy."),
    "token_type": Field(FieldType.STRING, description="default, service or default-service."),
}

#: Vault's older names for some token fields (still accepted on write).
LEGACY_NAMES: Mapping[str, str] = {
    "policies": "token_policies",
    "ttl": "token_ttl",
    "max_ttl": "token_max_ttl",
    "period": "token_period",
    "bound_cidrs": "token_bound_cidrs",
}

_SERVICE_TYPES = frozenset({"default", "service", "default-service"})
_BATCH_TYPES = frozenset({"batch", "default-batch"})
#: More entries than this in one list field is refused (no real configuration comes near).
MAX_LIST_ITEMS = 256
#: The largest duration (seconds, about 68 years) or count accepted; larger values are refused, not stored.
MAX_NUMBER = 2**31 - 1


def bounded(value: int, name: str) -> int:
    """``value`` if it is a non-negative number no larger than :data:`MAX_NUMBER`, else a 400 naming ``name``."""
    if value < 0:
        raise InvalidRequest(f"{name!r} cannot be negative")
    if value > MAX_NUMBER:
        raise InvalidRequest(f"{name!r} is too large (at most {MAX_NUMBER})")
    return value


def token_fields(*legacy: str) -> dict[str, Field]:
    """The token_* field schema plus the given legacy names (each must be a key of :data:`LEGACY_NAMES`)."""
    schema = dict(TOKEN_FIELDS)
    for name in legacy:
        schema[name] = TOKEN_FIELDS[LEGACY_NAMES[name]]
    return schema


def policy_list(names: Iterable[str]) -> tuple[str, ...]:
    """Canonical, unique, sorted policy names; refuses the root policy in any spelling (400)."""
    result: set[str] = set()
    for raw in names:
        if not raw.strip():
            continue
        if is_reserved(raw):
            raise InvalidRequest("the root policy cannot be attached to tokens issued by an auth method")
        result.add(normalize_policy_name(raw))
    if len(result) > MAX_LIST_ITEMS:
        raise InvalidRequest(f"too many policies (at most {MAX_LIST_ITEMS})")
    return tuple(sorted(result))


def cidr_list(values: Iterable[str], name: str) -> tuple[str, ...]:
    """Canonical CIDR blocks (``10.1.2.3`` becomes ``10.1.2.3/32``); 400 naming ``name`` for a bad one."""
    blocks: list[str] = []
    for value in values:
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise InvalidRequest(f"invalid CIDR block in {name!r}") from None
        text = str(network)
        if text not in blocks:
            blocks.append(text)
    if len(blocks) > MAX_LIST_ITEMS:
        raise InvalidRequest(f"too many CIDR blocks in {name!r} (at most {MAX_LIST_ITEMS})")
    return tuple(blocks)


def address_allowed(remote_addr: str, cidrs: Sequence[str]) -> bool:
    """Whether ``remote_addr`` (the connection's address, never a header) lies in one of ``cidrs``.

    Always True without CIDRs; False when the address cannot be parsed.
    """
    if not cidrs:
        return True
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def cidrs_within(inner: Sequence[str], outer: Sequence[str]) -> bool:
    """Whether every block of ``inner`` lies inside some block of ``outer`` (always True without ``outer``)."""
    if not outer:
        return True
    outer_nets = [ipaddress.ip_network(c, strict=False) for c in outer]
    for cidr in inner:
        net = ipaddress.ip_network(cidr, strict=False)
        if not any(net.version == o.version and net.subnet_of(o) for o in outer_nets):  # type: ignore[arg-type]
            return False
    return True


def _token_type(value: str) -> str:
    text = value.strip().lower()
    if text == "":
        return "default"
    if text in _BATCH_TYPES:
        raise InvalidRequest("batch tokens are not supported yet")
    if text not in _SERVICE_TYPES:
        raise InvalidRequest("invalid 'token_type' value")
    return text


@dataclass(frozen=True, slots=True)
class TokenParams:
    """The token settings of one principal. Durations are seconds; 0 means "the mount's default"."""

    policies: tuple[str, ...] = ()
    ttl: int = 0
    max_ttl: int = 0
    explicit_max_ttl: int = 0
    period: int = 0
    num_uses: int = 0
    bound_cidrs: tuple[str, ...] = ()
    no_default_policy: bool = False
    token_type: str = "default"

    def updated(self, data: FieldData) -> TokenParams:
        """These settings after a write: fields present in ``data`` replace ours, absent ones are kept.

        ``data``'s schema must include :data:`TOKEN_FIELDS` (see :func:`token_fields`); legacy names
        it declares are honoured too, and giving both spellings of one setting is a 400.
        """
        given = self._given(data)
        changes: dict[str, Any] = {}
        if "token_policies" in given:
            changes["policies"] = policy_list(data.get(given["token_policies"]))
        for attr, key in (("ttl", "token_ttl"), ("max_ttl", "token_max_ttl"),
                          ("explicit_max_ttl", "token_explicit_max_ttl"), ("period", "token_period")):
            if key in given:
                changes[attr] = bounded(data.get(given[key]), key)
        if "token_num_uses" in given:
            changes["num_uses"] = bounded(data.get("token_num_uses"), "token_num_uses")
        if "token_bound_cidrs" in given:
            changes["bound_cidrs"] = cidr_list(data.get(given["token_bound_cidrs"]), "token_bound_cidrs")
        if "token_no_default_policy" in given:
            changes["no_default_policy"] = data.get("token_no_default_policy")
        if "token_type" in given:
            changes["token_type"] = _token_type(data.get("token_type"))
        result = replace(self, **changes)
        if result.max_ttl > 0 and result.ttl > result.max_ttl:
            raise InvalidRequest("'token_ttl' cannot be greater than 'token_max_ttl'")
        return result

    @staticmethod
    def _given(data: FieldData) -> dict[str, str]:
        """token field -> the name it was given under in this write (current or legacy)."""
        given: dict[str, str] = {}
        for name in TOKEN_FIELDS:
            if name in data.schema and data.has(name):
                given[name] = name
        for old, new in LEGACY_NAMES.items():
            if old in data.schema and data.has(old):
                if new in given:
                    raise InvalidRequest(f"cannot specify both {new!r} and {old!r}")
                given[new] = old
        return given

    def response_data(self) -> dict[str, Any]:
        """The token_* fields of a read, in Vault's shape."""
        return {
            "token_policies": list(self.policies),
            "token_ttl": self.ttl,
            "token_max_ttl": self.max_ttl,
            "token_explicit_max_ttl": self.explicit_max_ttl,
            "token_period": self.period,
            "token_num_uses": self.num_uses,
            "token_bound_cidrs": list(self.bound_cidrs),
            "token_no_default_policy": self.no_default_policy,
            "token_type": self.token_type,
        }

    def to_json(self) -> dict[str, Any]:
        body = {f.name: getattr(self, f.name) for f in fields(self)}
        body["policies"] = list(self.policies)
        body["bound_cidrs"] = list(self.bound_cidrs)
        return body

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> TokenParams:
        known = {f.name for f in fields(TokenParams)}
        values = {k: v for k, v in raw.items() if k in known}
        values["policies"] = tuple(values.get("policies", ()))
        values["bound_cidrs"] = tuple(values.get("bound_cidrs", ()))
        return TokenParams(**values)

    def allows_address(self, remote_addr: str) -> bool:
        """Whether a login from ``remote_addr`` may receive a token bound to ``bound_cidrs``."""
        return address_allowed(remote_addr, self.bound_cidrs)

    def auth(
        self,
        *,
        display_name: str,
        metadata: Mapping[str, str],
        alias_name: str,
        policies: Iterable[str] = (),
        bound_cidrs: Sequence[str] | None = None,
        internal_data: Mapping[str, Any] | None = None,
    ) -> Auth:
        """The Auth a successful login answers; ``policies`` are added to ours, ``bound_cidrs`` replace ours."""
        return Auth(
            policies=sorted({*self.policies, *policies}),
            display_name=display_name,
            metadata=dict(metadata),
            ttl=self.ttl,
            max_ttl=self.max_ttl,
            explicit_max_ttl=self.explicit_max_ttl,
            period=self.period,
            num_uses=self.num_uses,
            renewable=True,
            bound_cidrs=list(self.bound_cidrs if bound_cidrs is None else bound_cidrs),
            alias_name=alias_name,
            internal_data=dict(internal_data or {}),
            no_default_policy=self.no_default_policy,
        )
