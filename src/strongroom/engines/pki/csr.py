"""Certificate signing requests from callers: parse, prove possession, read what they ask for.

A CSR is untrusted input. It must be one PEM ``CERTIFICATE REQUEST`` whose
self-signature verifies (proof that the caller holds the key) and whose key
is one of the supported families. Errors say what is wrong, never echo the CSR.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from strongroom.errors import InvalidRequest

from .keys import PublicKey, supported_public_key
from .subject import AltNames, common_name_of


@dataclass
class ParsedCSR:
    csr: x509.CertificateSigningRequest
    public_key: PublicKey
    common_name: str
    alt_names: AltNames
    #: The CSR's requested key usage / EKU extensions (None when absent), for sign-verbatim.
    key_usage: x509.KeyUsage | None
    ext_key_usage: x509.ExtendedKeyUsage | None
    requests_ca: bool


def parse_csr(text: object) -> ParsedCSR:
    """Parse and check a PEM CSR; a 400 for anything malformed, unsigned or of an unsupported key type."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest("missing csr: a PEM-encoded certificate signing request is required")
    try:
        csr = x509.load_pem_x509_csr(text.strip().encode("utf-8"))
    except ValueError:
        raise InvalidRequest("the csr could not be parsed as a PEM-encoded certificate signing request") from None
    if not csr.is_signature_valid:
        raise InvalidRequest("the csr's signature is invalid: it was not signed by the key it carries")
    try:
        key = supported_public_key(csr.public_key())
        extensions = csr.extensions
    except ValueError:
        raise InvalidRequest("the csr carries a malformed key or extension") from None
    alt_names = AltNames()
    key_usage: x509.KeyUsage | None = None
    ext_key_usage: x509.ExtendedKeyUsage | None = None
    requests_ca = False
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            alt_names = AltNames.from_extension(value)
        elif isinstance(value, x509.KeyUsage):
            key_usage = value
        elif isinstance(value, x509.ExtendedKeyUsage):
            ext_key_usage = value
        elif isinstance(value, x509.BasicConstraints):
            requests_ca = value.ca
    return ParsedCSR(
        csr=csr,
        public_key=key,
        common_name=common_name_of(csr.subject),
        alt_names=alt_names,
        key_usage=key_usage,
        ext_key_usage=ext_key_usage,
        requests_ca=requests_ca,
    )


def key_usage_names(usage: x509.KeyUsage) -> list[str]:
    """Vault's names for the bits a KeyUsage extension sets."""
    pairs = (
        ("DigitalSignature", usage.digital_signature), ("ContentCommitment", usage.content_commitment),
        ("KeyEncipherment", usage.key_encipherment), ("DataEncipherment", usage.data_encipherment),
        ("KeyAgreement", usage.key_agreement), ("CertSign", usage.key_cert_sign), ("CRLSign", usage.crl_sign),
    )
    names = [name for name, present in pairs if present]
    if usage.key_agreement:
        # cryptography only lets these be read when keyAgreement is set.
        names += [name for name, present in (("EncipherOnly", usage.encipher_only),
                                             ("DecipherOnly", usage.decipher_only)) if present]
    return names
