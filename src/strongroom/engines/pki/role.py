"""A PKI role: which certificates ``issue/:role`` and ``sign/:role`` may produce.

Fields, defaults and read-back shapes follow Vault's role endpoint (durations
read back as integer seconds). A role is validated completely when written,
so issuance never meets a role it cannot honour.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from strongroom.errors import InternalError, InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType

from .keys import key_spec
from .limits import check_duration
from .names import NamePolicy
from .usages import DEFAULT_LEAF_KEY_USAGE, check_ext_key_usages, check_key_usages, parse_oids

S, INT, B, D, SL = FieldType.STRING, FieldType.INT, FieldType.BOOL, FieldType.DURATION, FieldType.STRING_LIST

#: Subject fields shared by roles and CA requests (each a list, as in Vault).
SUBJECT_FIELDS = ("ou", "organization", "country", "locality", "province", "street_address", "postal_code")


@dataclass
class Role:
    ttl: int = 0
    max_ttl: int = 0
    allow_localhost: bool = True
    allowed_domains: list[str] = field(default_factory=list)
    allow_bare_domains: bool = False
    allow_subdomains: bool = False
    allow_glob_domains: bool = False
    allow_wildcard_certificates: bool = True
    allow_any_name: bool = False
    enforce_hostnames: bool = True
    allow_ip_sans: bool = True
    allowed_uri_sans: list[str] = field(default_factory=list)
    server_flag: bool = True
    client_flag: bool = True
    code_signing_flag: bool = False
    email_protection_flag: bool = False
    key_type: str = "rsa"
    key_bits: int = 0
    signature_bits: int = 0
    key_usage: list[str] = field(default_factory=lambda: list(DEFAULT_LEAF_KEY_USAGE))
    ext_key_usage: list[str] = field(default_factory=list)
    ext_key_usage_oids: list[str] = field(default_factory=list)
    use_csr_common_name: bool = True
    use_csr_sans: bool = True
    ou: list[str] = field(default_factory=list)
    organization: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    locality: list[str] = field(default_factory=list)
    province: list[str] = field(default_factory=list)
    street_address: list[str] = field(default_factory=list)
    postal_code: list[str] = field(default_factory=list)
    generate_lease: bool = False
    no_store: bool = False
    require_cn: bool = True
    not_before_duration: int = 30

    def name_policy(self) -> NamePolicy:
        return NamePolicy(
            allowed_domains=tuple(self.allowed_domains),
            allow_bare_domains=self.allow_bare_domains,
            allow_subdomains=self.allow_subdomains,
            allow_glob_domains=self.allow_glob_domains,
            allow_any_name=self.allow_any_name,
            allow_localhost=self.allow_localhost,
            allow_wildcard_certificates=self.allow_wildcard_certificates,
            enforce_hostnames=self.enforce_hostnames,
        )

    def subject_values(self) -> dict[str, list[str]]:
        return {name: list(getattr(self, name)) for name in SUBJECT_FIELDS}

    def to_json(self) -> dict[str, Any]:
        """The stored form, which is also Vault's read-back shape."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: Any) -> Role:
        if not isinstance(raw, dict):
            raise InternalError("a stored pki role is malformed")
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError:
            raise InternalError("a stored pki role is malformed") from None


_DEFAULTS = Role()
_TYPES: dict[str, FieldType] = {
    f.name: {bool: B, int: INT}.get(type(getattr(_DEFAULTS, f.name)), SL)
    for f in dataclasses.fields(Role)
    if f.name != "key_type"
}
_TYPES.update({"key_type": S, "ttl": D, "max_ttl": D, "not_before_duration": D})

#: The request fields of ``roles/:name`` (defaults applied by :func:`role_from_fields`, not here,
#: so PATCH can tell what was sent).
ROLE_FIELDS: dict[str, Field] = {name: Field(kind) for name, kind in _TYPES.items()}


def role_from_fields(fd: FieldData, base: Role | None = None) -> Role:
    """A validated role from request fields: sent fields over ``base`` (PATCH) or over the defaults (POST)."""
    role = dataclasses.replace(base) if base is not None else Role()
    for name in ROLE_FIELDS:
        if fd.has(name):
            setattr(role, name, fd.get(name))
    validate(role)
    return role


def validate(role: Role) -> None:
    """Raise a 400 naming the first rule the role breaks; resolves ``key_bits`` 0 to the type's default."""
    for name in ("ttl", "max_ttl", "not_before_duration"):
        check_duration(getattr(role, name), name)
    if role.max_ttl and role.ttl > role.max_ttl:
        raise InvalidRequest('"ttl" value must be less than "max_ttl" value')
    spec = key_spec(role.key_type, role.key_bits, allow_any=True)
    role.key_bits = spec.bits
    if role.signature_bits not in (0, 256, 384, 512):
        raise InvalidRequest("invalid signature_bits: must be 0, 256, 384 or 512")
    check_key_usages(role.key_usage)
    check_ext_key_usages(role.ext_key_usage)
    parse_oids(role.ext_key_usage_oids, "ext_key_usage_oids")
