"""Build and sign one X.509 certificate from a fully validated template.

Everything a caller controls has been checked before a :class:`Template`
exists (names, key, lifetime); this module only assembles extensions and signs.
Extensions, as Vault writes them: basic constraints (CAs only, critical), key
usage (critical), extended key usage, subject and authority key identifiers,
subject alternative names, name constraints (CAs with
``permitted_dns_domains``, critical), and the mount's AIA/CRL URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from strongroom.errors import InvalidRequest

from .keys import IssuerKey, PublicKey, signature_hash
from .subject import AltNames
from .urls import UrlConfig
from .usages import key_usage_extension
from .validity import Validity


@dataclass
class Template:
    subject: x509.Name
    public_key: PublicKey
    serial: int
    validity: Validity
    alt_names: AltNames = field(default_factory=AltNames)
    key_usage: list[str] = field(default_factory=list)
    ext_key_usage: list[ObjectIdentifier] = field(default_factory=list)
    is_ca: bool = False
    #: -1: no limit (a CA signed by a CA with a limit gets one less than its parent).
    max_path_length: int = -1
    permitted_dns_domains: list[str] = field(default_factory=list)
    urls: UrlConfig = field(default_factory=UrlConfig)


def child_path_length(requested: int, parent: x509.Certificate | None) -> int | None:
    """The pathLenConstraint of a new CA under ``parent`` (None: unlimited), or a 400.

    A parent whose own limit is 0 cannot sign a CA at all; otherwise a child's
    limit is what was asked for, capped at one less than the parent's.
    """
    limit: int | None = None if requested < 0 else requested
    if parent is None:
        return limit
    try:
        parent_limit = parent.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return limit
    if parent_limit is None:
        return limit
    if parent_limit == 0:
        raise InvalidRequest(
            "the signing certificate has a max path length of 0 and cannot issue further CA certificates"
        )
    return parent_limit - 1 if limit is None else min(limit, parent_limit - 1)


def _authority_key_id(issuer_cert: x509.Certificate | None, signing_key: IssuerKey) -> x509.AuthorityKeyIdentifier:
    if issuer_cert is not None:
        try:
            ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            pass
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key())


def sign(
    template: Template, issuer_cert: x509.Certificate | None, signing_key: IssuerKey, signature_bits: int = 0
) -> x509.Certificate:
    """The signed certificate. ``issuer_cert`` None means self-signed (a root: ``signing_key`` is its own key)."""
    issuer_name = template.subject if issuer_cert is None else issuer_cert.subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(issuer_name)
        .public_key(template.public_key)
        .serial_number(template.serial)
        .not_valid_before(template.validity.not_before)
        .not_valid_after(template.validity.not_after)
    )
    if template.is_ca:
        path_length = child_path_length(template.max_path_length, issuer_cert)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    usage = key_usage_extension(template.key_usage, ca=template.is_ca)
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    if template.ext_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(template.ext_key_usage), critical=False)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(template.public_key), critical=False)
    builder = builder.add_extension(_authority_key_id(issuer_cert, signing_key), critical=False)
    sans = template.alt_names.extension()
    if sans is not None:
        builder = builder.add_extension(sans, critical=False)
    if template.is_ca and template.permitted_dns_domains:
        permitted: list[x509.GeneralName] = [x509.DNSName(domain) for domain in template.permitted_dns_domains]
        builder = builder.add_extension(x509.NameConstraints(permitted, None), critical=True)
    for extension in template.urls.extensions():
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, signature_hash(signing_key, signature_bits))
