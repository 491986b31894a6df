"""Request fields shared by several PKI endpoints, and the helpers that read them.

Each set mirrors the parameters Vault documents for the endpoint family;
everything a caller sends is coerced and range-checked before any key is
generated or anything is written.
"""

from __future__ import annotations

import re

from strongroom.errors import InvalidRequest
from strongroom.sdk.fields import Field, FieldData, FieldType

from .limits import check_duration
from .names import is_hostname, parse_ips, split_wildcard
from .output import check_format
from .role import SUBJECT_FIELDS
from .subject import AltNames

S, INT, B, D, SL = FieldType.STRING, FieldType.INT, FieldType.BOOL, FieldType.DURATION, FieldType.STRING_LIST

_NAME = re.compile(r"^[A-Za-z0-9_-]{0,128}$")

OUTPUT_FIELDS = {
    "format": Field(S, default="pem", description="pem, der or pem_bundle"),
    "private_key_format": Field(S, default="der", description="der or pkcs8"),
}
NAME_FIELDS = {
    "common_name": Field(S, default=""),
    "alt_names": Field(SL, default=[]),
    "ip_sans": Field(SL, default=[]),
    "uri_sans": Field(SL, default=[]),
    "exclude_cn_from_sans": Field(B, default=False),
}
TTL_FIELDS = {"ttl": Field(D, default=0), "not_after": Field(S, default="")}
SUBJECT_REQUEST_FIELDS = {name: Field(SL, default=[]) for name in SUBJECT_FIELDS}
KEY_FIELDS = {"key_type": Field(S, default="rsa"), "key_bits": Field(INT, default=0)}

#: Parameters of every request that creates or signs a CA certificate.
CA_FIELDS: dict[str, Field] = {
    **NAME_FIELDS, **TTL_FIELDS, **OUTPUT_FIELDS, **SUBJECT_REQUEST_FIELDS,
    "max_path_length": Field(INT, default=-1),
    "key_usage": Field(SL, default=[]),
    "permitted_dns_domains": Field(SL, default=[]),
    "not_before_duration": Field(D, default=30),
    "signature_bits": Field(INT, default=0),
    "issuer_name": Field(S, default=""),
    "key_name": Field(S, default=""),
}


def output_format(fd: FieldData) -> tuple[str, str]:
    fmt, private_key_format = fd.get("format"), fd.get("private_key_format")
    check_format(fmt, private_key_format)
    return fmt, private_key_format


def subject_values(fd: FieldData) -> dict[str, list[str]]:
    return {name: fd.get(name) for name in SUBJECT_FIELDS}


def cn_as_san(common_name: str) -> bool:
    """Whether a common name also belongs in the SANs: an email address, or a (wildcard) host name."""
    if "@" in common_name:
        return True
    try:
        _, base = split_wildcard(common_name)
    except InvalidRequest:
        return False
    return is_hostname(base)


def requested_alt_names(fd: FieldData, common_name: str, exclude_cn: bool) -> AltNames:
    """SANs from ``alt_names``, ``ip_sans`` and ``uri_sans`` plus the common name when it belongs there."""
    alt = AltNames()
    if common_name and not exclude_cn and cn_as_san(common_name):
        alt.add_name(common_name)
    for name in fd.get("alt_names"):
        alt.add_name(name)
    for ip in parse_ips(fd.get("ip_sans")):
        alt.add_ip(ip)
    alt.uris = list(dict.fromkeys(fd.get("uri_sans")))
    return alt


def check_issuer_name(name: str) -> str:
    if not _NAME.match(name) or name == "default":
        raise InvalidRequest("invalid issuer_name: letters, digits, '-' and '_' only, at most 128, and not 'default'")
    return name


def issuer_name(fd: FieldData) -> str:
    return check_issuer_name(fd.get("issuer_name"))


def not_before_duration(fd: FieldData) -> int:
    return check_duration(fd.get("not_before_duration"), "not_before_duration")
