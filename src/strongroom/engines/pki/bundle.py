"""Parsing PEM bundles callers import (``config/ca``, ``intermediate/set-signed``) and ordering chains.

Accepted blocks: certificates and unencrypted private keys (PKCS#8, PKCS#1,
SEC 1). CRLs and EC parameter blocks are skipped, as Vault does; anything
else, an encrypted key, or a block that does not parse is a 400 that never
repeats the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from strongroom.errors import InvalidRequest

from .codec import is_self_signed, issued_by
from .keys import IssuerKey, issuer_key

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_SKIPPED_LABELS = ("X509 CRL", "EC PARAMETERS")
MAX_BLOCKS = 64


@dataclass
class Bundle:
    certificates: list[x509.Certificate] = field(default_factory=list)
    keys: list[IssuerKey] = field(default_factory=list, repr=False)


def parse_bundle(text: object, field_name: str) -> Bundle:
    """Every certificate and key in ``text``; a 400 naming ``field_name`` when it holds none or a bad block."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(f"missing {field_name}: a PEM bundle is required")
    bundle = Bundle()
    blocks = list(_BLOCK.finditer(text))
    if not blocks:
        raise InvalidRequest(f"{field_name} holds no PEM blocks")
    if len(blocks) > MAX_BLOCKS:
        raise InvalidRequest(f"{field_name} holds more than {MAX_BLOCKS} PEM blocks")
    for block in blocks:
        label, pem = block.group(1), block.group(0).encode("ascii", "replace")
        if label == "CERTIFICATE":
            try:
                bundle.certificates.append(x509.load_pem_x509_certificate(pem))
            except ValueError:
                raise InvalidRequest(f"a certificate in {field_name} could not be parsed") from None
        elif label in _KEY_LABELS:
            if b"ENCRYPTED" in pem:
                raise InvalidRequest("encrypted private keys are not supported: import the key unencrypted")
            try:
                bundle.keys.append(issuer_key(serialization.load_pem_private_key(pem, password=None)))
            except (ValueError, TypeError):
                raise InvalidRequest(f"a private key in {field_name} could not be parsed") from None
        elif label == "ENCRYPTED PRIVATE KEY":
            raise InvalidRequest("encrypted private keys are not supported: import the key unencrypted")
        elif label not in _SKIPPED_LABELS:
            raise InvalidRequest(f"{field_name} holds an unsupported PEM block (certificates and private keys only)")
    return bundle


def spki(key: CertificatePublicKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key, for comparing keys."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_for(key: IssuerKey, certificates: list[x509.Certificate]) -> x509.Certificate | None:
    """The first certificate whose public key is ``key``'s."""
    wanted = spki(key.public_key())
    for cert in certificates:
        if spki(cert.public_key()) == wanted:
            return cert
    return None


def require_ca(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise InvalidRequest("the certificate is not a CA certificate (basic constraints lack CA:TRUE)")


def build_chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """``leaf`` followed by each parent found in ``pool``, up to a self-signed root or a missing link."""
    chain = [leaf]
    remaining = [cert for cert in pool if cert != leaf]
    current = leaf
    while not is_self_signed(current):
        parent = next((cert for cert in remaining if issued_by(current, cert)), None)
        if parent is None:
            break
        chain.append(parent)
        remaining.remove(parent)
        current = parent
    return chain
