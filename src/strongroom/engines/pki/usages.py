"""Key usage and extended key usage names as Vault spells them (Go's ``x509.KeyUsage*`` minus the prefix).

Names are matched without regard to case. An unknown name is a 400 when the
role is written, so a typo fails loudly instead of silently issuing
certificates without the usage.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from strongroom.errors import InvalidRequest

#: Vault's key usage names, each with the ``x509.KeyUsage`` argument it sets.
KEY_USAGES = {
    "digitalsignature": "digital_signature",
    "contentcommitment": "content_commitment",
    "keyencipherment": "key_encipherment",
    "dataencipherment": "data_encipherment",
    "keyagreement": "key_agreement",
    "certsign": "key_cert_sign",
    "crlsign": "crl_sign",
    "encipheronly": "encipher_only",
    "decipheronly": "decipher_only",
}
DEFAULT_LEAF_KEY_USAGE = ("DigitalSignature", "KeyAgreement", "KeyEncipherment")

EXT_KEY_USAGES = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "serverauth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientauth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codesigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "emailprotection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsecendsystem": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsectunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsecuser": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocspsigning": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoftservergatedcrypto": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscapeservergatedcrypto": ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoftcommercialcodesigning": ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoftkernelcodesigning": ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}


def check_key_usages(names: Iterable[str]) -> None:
    for name in names:
        if name.strip().lower() not in KEY_USAGES:
            raise InvalidRequest("invalid key_usage: use names such as DigitalSignature, KeyEncipherment, CertSign")


def check_ext_key_usages(names: Iterable[str]) -> None:
    for name in names:
        if name.strip().lower() not in EXT_KEY_USAGES:
            raise InvalidRequest("invalid ext_key_usage: use names such as ServerAuth, ClientAuth, CodeSigning")


def parse_oids(values: Iterable[str], field: str) -> list[ObjectIdentifier]:
    """Dotted OIDs; a malformed one is a 400 naming ``field``."""
    found: list[ObjectIdentifier] = []
    for value in values:
        text = value.strip()
        parts = text.split(".")
        if len(parts) < 2 or not all(part.isdigit() for part in parts):
            raise InvalidRequest(f"invalid {field}: expected dotted object identifiers such as 1.3.6.1.5.5.7.3.1")
        found.append(ObjectIdentifier(text))
    return found


def key_usage_extension(names: Iterable[str], *, ca: bool = False) -> x509.KeyUsage | None:
    """The KeyUsage extension for ``names`` (plus CertSign and CRLSign for a CA); None when empty."""
    flags = dict.fromkeys(KEY_USAGES.values(), False)
    for name in names:
        flags[KEY_USAGES[name.strip().lower()]] = True
    if ca:
        flags["key_cert_sign"] = flags["crl_sign"] = True
    if not any(flags.values()):
        return None
    if not flags["key_agreement"]:
        # RFC 5280: encipherOnly and decipherOnly mean something only with keyAgreement.
        flags["encipher_only"] = flags["decipher_only"] = False
    return x509.KeyUsage(**flags)


def ext_key_usage_oids(names: Iterable[str], extra: Iterable[ObjectIdentifier] = ()) -> list[ObjectIdentifier]:
    """EKU OIDs for ``names`` followed by ``extra``, each once, in order."""
    found: list[ObjectIdentifier] = []
    for oid in [EXT_KEY_USAGES[name.strip().lower()] for name in names] + list(extra):
        if oid not in found:
            found.append(oid)
    return found
