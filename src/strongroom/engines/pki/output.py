"""Response bodies for signed certificates and CSRs in Vault's three formats (pem, der, pem_bundle)."""

from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from strongroom.errors import InvalidRequest

from .codec import cert_b64, cert_pem, is_self_signed
from .keys import IssuerKey, key_type_of, private_key_output
from .serials import format_serial

FORMATS = ("pem", "der", "pem_bundle")
PRIVATE_KEY_FORMATS = ("der", "pkcs8", "")


def check_format(fmt: str, private_key_format: str) -> None:
    if fmt not in FORMATS:
        raise InvalidRequest("invalid format: must be pem, der or pem_bundle")
    if private_key_format not in PRIVATE_KEY_FORMATS:
        raise InvalidRequest("invalid private_key_format: must be der or pkcs8")


def encode_cert(cert: x509.Certificate, fmt: str) -> str:
    return cert_b64(cert) if fmt == "der" else cert_pem(cert)


def certificate_data(
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    fmt: str,
    *,
    key: IssuerKey | None = None,
    private_key_format: str = "der",
    remove_roots: bool = False,
    with_chain: bool = True,
) -> dict[str, Any]:
    """``certificate``, ``issuing_ca``, ``ca_chain``, ``serial_number``, ``expiration`` (+ the key when given).

    ``chain`` is the issuer's chain, issuing CA first. ``pem_bundle`` puts the
    key (if any), the certificate and the chain into ``certificate``.
    """
    shown_chain = [ca for ca in chain if not (remove_roots and is_self_signed(ca))]
    data: dict[str, Any] = {
        "certificate": encode_cert(cert, fmt),
        "issuing_ca": encode_cert(chain[0], fmt) if chain else "",
        "serial_number": format_serial(cert.serial_number),
        "expiration": int(cert.not_valid_after_utc.timestamp()),
    }
    if with_chain:
        data["ca_chain"] = [encode_cert(ca, fmt) for ca in shown_chain]
    if key is not None:
        data["private_key"] = private_key_output(key, fmt, private_key_format or "der")
        data["private_key_type"] = key_type_of(key)
    if fmt == "pem_bundle":
        parts = [data["private_key"]] if key is not None else []
        parts += [cert_pem(cert), *(cert_pem(ca) for ca in shown_chain if ca != cert)]
        data["certificate"] = "\n".join(parts)
    return data


def csr_data(
    csr: x509.CertificateSigningRequest, fmt: str, key: IssuerKey | None, private_key_format: str
) -> dict[str, Any]:
    """The answer of ``intermediate/generate``: the CSR (and, for ``exported``, the key)."""
    if fmt == "der":
        text = base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode("ascii")
    else:
        text = csr.public_bytes(serialization.Encoding.PEM).decode("ascii").strip()
    data: dict[str, Any] = {"csr": text}
    if key is not None:
        data["private_key"] = private_key_output(key, fmt, private_key_format or "der")
        data["private_key_type"] = key_type_of(key)
        if fmt == "pem_bundle":
            data["csr"] = data["private_key"] + "\n" + text
    return data
