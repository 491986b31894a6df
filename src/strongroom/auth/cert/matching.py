"""Pure checks of a client certificate against one trusted certificate entry.

Two separate questions, always both asked (CVE-2025-6037: a pinned certificate that skipped the
name constraints let any holder of that certificate in under any role):

1. :func:`is_trusted`: does the leaf chain to one of the entry's certificates? Either the entry
   pins that very certificate (byte-equal DER, compared in constant time), or one of the entry's
   CA certificates (basicConstraints CA) issued it directly (issuer name and signature). The leaf
   and the issuing certificate must both be inside their validity window at ``now``, and a leaf with
   an extended key usage must allow client authentication.
2. :func:`satisfies_constraints`: do its names pass every configured ``allowed_*`` list? An empty
   list allows anything; a non-empty list needs at least one of the certificate's values of that
   kind to match one of its glob patterns (``*`` matches any run of characters, as in Vault).

Only the leaf is checked: Python's ``ssl`` hands over no chain, so an entry must hold the CA that
signed the client certificate (or the certificate itself), not a root above an intermediate.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def glob_one(pattern: str, value: str) -> bool:
    """Whether ``value`` matches ``pattern`` in full, ``*`` matching any run of characters.

    The classic two-pointer wildcard match: at most len(pattern) * len(value) steps whatever the
    pattern, so a pattern full of stars cannot make a login spin (a backtracking regex could).
    """
    p = v = 0
    star, resume = -1, 0
    while v < len(value):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, v
            p += 1
        elif p < len(pattern) and pattern[p] == value[v]:
            p += 1
            v += 1
        elif star >= 0:
            resume += 1
            p, v = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def glob_match(patterns: Iterable[str], values: Iterable[str]) -> bool:
    """Whether any of ``values`` matches any of ``patterns`` in full."""
    pattern_list = list(patterns)
    return any(glob_one(p, v) for v in values for p in pattern_list)


@dataclass(frozen=True, slots=True)
class CertNames:
    """The names of a certificate that constraints look at."""

    common_names: tuple[str, ...]
    dns: tuple[str, ...]
    emails: tuple[str, ...]
    uris: tuple[str, ...]
    organizational_units: tuple[str, ...]

    @staticmethod
    def of(cert: x509.Certificate) -> CertNames:
        def attrs(oid: x509.ObjectIdentifier) -> tuple[str, ...]:
            return tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(oid))

        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = tuple(san.get_values_for_type(x509.DNSName))
            emails = tuple(san.get_values_for_type(x509.RFC822Name))
            uris = tuple(san.get_values_for_type(x509.UniformResourceIdentifier))
        except x509.ExtensionNotFound:
            dns, emails, uris = (), (), ()
        return CertNames(attrs(NameOID.COMMON_NAME), dns, emails, uris, attrs(NameOID.ORGANIZATIONAL_UNIT_NAME))


@dataclass(frozen=True, slots=True)
class Constraints:
    """The ``allowed_*`` lists and ``required_extensions`` of one entry (empty: no constraint)."""

    allowed_names: tuple[str, ...] = ()
    allowed_common_names: tuple[str, ...] = ()
    allowed_dns_sans: tuple[str, ...] = ()
    allowed_email_sans: tuple[str, ...] = ()
    allowed_uri_sans: tuple[str, ...] = ()
    allowed_organizational_units: tuple[str, ...] = ()
    required_extensions: tuple[str, ...] = ()


def _within(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _allows_client_auth(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in usages or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued(leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        leaf.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_trusted(leaf: x509.Certificate, trusted: Sequence[x509.Certificate], now: datetime.datetime) -> bool:
    """Whether ``leaf`` is pinned by, or directly issued by a CA in, ``trusted`` (see module docstring)."""
    if not _within(leaf, now) or not _allows_client_auth(leaf):
        return False
    leaf_der = leaf.public_bytes(Encoding.DER)
    for anchor in trusted:
        if not _within(anchor, now):
            continue
        if hmac.compare_digest(anchor.public_bytes(Encoding.DER), leaf_der):
            return True
        if _is_ca(anchor) and _issued(leaf, anchor):
            return True
    return False


def _extension_values(cert: x509.Certificate) -> dict[str, bytes]:
    return {ext.oid.dotted_string: ext.value.public_bytes() for ext in cert.extensions}


def _der_string(raw: bytes) -> str | None:
    """The text of a DER UTF8String, PrintableString or IA5String; None for anything else."""
    if len(raw) < 2 or raw[0] not in (0x0C, 0x13, 0x16) or raw[1] >= 0x80 or raw[1] != len(raw) - 2:
        return None
    try:
        return raw[2:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _has_extensions(cert: x509.Certificate, required: Sequence[str]) -> bool:
    """Each ``oid:pattern``: the extension is present and its (string) value matches the glob."""
    if not required:
        return True
    try:
        present = _extension_values(cert)
    except (NotImplementedError, ValueError):
        return False
    for item in required:
        oid, _, pattern = item.partition(":")
        raw = present.get(oid.strip())
        if raw is None:
            return False
        if pattern in ("", "*"):
            continue
        text = _der_string(raw)
        if text is None or not glob_match([pattern], [text]):
            return False
    return True


def satisfies_constraints(cert: x509.Certificate, constraints: Constraints) -> bool:
    """Whether ``cert`` passes every non-empty constraint list (see module docstring)."""
    names = CertNames.of(cert)
    checks: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (constraints.allowed_names, names.common_names + names.dns + names.emails),
        (constraints.allowed_common_names, names.common_names),
        (constraints.allowed_dns_sans, names.dns),
        (constraints.allowed_email_sans, names.emails),
        (constraints.allowed_uri_sans, names.uris),
        (constraints.allowed_organizational_units, names.organizational_units),
    ]
    for patterns, values in checks:
        if patterns and not glob_match(patterns, values):
            return False
    return _has_extensions(cert, constraints.required_extensions)
