"""Subject names and subject alternative names of the certificates the engine builds.

RDNs are emitted in the order Go's ``pkix.Name`` writes them, which is what
Vault's certificates show: C, ST, L, street, postal code, O, OU, CN.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from strongroom.errors import InvalidRequest

_ORDER = (
    ("country", NameOID.COUNTRY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("street_address", NameOID.STREET_ADDRESS),
    ("postal_code", NameOID.POSTAL_CODE),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("ou", NameOID.ORGANIZATIONAL_UNIT_NAME),
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def build_name(common_name: str, values: Mapping[str, Sequence[str]]) -> x509.Name:
    """A subject DN from a common name (may be empty) and the list-valued subject fields."""
    attributes: list[x509.NameAttribute[str]] = []
    try:
        for key, oid in _ORDER:
            for value in values.get(key, ()):
                if value:
                    attributes.append(x509.NameAttribute(oid, value))
        if common_name:
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    except ValueError:
        # cryptography refuses e.g. a country that is not two letters, or an over-long CN.
        raise InvalidRequest(
            "invalid subject: a country is two letters and a common name at most 64 characters"
        ) from None
    return x509.Name(attributes)


def common_name_of(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return ""
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


@dataclass
class AltNames:
    """Subject alternative names, split by kind."""

    dns: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    ips: list[IPAddress] = field(default_factory=list)
    uris: list[str] = field(default_factory=list)

    def add_name(self, name: str) -> None:
        """A host name or email address from ``common_name``/``alt_names``, each once."""
        target = self.emails if "@" in name else self.dns
        if name not in target:
            target.append(name)

    def add_ip(self, ip: IPAddress) -> None:
        if ip not in self.ips:
            self.ips.append(ip)

    def names(self) -> list[str]:
        return [*self.dns, *self.emails]

    def extension(self) -> x509.SubjectAlternativeName | None:
        general: list[x509.GeneralName] = [
            *(x509.DNSName(name) for name in self.dns),
            *(x509.RFC822Name(email) for email in self.emails),
            *(x509.IPAddress(ip) for ip in self.ips),
            *(x509.UniformResourceIdentifier(uri) for uri in self.uris),
        ]
        return x509.SubjectAlternativeName(general) if general else None

    @classmethod
    def from_extension(cls, ext: x509.SubjectAlternativeName) -> AltNames:
        found = cls()
        found.dns = list(ext.get_values_for_type(x509.DNSName))
        found.emails = list(ext.get_values_for_type(x509.RFC822Name))
        found.ips = [ip for ip in ext.get_values_for_type(x509.IPAddress) if isinstance(ip, IPAddress)]
        found.uris = list(ext.get_values_for_type(x509.UniformResourceIdentifier))
        return found
